// Browser end-to-end test of modules: the demo's signed first-party modules
// are listed; the release check runs on the demo project from the Modules
// view and from the Library's context menu and shows its report; a run of a
// module that loops forever is cancelled from the dialog and says
// "cancelled"; the listening panel draws on the Privacy dashboard.
// playwright-core drives Debian's chromium against `atelier daemon --ui`.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { bin, callAPI, eventually, openApp } from './harness.mjs'

const artifacts = process.env.ATELIER_ARTIFACTS || tmpdir()
let app, page, url, work, home, project

const api = (method, ...args) => callAPI(page, method, ...args)

// spinModule builds, signs with the demo's studio key and installs a module
// that loops forever (no data dir daemon yet: the CLI opens the engine).
function spinModule() {
  const src = join(work, 'spin')
  mkdirSync(src, { recursive: true })
  writeFileSync(join(src, 'go.mod'), 'module spin\n\ngo 1.26\n')
  writeFileSync(join(src, 'main.go'), 'package main\n\nfunc main() {\n\tn := 0\n\tfor {\n\t\tn++\n\t}\n}\n')
  execFileSync('go', ['build', '-o', 'main.wasm', '.'], { cwd: src, env: { ...process.env, GOOS: 'wasip1', GOARCH: 'wasm', CGO_ENABLED: '0', GOFLAGS: '' } })
  rmSync(join(src, 'main.go'))
  rmSync(join(src, 'go.mod'))
  writeFileSync(
    join(src, 'atelier-module.json'),
    JSON.stringify({ name: '@studio/spin', version: '1.0.0', kind: 'action', description: 'Loops forever (a test of Cancel).', license: 'MIT', author: 'test', permissions: ['script:run', 'project:read'] }),
  )
  const env = { ...process.env, ATELIER_PASSPHRASE: 'atelier-demo-studio' }
  const archive = join(work, 'spin.tgz')
  execFileSync(bin, ['--data-dir', home, 'module', 'pack', src, '-o', archive], { env })
  execFileSync(bin, ['--data-dir', home, 'module', 'sign', archive, '--key', 'studio'], { env })
  execFileSync(bin, ['--data-dir', home, 'module', 'install', archive, '--approve', '--yes'], { env })
}

before(async () => {
  assert.ok(bin, 'ATELIER_BIN must point to the built atelier CLI')
  work = mkdtempSync(join(tmpdir(), 'atelier-modules-'))
  const ws = join(work, 'demo')
  home = join(ws, 'home', 'data') // ATELIER_HOME=WORKSPACE/home keeps its data dir in data/
  // The demo workspace: the project, the studio key, the signed first-party
  // modules (staged by `make modules` beside the CLI) installed.
  execFileSync(bin, ['demo', '--modules', join(dirname(bin), 'modules'), ws], { env: { ...process.env } })
  project = join(ws, 'project', 'Night Drive EP')
  spinModule()
  app = await openApp(home, { height: 900 })
  ;({ page, url } = app)
})

after(() => app?.close())

function view(name) {
  const u = new URL(url)
  u.searchParams.set('view', name)
  u.searchParams.set('onboarding', 'skip')
  return page.goto(u.toString())
}

test('the demo modules are listed, signed by the studio', async () => {
  await view('modules')
  for (const name of ['@studio/release-check', '@studio/loudness-report', '@studio/podcast-episode', '@studio/listening-panel']) {
    await page.getByText(name, { exact: true }).first().waitFor({ timeout: 15000 })
  }
})

test('run the release check on the demo project and see its report and files', async () => {
  await view('modules')
  await page.getByRole('button', { name: 'Run @studio/release-check' }).click()
  const dialog = page.getByRole('dialog', { name: 'Run @studio/release-check' })
  await dialog.getByLabel('Project to run on').selectOption({ label: 'Night Drive EP' }).catch(() => {})
  await dialog.getByRole('button', { name: 'Run', exact: true }).click()
  const report = dialog.getByLabel('Report')
  await report.waitFor({ timeout: 60000 })
  assert.match(await report.innerText(), /Release check: (ready|\d+ problem\(s\)) in \d+ masters|Release check: ready/)
  assert.equal(await dialog.getByLabel('Outcome').getAttribute('data-outcome'), 'ok')
  await page.screenshot({ path: join(artifacts, 'browser-module-run.png') })
  await dialog.getByRole('button', { name: 'Done' }).click()
  const audit = await api('Modules.Audit', 5)
  assert.ok(audit.some((a) => a.action === 'run' && a.subject === '@studio/release-check' && a.outcome === 'ok'), 'the run is in the audit log')
})

test('run the loudness report from the command palette and open its CSV', async () => {
  await view('modules')
  await page.keyboard.press('Control+k')
  await page.getByLabel('Search files and commands').fill('Run @studio/loudness-report on')
  await page.getByRole('option').filter({ hasText: 'Run @studio/loudness-report on Night Drive EP' }).first().getByRole('button').click()
  const dialog = page.getByRole('dialog', { name: 'Run @studio/loudness-report' })
  await dialog.getByRole('button', { name: 'Run', exact: true }).click()
  await dialog.getByLabel('Report').waitFor({ timeout: 60000 })
  assert.match(await dialog.getByLabel('Report').innerText(), /audio files measured/)
  await dialog.getByRole('button', { name: 'loudness.csv' }).click()
  await dialog.getByRole('region', { name: 'File loudness.csv' }).getByRole('cell').first().waitFor({ timeout: 10000 })
  await dialog.getByRole('button', { name: 'Done' }).click()
})

test('run the release check on files selected in the Library, from its context menu', async () => {
  await view('projects')
  await page.getByRole('button', { name: 'Open Night Drive EP in the library' }).click()
  const row = page.locator('.vlist [data-index]').filter({ hasText: '.wav' }).first()
  await row.waitFor({ timeout: 60000 })
  await row.click()
  await row.click({ button: 'right' })
  await page.getByRole('menu', { name: 'File actions' }).getByRole('menuitem', { name: /^Run @studio\/release-check on / }).click()
  const dialog = page.getByRole('dialog', { name: 'Run @studio/release-check' })
  assert.match(await dialog.innerText(), /It reads 1 selected file/)
  await dialog.getByRole('button', { name: 'Run', exact: true }).click()
  const report = dialog.getByLabel('Report')
  await report.waitFor({ timeout: 60000 })
  assert.match(await report.innerText(), /Release check: .*1 masters?/)
  await dialog.getByRole('button', { name: 'Done' }).click()
})

test('a run of a module that loops is cancelled and says so', async () => {
  await view('modules')
  await page.getByRole('button', { name: 'Run @studio/spin' }).click()
  const dialog = page.getByRole('dialog', { name: 'Run @studio/spin' })
  await dialog.getByRole('button', { name: 'Run', exact: true }).click()
  await dialog.getByRole('status', { name: 'Run under way' }).waitFor({ timeout: 10000 })
  await new Promise((r) => setTimeout(r, 500))
  await dialog.getByRole('button', { name: 'Cancel run' }).click()
  const outcome = dialog.getByLabel('Outcome')
  await outcome.waitFor({ timeout: 15000 })
  assert.equal(await outcome.getAttribute('data-outcome'), 'cancelled')
  assert.match(await outcome.innerText(), /Cancelled.*stopped by you/)
  await dialog.getByRole('button', { name: 'Done' }).click()
})

test('the listening panel draws on the Privacy dashboard', async () => {
  await view('privacy')
  const panel = page.locator('.panel[data-module="@studio/listening-panel"]')
  await panel.waitFor({ timeout: 30000 }).catch(async (e) => {
    throw new Error(`${e.message}\nthe panels section says: ${await page.getByRole('region', { name: 'Module panels' }).innerText().catch(() => '(no section)')}`)
  })
  // A chart, or "nothing to draw yet" on a fresh install: either way the module ran.
  await eventually(async () => (await panel.locator('svg[role=img]').count()) > 0 || (await panel.getByText('Nothing to draw yet.').count()) > 0, 'the panel drew')
  const panels = await api('Modules.Panels')
  const p = panels.find((x) => x.module === '@studio/listening-panel')
  assert.equal(p.outcome, 'ok', JSON.stringify(p))
  assert.equal(p.chart.type, 'bar')
  await page.screenshot({ path: join(artifacts, 'browser-module-panel.png') })
})
