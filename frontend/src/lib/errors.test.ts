import { afterEach, describe, expect, it, vi } from 'vitest'
import { get } from 'svelte/store'
import { call } from './backend'
import { ApiError, attempt, dismiss, errorMessage, isKind, lastError, toApiError } from './errors'

const g = globalThis as any

afterEach(() => {
  delete g.window
  vi.unstubAllGlobals()
})

function desktop(reply: any) {
  const Call = vi.fn(async () => reply)
  g.window = { go: { api: { Bridge: { Call } } } }
  return Call
}

function browser(status: number, body: any) {
  g.window = {}
  const f = vi.fn(async () => ({ status, json: async () => body }))
  vi.stubGlobal('fetch', f)
  return f
}

const refusal = {
  result: null,
  error: 'restore into /x refused, nothing was written: … (`--overwrite`, or "Overwrite" in the Sync view)',
  kind: 'conflict',
  ui: 'Restore into /x refused, nothing was written: the folder is not empty.',
}

describe('call', () => {
  it('resolves to the result through both transports', async () => {
    const Call = desktop({ result: [1, 2] })
    expect(await call('Projects.List', 'a')).toEqual([1, 2])
    expect(Call).toHaveBeenCalledWith('Projects.List', ['a'])
    browser(200, { result: { ok: true } })
    expect(await call('Projects.List')).toEqual({ ok: true })
  })

  for (const [name, setup] of [
    ['desktop', () => desktop(refusal)],
    ['browser', () => browser(409, refusal)],
  ] as const) {
    it(`rejects with a typed ApiError over the ${name} transport`, async () => {
      setup()
      const err = await call('Sync.Restore', 'p', '/x', '', {}).catch((e) => e)
      expect(err).toBeInstanceOf(ApiError)
      expect(err.kind).toBe('conflict')
      expect(err.method).toBe('Sync.Restore')
      expect(err.message).toBe(refusal.ui) // the app's wording, no CLI flags
      expect(err.message).not.toContain('--overwrite')
      expect(err.detail).toBe(refusal.error)
      expect(isKind(err, 'conflict')).toBe(true)
      expect(isKind(err, 'notFound')).toBe(false)
    })
  }

  it('keeps the message when no app wording is sent, and unknown kinds read as internal', async () => {
    browser(404, { error: 'no project "x": see `atelier project list`', kind: 'notFound' })
    const e1 = await call('Projects.Get', 'x').catch((e) => e)
    expect([e1.kind, e1.message]).toEqual(['notFound', 'no project "x": see `atelier project list`'])
    desktop({ error: 'boom', kind: 'weird' })
    const e2 = await call('Library.Query').catch((e) => e)
    expect([e2.kind, e2.message]).toEqual(['internal', 'boom'])
  })

  it('reports transport failures as transport errors', async () => {
    g.window = {}
    vi.stubGlobal('fetch', async () => ({ status: 502, json: async () => { throw new SyntaxError('bad') } }))
    const e = await call('Projects.List').catch((e) => e)
    expect(e.kind).toBe('transport')
    expect(e.message).toContain('HTTP 502')
  })
})

describe('the error store', () => {
  it('normalises, reports and dismisses', async () => {
    expect(toApiError(new Error('x')).kind).toBe('internal')
    expect(errorMessage('plain')).toBe('plain')
    const r = await attempt(async () => {
      throw new ApiError('needsConsent', 'Sync is off.')
    })
    expect(r).toBeUndefined()
    expect(get(lastError)?.kind).toBe('needsConsent')
    dismiss()
    expect(get(lastError)).toBeNull()
    expect(await attempt(async () => 3)).toBe(3)
  })
})
