// The one adapter between the views and the Go services. In the desktop app
// Wails binds one bridge, window.go.api.Bridge.Call("Service.Method", args),
// which runs the same method registry as the local API (Wails v2 cannot bind
// methods that take a context, and long-running ones do); in the browser UI
// (`atelier daemon --ui ADDR`, used by the end-to-end tests) the same methods are
// reached over the local API. Views only ever call `call` and `onEvent`; a
// failed call rejects with an ApiError (lib/errors.ts) in both cases.

import { ApiError, fromReply, type Reply } from './errors'

export { ApiError, isKind, errorMessage } from './errors'

type Listener = (data: any) => void

declare global {
  interface Window {
    go?: any
    runtime?: any
    __ATELIER_TOKEN__?: string
  }
}

// In the browser UI the token travels in an HttpOnly cookie that the server
// sets when its launch URL (/?token=…) is opened: same-origin fetch,
// EventSource and <img>/<audio> requests carry it, and page scripts never
// see it. An embedder that knows the token may still set __ATELIER_TOKEN__,
// sent as a Bearer header.
function authHeaders(): Record<string, string> {
  return window.__ATELIER_TOKEN__ ? { Authorization: `Bearer ${window.__ATELIER_TOKEN__}` } : {}
}

export function isDesktop(): boolean {
  return !!(window.go && window.go.api)
}

/** call invokes "Service.Method" with args and resolves to its result. A
 * failure rejects with an ApiError (lib/errors.ts): the engine's error kind
 * and the message meant for the app, the same through both transports. */
export async function call<T = any>(method: string, ...args: any[]): Promise<T> {
  let body: Reply
  if (isDesktop()) {
    const bridge = window.go.api?.Bridge?.Call
    if (!bridge) throw new ApiError('transport', `${method}: the desktop bridge is not bound in this build`, undefined, method)
    try {
      body = await bridge(method, args)
    } catch (e) {
      throw new ApiError('transport', `${method}: ${String((e as any)?.message ?? e)}`, undefined, method)
    }
  } else {
    let res: Response
    try {
      res = await fetch(`/v1/call/${method}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...authHeaders() },
        credentials: 'same-origin',
        body: JSON.stringify(args),
      })
    } catch (e) {
      throw new ApiError('transport', `${method}: the engine does not answer (${String((e as any)?.message ?? e)})`, undefined, method)
    }
    try {
      body = await res.json()
    } catch {
      throw new ApiError('transport', `${method}: the engine answered HTTP ${res.status} without a JSON body`, undefined, method)
    }
  }
  if (body?.error) throw fromReply(method, body)
  return body?.result as T
}

const listeners = new Map<string, Set<Listener>>()
let source: EventSource | null = null

function dispatch(name: string, data: any) {
  listeners.get(name)?.forEach((fn) => fn(data))
}

/** onEvent subscribes to an engine event; it returns the unsubscribe function. */
export function onEvent(name: string, fn: Listener): () => void {
  if (!listeners.has(name)) {
    listeners.set(name, new Set())
    if (isDesktop() && window.runtime) {
      window.runtime.EventsOn(name, (data: any) => dispatch(name, data))
    }
  }
  listeners.get(name)!.add(fn)
  if (!isDesktop() && !source && typeof EventSource !== 'undefined') {
    source = new EventSource('/v1/events')
    source.onmessage = (m) => {
      try {
        const ev = JSON.parse(m.data)
        dispatch(ev.name, ev.data)
      } catch {
        /* ignore malformed frames */
      }
    }
  }
  return () => listeners.get(name)?.delete(fn)
}

/** throttle calls fn at most once per interval with the latest arguments. */
export function throttle<A extends any[]>(fn: (...a: A) => void, ms: number): (...a: A) => void {
  let last = 0
  let timer: any = null
  let pending: A | null = null
  return (...a: A) => {
    pending = a
    const now = Date.now()
    if (now - last >= ms) {
      last = now
      fn(...a)
      pending = null
    } else if (!timer) {
      timer = setTimeout(() => {
        timer = null
        last = Date.now()
        if (pending) fn(...pending)
        pending = null
      }, ms - (now - last))
    }
  }
}

/** fileURL returns a URL the webview can load for a cached preview or media file
 * (served by the engine's asset handler under /files/). */
export function fileURL(path: string): string {
  return `/files/?path=${encodeURIComponent(path)}`
}
