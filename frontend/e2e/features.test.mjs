// Browser end-to-end tests of a creator's first hour: onboarding with consent
// choices, the Library with real waveforms and thumbnails, the Privacy
// dashboard and a consent toggle that changes what the engine records, and
// accessibility basics. playwright-core drives Debian's chromium against
// `atelier daemon --ui` (the real Go services).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bin, callAPI, eventually, openApp } from './harness.mjs'

const artifacts = process.env.ATELIER_ARTIFACTS || tmpdir()
let app, page, url, work, project

const api = (method, ...args) => callAPI(page, method, ...args)

before(async () => {
  assert.ok(bin, 'ATELIER_BIN must point to the built atelier CLI')
  work = mkdtempSync(join(tmpdir(), 'atelier-features-'))
  // Real media: the demo generator writes WAVs (and an MP3 with lame), a PNG and a JPEG.
  execFileSync(bin, ['demo', join(work, 'demo')], { env: { ...process.env, ATELIER_HOME: join(work, 'demo-home') } })
  project = join(work, 'demo', 'project', 'Night Drive EP')
  app = await openApp(join(work, 'data'))
  ;({ page, url } = app)
})

after(() => app?.close())

test('onboarding: explains, asks each consent with nothing pre-ticked, adds the first project', async () => {
  await page.getByRole('heading', { name: 'Welcome to Atelier' }).waitFor({ timeout: 20000 })
  await page.getByRole('button', { name: 'Continue' }).click()
  const boxes = page.locator('.purpose input[type=checkbox]')
  assert.ok((await boxes.count()) >= 6, 'every purpose is asked')
  for (const box of await boxes.all()) assert.equal(await box.isChecked(), false, 'nothing is pre-ticked')
  await page.getByLabel('Usage analytics on this machine').check()
  await page.screenshot({ path: join(artifacts, 'browser-onboarding.png') })
  await page.getByRole('button', { name: 'Save my choices' }).click()
  await page.getByLabel('First project folder').fill(project)
  await page.getByRole('dialog').getByRole('button', { name: 'Add', exact: true }).click()
  await page.getByRole('heading', { name: 'Library' }).waitFor({ timeout: 20000 })
  const purposes = await api('Privacy.Purposes')
  const state = Object.fromEntries(purposes.map((p) => [p.name, p.granted]))
  assert.equal(state['analytics.local'], true)
  assert.equal(state['sync.cloud'], false)
  assert.equal(state['analytics.share'], false)
})

test('library: real waveforms and thumbnails appear as previews finish', async () => {
  const wave = page.locator('.lib-row[data-path="01 Morning Sketch.wav"] img.wave')
  await wave.waitFor({ timeout: 60000 })
  await page.waitForFunction(() => {
    const imgs = [...document.querySelectorAll('.lib-row img')]
    return imgs.length >= 4 && imgs.every((i) => i.complete && i.naturalWidth > 0)
  }, null, { timeout: 60000 })
  const cover = page.locator('.lib-row[data-path="cover.png"] img')
  assert.ok(await cover.evaluate((i) => i.naturalWidth > 0), 'the cover thumbnail loaded')
  await page.locator('.lib-row[data-path="02 Night Drive.wav"]').click()
  await page.locator('img[alt="Waveform of 02 Night Drive.wav"]').waitFor({ timeout: 60000 })
  await page.getByText(/LUFS/).first().waitFor({ timeout: 30000 })
  await page.screenshot({ path: join(artifacts, 'browser-library.png') })
})

test('privacy: the dashboard charts real events, and withdrawing consent stops recording', async () => {
  await page.getByRole('button', { name: /^Privacy/ }).click()
  await page.getByRole('heading', { name: 'Privacy', exact: true }).waitFor()
  await page.locator('svg.timeseries path.line').waitFor({ timeout: 30000 })
  await page.screenshot({ path: join(artifacts, 'browser-privacy.png') })
  const dropped = async () => (await api('Privacy.Purposes')).find((p) => p.name === 'analytics.local').dropped || 0
  const before = await dropped()
  await page.getByRole('switch', { name: /\(analytics\.local\)/ }).click()
  await page.getByRole('button', { name: 'Withdraw and keep data' }).click()
  await eventually(async () => !(await api('Privacy.Purposes')).find((p) => p.name === 'analytics.local').granted, 'analytics.local withdrawn')
  // Another project added now is an event the engine must drop, not store.
  const second = join(work, 'second')
  mkdirSync(second)
  writeFileSync(join(second, 'a.txt'), 'a')
  await api('Projects.Add', second)
  await eventually(async () => (await dropped()) > before, 'the event after withdrawal dropped and counted')
})

test('sync: add a vault remote, choose a project, sync it, see the version, restore it, limit its bandwidth', async () => {
  await api('Privacy.Grant', 'sync.cloud', 'browser test')
  await page.getByRole('button', { name: /^Sync/ }).first().click()
  await page.getByRole('heading', { name: 'Sync', exact: true }).waitFor()
  const vault = join(work, 'vault')
  await page.getByLabel('Remote name').fill('box')
  await page.getByLabel('Remote URL').fill(`file://${vault}`)
  await page.getByLabel('Vault passphrase').fill('a long passphrase for the browser test')
  await page.getByRole('button', { name: 'Add remote' }).click()
  await page.getByRole('status').filter({ hasText: 'Remote added' }).waitFor({ timeout: 30000 })
  await page.getByLabel('Project', { exact: true }).selectOption({ label: 'Night Drive EP' })
  await page.locator('label:has-text("To") select').selectOption('box')
  const enabled = page.getByLabel('Sync this project in the background')
  if (!(await enabled.isChecked())) await enabled.check()
  await page.getByRole('button', { name: 'Sync now' }).click()
  const snaps = page.getByRole('table', { name: 'Snapshots' })
  await snaps.getByRole('cell', { name: '1', exact: true }).waitFor({ timeout: 60000 })
  await page.screenshot({ path: join(artifacts, 'browser-sync.png') })
  // The vault holds packs and a snapshot, and none of the project's names.
  const objects = execFileSync('find', [vault, '-type', 'f']).toString()
  assert.match(objects, /data\//)
  assert.match(objects, /snapshots\//)
  assert.doesNotMatch(objects, /Night Drive|Morning Sketch/)
  const out = join(work, 'restored')
  await page.getByLabel('Restore folder').fill(out)
  await page.getByRole('button', { name: 'Restore', exact: true }).click()
  await page.getByRole('status').filter({ hasText: /Restored/i }).waitFor({ timeout: 60000 })
  const diff = execFileSync('diff', ['-r', '--exclude=.atelierignore', project, out]).toString()
  assert.equal(diff, '', 'the restored folder equals the project')
  // Settings: the bandwidth limit of a remote changes in place.
  await page.getByRole('button', { name: /^Settings/ }).first().click()
  await page.getByLabel('Bandwidth limit of box in KiB/s').fill('300')
  await page.getByRole('row', { name: /box/ }).getByRole('button', { name: 'Save limit' }).click()
  await page.getByText('box: limited to 300 KiB/s.').waitFor({ timeout: 10000 })
  const box = (await api('Sync.RemoteList')).find((r) => r.name === 'box')
  assert.equal(box.bandwidthKBps, 300)
})

test('accessibility: every control is labelled, focus moves in order, the main text has contrast', async () => {
  for (const view of ['projects', 'activity', 'library', 'modules', 'privacy', 'sync', 'settings']) {
    await page.goto(`${url}&onboarding=skip&view=${view}`)
    await page.waitForTimeout(800)
    const unlabelled = await page.evaluate(() => {
      const name = (el) =>
        el.getAttribute('aria-label') ||
        (el.getAttribute('aria-labelledby') && document.getElementById(el.getAttribute('aria-labelledby'))?.textContent) ||
        (el.id && document.querySelector(`label[for="${el.id}"]`)?.textContent) ||
        el.closest('label')?.textContent ||
        (el.tagName === 'BUTTON' && el.textContent) ||
        el.getAttribute('title') ||
        ''
      return [...document.querySelectorAll('button, input:not([type=hidden]), select, textarea, [role=switch]')]
        .filter((el) => el.offsetParent !== null && !name(el).trim())
        .map((el) => el.outerHTML.slice(0, 120))
    })
    assert.deepEqual(unlabelled, [], `unlabelled controls in ${view}`)
  }
  // Focus order follows the page: Tab visits controls in document order.
  await page.goto(`${url}&onboarding=skip&view=projects`)
  const order = []
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press('Tab')
    order.push(await page.evaluate(() => {
      const all = [...document.querySelectorAll('button, input, select, a[href], [tabindex]')]
      return all.indexOf(document.activeElement)
    }))
  }
  for (let i = 1; i < order.length; i++) assert.ok(order[i] > order[i - 1], `focus went backwards: ${order}`)
  // Contrast of the main text against the background (WCAG AA: 4.5:1).
  const ratio = await page.evaluate(() => {
    const rgb = (s) => s.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number)
    const lum = ([r, g, b]) => {
      const f = (c) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b)
    }
    const body = getComputedStyle(document.body)
    const a = lum(rgb(body.color)), b = lum(rgb(body.backgroundColor))
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)
  })
  assert.ok(ratio >= 4.5, `main text contrast ${ratio.toFixed(2)} is below 4.5:1`)
})
