import { describe, expect, it } from 'vitest'
import { bytes, percent, when } from './format'
import { throttle } from './backend'

describe('bytes', () => {
  it('formats sizes for people', () => {
    expect(bytes(0)).toBe('0 B')
    expect(bytes(1023)).toBe('1023 B')
    expect(bytes(1536)).toBe('1.5 KiB')
    expect(bytes(5 * 1024 * 1024 * 1024)).toBe('5.0 GiB')
  })
})

describe('when', () => {
  it('says how long ago', () => {
    const now = new Date('2026-01-01T12:00:00Z')
    expect(when('2026-01-01T11:59:58Z', now)).toBe('just now')
    expect(when('2026-01-01T11:58:00Z', now)).toBe('2 min ago')
    expect(when('2026-01-01T09:00:00Z', now)).toBe('3 h ago')
    expect(when('0001-01-01T00:00:00Z', now)).toBe('—')
  })
})

describe('percent', () => {
  it('clamps and handles unknown totals', () => {
    expect(percent(5, 10)).toBe(50)
    expect(percent(5, 0)).toBe(0)
    expect(percent(20, 10)).toBe(100)
  })
})

describe('throttle', () => {
  it('delivers the first call at once and the latest after the interval', async () => {
    const seen: number[] = []
    const f = throttle((n: number) => seen.push(n), 30)
    f(1)
    f(2)
    f(3)
    expect(seen).toEqual([1])
    await new Promise((r) => setTimeout(r, 60))
    expect(seen).toEqual([1, 3])
  })
})
