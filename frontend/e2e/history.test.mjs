// Browser end-to-end tests of local history in the desktop app: the Library
// detail panel lists a file's versions and plays one without restoring it,
// A/B keeps the playhead, restore in place keeps what was there as a
// version, the project timeline shows milestones and a diff, and a deleted
// file comes back. playwright-core drives Debian's chromium against
// `atelier daemon --ui` (the real Go services, no consent granted).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bin, callAPI, eventually, openApp } from './harness.mjs'

const artifacts = process.env.ATELIER_ARTIFACTS || tmpdir()
let app, page, url, work, project, id

const api = (method, ...args) => callAPI(page, method, ...args)

/** change rewrites a stretch of samples in the middle of a WAV (its header stays valid). */
function change(file, value) {
  const wav = readFileSync(file)
  for (let i = Math.floor(wav.length / 2); i < Math.floor(wav.length / 2) + 4096; i++) wav[i] = value
  writeFileSync(file, wav)
  return wav
}

before(async () => {
  assert.ok(bin, 'ATELIER_BIN must point to the built atelier CLI')
  work = mkdtempSync(join(tmpdir(), 'atelier-history-'))
  execFileSync(bin, ['demo', join(work, 'demo')], { env: { ...process.env, ATELIER_HOME: join(work, 'demo-home') } })
  project = join(work, 'demo', 'project', 'Night Drive EP')
  app = await openApp(join(work, 'data'))
  ;({ page, url } = app)
  await page.getByRole('heading', { name: 'Welcome to Atelier' }).waitFor({ timeout: 20000 })
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.getByRole('button', { name: 'Save my choices' }).click()
  await page.getByLabel('First project folder').fill(project)
  await page.getByRole('dialog').getByRole('button', { name: 'Add', exact: true }).click()
  await page.getByRole('heading', { name: 'Library' }).waitFor({ timeout: 20000 })
  id = (await api('Projects.List'))[0].id
})

after(() => app?.close())

const name = '02 Night Drive.wav'
const versionRows = () => page.locator('section.versions li')
const player = () => page.locator('section.versions audio')

test('history: a saved change becomes a version in the detail panel, and an old version plays', async () => {
  // The first scan took a version of every file: then the creator saves a change.
  await eventually(async () => (await api('History.Versions', id, name)).length >= 1, 'the first version of the WAV', 120000)
  change(join(project, name), 0)
  await page.locator(`.lib-row[data-path="${name}"]`).click()
  await eventually(async () => (await versionRows().count()) >= 2, 'two versions of the changed WAV in the detail panel', 120000)
  const older = versionRows().nth(1)
  const seq = await older.getAttribute('data-seq')
  await older.getByRole('button', { name: /^Play version/ }).click()
  await eventually(() => player().evaluate((a, s) => a.src.includes(`at=${s}`) && a.src.includes('project=') && a.currentTime > 0.3, seq), 'the old version plays (its URL, the playhead moving)', 20000)
  await page.screenshot({ path: join(artifacts, 'browser-history-versions.png') })
})

test('history: A/B switches between the version and the current file at the same playhead', async () => {
  const older = versionRows().nth(1)
  const seq = await older.getAttribute('data-seq')
  await older.getByRole('button', { name: /^A\/B version/ }).click()
  await eventually(() => player().evaluate((a) => !a.paused && a.currentTime > 1.5), 'a second and a half played', 20000)
  const before = await player().evaluate((a) => ({ t: a.currentTime, src: a.src }))
  assert.ok(before.src.includes(`at=${seq}`) || !before.src.includes('at='), 'one side of A/B plays')
  await page.keyboard.press('b')
  await eventually(() => player().evaluate((a, src) => a.src !== src && a.readyState >= 1 && !a.paused, before.src), 'the other side plays', 20000)
  const after = await player().evaluate((a) => ({ t: a.currentTime, src: a.src }))
  assert.notEqual(after.src, before.src, 'B switched sides')
  assert.ok(after.t >= before.t - 0.05, `the playhead stayed (${before.t} s before, ${after.t} s after)`)
  assert.ok(after.t < before.t + 3, `the playhead did not jump (${before.t} s before, ${after.t} s after)`)
  await player().evaluate((a) => a.pause())
})

test('history: restore in place keeps the pre-restore content as a version', async () => {
  const file = join(project, name)
  const now = readFileSync(file)
  const n = await versionRows().count()
  const oldest = versionRows().nth(n - 1)
  const seq = Number(await oldest.getAttribute('data-seq'))
  await oldest.getByRole('button', { name: /^Restore version/ }).click()
  const dialog = page.getByRole('dialog')
  await dialog.getByText(/kept as a version first/).waitFor()
  await dialog.getByRole('button', { name: 'Restore in place' }).click()
  const status = await page.getByText(/Restored version \d+; what was there is version \d+/).textContent({ timeout: 20000 })
  const before = Number(status.match(/what was there is version (\d+)/)[1])
  assert.notDeepEqual(readFileSync(file), now, 'the file on disk is the old version again')
  const vs = await api('History.Versions', id, name)
  const kept = vs.find((v) => v.seq === before)
  assert.ok(kept, `version ${before} (what was there) is listed`)
  const sha = (await import('node:crypto')).createHash('sha256').update(now).digest('hex')
  assert.equal(kept.sha256, sha, 'the pre-restore content is that version')
  assert.ok(seq < before)
})

test('history: the timeline names a milestone and shows a diff with the loudness change', async () => {
  await page.getByRole('button', { name: /^History/ }).click()
  await page.getByRole('heading', { name: 'History', exact: true }).waitFor()
  const points = page.locator('.point[data-seq]')
  await eventually(async () => (await points.count()) >= 2, 'points in the timeline', 20000)
  // name the point where the WAV had its change (the restore since took it back)
  const changed = (await api('History.Versions', id, name)).find((v) => v.op === 'modify')
  await page.locator(`.point[data-seq="${changed.seq}"]`).getByRole('button', { name: /as a milestone/ }).click()
  await page.getByLabel('Milestone name').fill('sent to mastering')
  await page.getByRole('dialog').getByRole('button', { name: 'Name it' }).click()
  await page.locator('.point .badge', { hasText: 'sent to mastering' }).waitFor({ timeout: 10000 })
  await page.screenshot({ path: join(artifacts, 'browser-history-timeline.png') })
  assert.deepEqual((await api('History.Milestones', id)).map((m) => m.name), ['sent to mastering'])
  // compare the milestone with now: the WAV changed
  await page.getByRole('list', { name: 'Milestones' }).getByRole('button', { name: 'Compare with now' }).click()
  const summary = page.getByLabel('Diff summary')
  await summary.waitFor({ timeout: 10000 })
  const d = await api('History.Diff', id, 'sent to mastering', '')
  assert.ok(d.changed >= 1, 'the API diff has a change')
  await eventually(async () => (await summary.innerText()).includes(`${d.changed} changed`), 'the summary counts the changed files')
  const entry = page.locator(`.entry[data-path="${name}"]`)
  await entry.waitFor()
  const e = d.entries.find((x) => x.path === name)
  assert.equal(e?.status, 'changed', 'the WAV changed since the milestone')
  if (e.lufsDelta != null) assert.match(await entry.innerText(), /LUFS \([+−±]\d+\.\d LU\)/, 'the loudness change is shown')
  else assert.fail(`the Library measured both contents of ${name}: ${JSON.stringify(e)}`)
  await page.screenshot({ path: join(artifacts, 'browser-history-diff.png') })
  // remove the milestone
  await page.getByRole('tab', { name: 'Timeline' }).click()
  await page.getByRole('button', { name: 'Remove milestone sent to mastering' }).click()
  await eventually(async () => (await api('History.Milestones', id)).length === 0, 'the milestone removed')
})

test('history: a deleted file is listed and restores', async () => {
  const gone = 'notes.md'
  const text = readFileSync(join(project, gone))
  rmSync(join(project, gone))
  await page.getByRole('tab', { name: 'Deleted files' }).click()
  const row = page.locator(`.file[data-path="${gone}"]`)
  await row.waitFor({ timeout: 60000 })
  await row.getByRole('button', { name: `Restore ${gone}`, exact: true }).click()
  await page.getByText(`Restored ${gone}`).first().waitFor({ timeout: 20000 })
  assert.deepEqual(readFileSync(join(project, gone)), text, 'the deleted file is back with its content')
  await page.screenshot({ path: join(artifacts, 'browser-history-deleted.png') })
})

test('history: a past state browses as a tree and a file comes back as a copy', async () => {
  await page.getByRole('tab', { name: 'Browse' }).click()
  await page.getByRole('button', { name: 'Open folder stems' }).click()
  const bass = page.locator('.entry[data-path="stems/bass.wav"]')
  await bass.waitFor({ timeout: 10000 })
  await bass.getByRole('button', { name: /as a copy/ }).click()
  const msg = await page.getByText(/Restored stems\/bass.wav as /).textContent({ timeout: 20000 })
  const as = msg.replace(/^.*Restored stems\/bass.wav as /, '').trim()
  assert.deepEqual(readFileSync(join(project, as)), readFileSync(join(project, 'stems/bass.wav')), `the copy ${as} has the file's content`)
})

test('history: Settings shows the budget and turns a project\'s history off and on', async () => {
  await page.getByRole('button', { name: /^Settings/ }).click()
  await page.getByRole('heading', { name: 'Local history' }).waitFor({ timeout: 10000 })
  const sw = page.getByLabel('History of Night Drive EP')
  assert.equal(await sw.isChecked(), true, 'history is on by default')
  await sw.uncheck()
  await eventually(async () => (await api('History.Budget')).projects.find((p) => p.project === id)?.off === true, 'history off for the project')
  await page.getByLabel('History of Night Drive EP').check()
  await eventually(async () => (await api('History.Budget')).projects.find((p) => p.project === id)?.off === false, 'history on again')
  await page.locator('input[type=radio][value=size]').check()
  await page.getByLabel('History cap in GiB').fill('2')
  await page.getByRole('button', { name: 'Save cap' }).click()
  await eventually(async () => (await api('History.Budget')).budget.capBytes === 2 * 2 ** 30, 'the cap saved')
  await page.getByText(/History may use up to 2(\.0+)? GiB/).waitFor()
  await page.screenshot({ path: join(artifacts, 'browser-history-settings.png') })
})

test('history: every control of the History view is labelled', async () => {
  await page.getByRole('button', { name: /^History/ }).click()
  for (const tab of ['Timeline', 'Compare', 'Browse', 'Deleted files']) {
    await page.getByRole('tab', { name: tab }).click()
    await page.waitForTimeout(500)
    const unlabelled = await page.evaluate(() => {
      const name = (el) =>
        el.getAttribute('aria-label') ||
        (el.getAttribute('aria-labelledby') && document.getElementById(el.getAttribute('aria-labelledby'))?.textContent) ||
        el.closest('label')?.textContent ||
        (el.tagName === 'BUTTON' && el.textContent) ||
        el.getAttribute('title') ||
        ''
      return [...document.querySelectorAll('main button, main input:not([type=hidden]), main select, main textarea')]
        .filter((el) => el.offsetParent !== null && !name(el).trim())
        .map((el) => el.outerHTML.slice(0, 120))
    })
    assert.deepEqual(unlabelled, [], `unlabelled controls in History's ${tab}`)
  }
})
