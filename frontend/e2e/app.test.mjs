// Browser end-to-end tests: playwright-core drives Debian's chromium against
// `atelier daemon --ui`, which serves the built frontend and the real Go
// services. Run by `make test` (through e2e/e2e_test.go).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bin, openApp } from './harness.mjs'

const artifacts = process.env.ATELIER_ARTIFACTS || tmpdir()
let app, page, url, work


before(async () => {
  assert.ok(bin, 'ATELIER_BIN must point to the built atelier CLI')
  work = mkdtempSync(join(tmpdir(), 'atelier-e2e-'))
  app = await openApp(join(work, 'data'), { query: '&onboarding=skip' })
  ;({ page, url } = app)
})

after(() => app?.close())

test('adds a project through the Projects view and indexes it', async () => {
  const proj = join(work, 'Field Recordings')
  mkdirSync(join(proj, 'day1'), { recursive: true })
  writeFileSync(join(proj, 'day1', 'birds.wav'), 'RIFF')
  writeFileSync(join(proj, 'notes.md'), '# notes')
  await page.getByLabel('Project folder path').fill(proj)
  await page.getByRole('button', { name: 'Add', exact: true }).click()
  const row = page.locator('tr[data-project="field-recordings"]')
  await row.waitFor({ timeout: 20000 })
  await assert.doesNotReject(row.locator('td.files', { hasText: '2' }).waitFor({ timeout: 20000 }))
  await page.screenshot({ path: join(artifacts, 'browser-projects.png') })
})

test('shows a new file in the Activity view as it happens', async () => {
  await page.getByRole('button', { name: /^Activity/ }).click()
  writeFileSync(join(work, 'Field Recordings', 'day1', 'rain-take-3.wav'), 'RIFF')
  const item = page.locator('tr.item', { hasText: 'rain-take-3.wav' })
  await item.first().waitFor({ timeout: 20000 })
  assert.equal(await item.first().getAttribute('data-op'), 'create')
  await page.screenshot({ path: join(artifacts, 'browser-activity.png') })
})

test('refuses a folder that does not exist with a clear message', async () => {
  await page.getByRole('button', { name: 'Projects', exact: true }).click()
  await page.getByLabel('Project folder path').fill(join(work, 'nope'))
  await page.getByRole('button', { name: 'Add', exact: true }).click()
  const alert = page.getByRole('alert')
  await alert.waitFor({ timeout: 10000 })
  assert.match(await alert.innerText(), /cannot add .*nope/)
})
