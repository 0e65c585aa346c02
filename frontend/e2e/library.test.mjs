// Browser end-to-end test of the Library at scale: a project of 100,000
// files (LIBRARY_E2E_FILES) opens, scrolls to its last row, filters with the
// query language, rates a file from the keyboard, saves the search as a
// smart collection (sidebar: count, live update, rename, delete) and finds a
// file from the command palette, while the DOM stays bounded to the rows on
// screen. It prints the first paint and the time to
// the last row (the bench figures). playwright-core drives Debian's
// chromium against `atelier daemon --ui`.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bin, callAPI, eventually, openApp } from './harness.mjs'

const files = Number(process.env.LIBRARY_E2E_FILES || 100000)
const maxRows = 300 // "a few hundred": the rows on screen plus the overscan
let app, page, url, work, project

const api = (method, ...args) => callAPI(page, method, ...args)

const rowsInDOM = () => page.locator('.vlist [data-index]').count()

before(async () => {
  assert.ok(bin, 'ATELIER_BIN must point to the built atelier CLI')
  work = mkdtempSync(join(tmpdir(), 'atelier-library-'))
  project = join(work, 'Sample Vault')
  for (let d = 0; d * 1000 < files; d++) {
    const dir = join(project, `pack ${String(d).padStart(3, '0')}`)
    mkdirSync(dir, { recursive: true })
    for (let i = d * 1000; i < Math.min(files, (d + 1) * 1000); i++) {
      writeFileSync(join(dir, `take-${String(i).padStart(6, '0')}.${i % 10 === 0 ? 'md' : 'txt'}`), `take ${i}\n`)
    }
  }
  app = await openApp(join(work, 'data'))
  ;({ page, url } = app)
})

after(() => app?.close())

test(`library: ${files} files open, scroll to the end, filter and rate with a bounded DOM`, { timeout: 15 * 60 * 1000 }, async () => {
  // the first project, through onboarding
  await page.getByRole('heading', { name: 'Welcome to Atelier' }).waitFor({ timeout: 20000 })
  await page.getByRole('button', { name: 'Continue' }).click()
  await page.getByRole('button', { name: 'Save my choices' }).click()
  await page.getByLabel('First project folder').fill(project)
  await page.getByRole('dialog').getByRole('button', { name: 'Add', exact: true }).click()
  await page.getByRole('heading', { name: 'Library' }).waitFor({ timeout: 10 * 60 * 1000 })
  const id = (await api('Projects.List'))[0].id
  await eventually(async () => (await api('Library.Query', id, '', 'name', 0, 1)).total === files, `${files} files indexed`, 10 * 60 * 1000)

  // first paint: the Library opened afresh on every file
  const lib = new URL(url)
  lib.searchParams.set('view', 'library')
  const t0 = Date.now()
  await page.goto(lib.toString())
  await page.locator('.lib-row[data-path]').first().waitFor({ timeout: 60000 })
  const firstPaint = Date.now() - t0
  await eventually(async () => (await page.locator('.library .head').innerText()).includes(`${files} files`), 'the total shown')
  assert.ok((await rowsInDOM()) <= maxRows, `the DOM holds ${await rowsInDOM()} rows`)

  // to the last row
  const t1 = Date.now()
  await page.locator('.vlist').evaluate((el) => (el.scrollTop = el.scrollHeight))
  const last = `pack ${String(Math.floor((files - 1) / 1000)).padStart(3, '0')}/take-${String(files - 1).padStart(6, '0')}.${(files - 1) % 10 === 0 ? 'md' : 'txt'}`
  await page.locator(`.lib-row[data-path="${last}"]`).waitFor({ timeout: 30000 })
  const toLast = Date.now() - t1
  assert.ok((await rowsInDOM()) <= maxRows, `after scrolling the DOM holds ${await rowsInDOM()} rows`)

  // filter with the query language
  await page.getByLabel('Search files').fill('take-000040 ext:md')
  await eventually(
    async () => (await page.locator('.lib-row[data-path]').count()) === 1,
    async () => `one match (the view shows: ${await page.locator('.library').innerText()})`,
  ).catch(async (e) => {
    throw new Error(`${e.message}; the view shows: ${(await page.locator('.library').innerText()).slice(0, 400)}; rows ${await page.locator('.lib-row[data-path]').count()}`)
  })
  const row = page.locator('.lib-row[data-path="pack 000/take-000040.md"]')
  await row.click()
  // rate it from the keyboard: the list has the focus
  await page.locator('.vlist').focus()
  await page.keyboard.press('4')
  await eventually(async () => (await api('Library.Query', id, 'rating:4', '', 0, 10)).total === 1, 'the rating stored')
  await page.keyboard.press('6') // the red label
  await eventually(async () => (await api('Library.Query', id, 'label:red rating>=4', '', 0, 10)).rows[0]?.path === 'pack 000/take-000040.md', 'the label stored')

  // the search saved as a smart collection, which counts its file
  await page.getByRole('button', { name: 'Save search' }).click()
  await page.getByLabel('Collection name').fill('Take forty')
  await page.getByRole('button', { name: 'Save', exact: true }).click()
  const sidebar = page.getByRole('navigation', { name: 'Smart collections' })
  await eventually(async () => (await sidebar.innerText()).includes('Take forty (1)'), 'the collection listed in the sidebar with its count')
  // it follows the files: a new matching file joins it
  writeFileSync(join(project, 'pack 000', 'take-000040-b.md'), 'take 40 b\n')
  // (indexed first: at 100,000 files the engine may still be busy with the first local-history version)
  await eventually(async () => (await api('Library.Query', id, 'take-000040 ext:md', '', 0, 10)).total === 2, 'the new file indexed', 120000)
  await eventually(async () => (await sidebar.innerText()).includes('Take forty (2)'), async () => `the new file counted (the sidebar shows: ${await sidebar.innerText()})`, 30000)
  // renamed in place
  await sidebar.getByRole('button', { name: 'Rename Take forty' }).click()
  await sidebar.getByLabel('New name of Take forty').fill('Forty')
  await sidebar.getByRole('button', { name: 'Rename', exact: true }).click()
  await eventually(async () => (await sidebar.innerText()).includes('Forty (2)') && !(await sidebar.innerText()).includes('Take forty'), 'the collection renamed')
  // opened from the sidebar: its search in the box
  await page.getByLabel('Search files').fill('')
  await sidebar.getByRole('button', { name: 'Forty (2)' }).click()
  assert.equal(await page.getByLabel('Search files').inputValue(), 'take-000040 ext:md')
  await eventually(async () => (await page.locator('.lib-row[data-path]').count()) === 2, 'the collection\'s two files listed')
  // deleted after a confirmation
  await sidebar.getByRole('button', { name: 'Delete Forty' }).click()
  await page.getByRole('dialog', { name: 'Delete the collection “Forty”?' }).getByRole('button', { name: 'Delete collection' }).click()
  await eventually(async () => !(await sidebar.innerText()).includes('Forty'), 'the collection deleted')
  assert.equal((await api('Library.Collections')).length, 0)

  // the command palette finds files with the query language, over every project
  await page.locator('.vlist').focus()
  await page.keyboard.press('Control+k')
  await page.getByLabel('Search files and commands').fill('take-000040 ext:md rating>=4')
  await page.getByRole('option', { name: /pack 000\/take-000040\.md/ }).waitFor({ timeout: 10000 })
  assert.equal(await page.getByRole('option', { name: /take-000040-b/ }).count(), 0, 'the unrated file does not match rating>=4')
  await page.keyboard.press('Enter')
  await eventually(async () => (await page.getByLabel('Search files').inputValue()) === 'take-000040 ext:md rating>=4', 'the palette\'s search shown in the Library')

  // back to everything, sorted by rating: the rated file first
  await page.getByLabel('Search files').fill('')
  await page.getByLabel('Sort by').selectOption('-rating')
  await page.locator('.vlist [data-index="0"] .lib-row[data-path="pack 000/take-000040.md"]').waitFor({ timeout: 30000 })
  assert.ok((await rowsInDOM()) <= maxRows, `the DOM holds ${await rowsInDOM()} rows`)
  // shift-select three files and tag them in one go
  await page.locator('.vlist [data-index="0"]').click()
  await page.locator('.vlist [data-index="2"]').click({ modifiers: ['Shift'] })
  await page.getByLabel('Tag for the selected files').fill('keepers')
  await page.getByRole('button', { name: 'Add tag' }).click()
  await eventually(async () => (await api('Library.Query', id, 'tag:keepers', '', 0, 10)).total === 3, 'three files tagged')

  // the grid of thumbnails: lazy images, the DOM still bounded
  await page.getByRole('button', { name: 'Grid', exact: true }).click()
  await page.locator('.lib-tile[data-path]').first().waitFor({ timeout: 10000 })
  assert.ok((await rowsInDOM()) <= maxRows, `the grid holds ${await rowsInDOM()} cells`)
  assert.equal(await page.locator('.lib-tile img:not([loading="lazy"])').count(), 0, 'every grid image loads lazily')
  await page.locator('.vlist').evaluate((el) => (el.scrollTop = el.scrollHeight))
  await page.locator(`.vlist [data-index="${files}"] .lib-tile[data-path]`).waitFor({ timeout: 30000 }) // the last of files + take-000040-b.md
  assert.ok((await rowsInDOM()) <= maxRows, `after scrolling the grid holds ${await rowsInDOM()} cells`)

  const status = readFileSync(`/proc/${app.daemon.pid}/status`, 'utf8')
  const kb = (k) => Number((status.match(new RegExp(`${k}:\\s+(\\d+)`)) || [])[1] || 0)
  console.log(`LIBRARY-BENCH files=${files} firstPaintMs=${firstPaint} lastRowMs=${toLast} daemonRssMB=${Math.round(kb('VmRSS') / 1024)} daemonPeakRssMB=${Math.round(kb('VmHWM') / 1024)}`)
})
