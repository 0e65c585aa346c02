// Shared by the browser suites: start `atelier daemon --ui` on a free loopback
// port with its own data dir, and Debian's chromium through playwright-core.
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { chromium } from 'playwright-core'

export const bin = process.env.ATELIER_BIN
const dist = resolve('dist')

/** startDaemon resolves to { p, url } once the UI is served. */
export function startDaemon(dataDir) {
  return new Promise((ok, fail) => {
    const port = 20000 + Math.floor(Math.random() * 20000)
    const p = spawn(bin, ['--data-dir', dataDir, 'daemon', '--ui', `127.0.0.1:${port}`, '--ui-dir', dist, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    const timer = setTimeout(() => fail(new Error('daemon did not start: ' + out)), 30000)
    p.stdout.on('data', (d) => {
      out += d
      const m = out.match(/UI: (\S+)/)
      if (m) {
        clearTimeout(timer)
        ok({ p, url: m[1] })
      }
    })
    p.stderr.on('data', (d) => (out += d))
    p.on('exit', (code) => fail(new Error(`daemon exited ${code}: ${out}`)))
  })
}

/** launchBrowser starts headless Debian chromium (no browser downloads here). */
export function launchBrowser() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  })
}

// eventually polls fn until it returns a truthy value (UI actions call the
// backend asynchronously: a click returns before its call has landed).
export async function eventually(fn, what, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/**
 * callAPI calls a service method from the page, as the frontend does (the
 * token is in the UI's HttpOnly cookie, sent with same-origin requests).
 */
export function callAPI(page, method, ...args) {
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

/**
 * openApp starts `atelier daemon --ui` on dataDir and opens its UI in a new
 * chromium page (page errors are logged). It resolves to
 * { daemon, url, browser, page, close }; `after(() => app?.close())`.
 */
export async function openApp(dataDir, { height = 850, query = '' } = {}) {
  const started = await startDaemon(dataDir)
  const browser = await launchBrowser()
  const page = await browser.newPage({ viewport: { width: 1300, height } })
  page.on('pageerror', (e) => console.log('PAGEERROR', e.message, e.stack))
  await page.goto(started.url + query)
  return {
    daemon: started.p,
    url: started.url,
    browser,
    page,
    async close() {
      await browser.close()
      started.p.kill('SIGTERM')
    },
  }
}
