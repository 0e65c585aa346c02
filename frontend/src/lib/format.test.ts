import { describe, expect, it } from 'vitest'
import {
  bitrate,
  bytes,
  clock,
  compact,
  dateTime,
  dirname,
  duration,
  eta,
  gain,
  granularity,
  level,
  percent,
  rate,
  shortId,
  when,
} from './format'
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

describe('dateTime and clock', () => {
  it('give the local date and time, and a dash when unset', () => {
    const iso = '2026-01-02T10:00:00Z'
    expect(dateTime(iso)).toBe(new Date(iso).toLocaleString())
    expect(clock(iso)).toBe(new Date(iso).toLocaleTimeString())
    expect(dateTime('0001-01-01T00:00:00Z')).toBe('—')
    expect(dateTime('')).toBe('—')
    expect(clock(undefined)).toBe('—')
  })
  it('differs from when, which is relative', () => {
    const now = new Date('2026-01-01T12:00:00Z')
    expect(when('2026-01-01T11:58:00Z', now)).not.toBe(dateTime('2026-01-01T11:58:00Z'))
  })
})

describe('numbers', () => {
  it('rate is a percentage with two decimals', () => {
    expect(rate(0.1234)).toBe('12.34%')
    expect(rate(-0.005)).toBe('-0.50%')
  })
  it('compact shortens counts for charts', () => {
    expect(compact(12)).toBe('12')
    expect(compact(1.5)).toBe('1.50')
    expect(compact(1234)).toBe('1.2k')
    expect(compact(56789)).toBe('57k')
    expect(compact(2_500_000)).toBe('2.5M')
  })
  it('duration and eta', () => {
    expect(duration(0)).toBe('0:00')
    expect(duration(Infinity)).toBe('0:00')
    expect(duration(65.9)).toBe('1:05')
    expect(eta(-1)).toBe('estimating…')
    expect(eta(0.5)).toBe('almost done')
    expect(eta(42)).toBe('about 42 s left')
    expect(eta(600)).toBe('about 10 min left')
  })
  it('levels, gains and bitrates', () => {
    expect(level(-14.04, 'LUFS')).toBe('-14.0 LUFS')
    expect(level(-200, 'dBFS')).toBe('—')
    expect(level(undefined, 'dBFS')).toBe('—')
    expect(gain(2.46)).toBe('+2.5 dB')
    expect(gain(-1)).toBe('-1.0 dB')
    expect(bitrate(320000)).toBe('320 kb/s')
  })
})

describe('names', () => {
  it('dirname, shortId and granularity', () => {
    expect(dirname('a/b/c.wav')).toBe('a/b')
    expect(dirname('c.wav')).toBe('')
    expect(shortId('0123456789abcdef')).toBe('0123456789ab')
    expect(shortId(undefined)).toBe('')
    expect(granularity('h')).toBe('hour')
    expect(granularity('m')).toBe('month')
    expect(granularity('d')).toBe('day')
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
