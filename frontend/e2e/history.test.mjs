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
import { bin, eventually, launchBrowser, startDaemon } from './harness.mjs'

const artifacts = process.env.ATELIER_ARTIFACTS || tmpdir()
let daemon, browser, page, url, work, project, id

async function api(method, ...args) {
  return page.evaluate(
    async ([m, a]) => {
      const r = await fetch(`/v1/call/${m}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(a) })
      const b = await r.json()
      if (b.error) throw new Error(b.error)
      return b.result
    },
    [method, args],
  )
}

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
  const started = await startDaemon(join(work, 'data'))
  daemon = started.p
  url = started.url
  browser = await launchBrowser()
  page = await browser.newPage({ viewport: { width: 1300, height: 850 } })
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message))
  await page.goto(url)
  await page.getByRole('heading', { name: 'Welcome to Atelier' }).waitFor({ timeout: 20000 })
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.getByRole('button', { name: 'Save my choices' }).click()
  await page.getByLabel('First project folder').fill(project)
  await page.getByRole('dialog').getByRole('button', { name: 'Add', exact: true }).click()
  await page.getByRole('heading', { name: 'Library' }).waitFor({ timeout: 20000 })
  id = (await api('Projects.List'))[0].id
})

after(async () => {
  await browser?.close()
  daemon?.kill('SIGTERM')
})

const name = '02 Night Drive.wav'
const versionRows = () => page.locator('section.versions li')
const player = () => page.locator('section.versions audio')

test('history: a saved change becomes a version in the detail panel, and an old version plays', async () => {
  // The first scan took a version of every file: then the creator saves a change.
  await eventually(async () => (await api('History.Versions', id, name)).length >= 1, 'the first version of the WAV', 60000)
  change(join(project, name), 0)
  await page.locator(`.lib-row[data-path="${name}"]`).click()
  await eventually(async () => (await versionRows().count()) >= 2, 'two versions of the changed WAV in the detail panel', 60000)
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
