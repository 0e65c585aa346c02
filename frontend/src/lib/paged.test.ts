import { describe, expect, it } from 'vitest'
import { PagedItems } from './paged'

function engine(total: number) {
  const calls: number[] = []
  const fetch = async (offset: number, limit: number) => {
    calls.push(offset)
    const rows = Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, k) => `file ${offset + k}`)
    return { total, rows }
  }
  return { calls, fetch }
}

describe('PagedItems', () => {
  it('fetches the pages on screen once each', async () => {
    const e = engine(100_000)
    let changes = 0
    const p = new PagedItems(e.fetch, 200, 20, () => changes++)
    await p.reset()
    expect(p.total).toBe(100_000)
    expect(p.at(0)).toBe('file 0')
    expect(p.at(250)).toBeUndefined()
    await p.ensure(190, 230)
    expect(p.at(250)).toBe('file 250')
    await p.ensure(190, 230)
    expect(e.calls).toEqual([0, 200])
    expect(changes).toBe(2)
  })
  it('keeps memory bounded while scrolling to the end', async () => {
    const e = engine(100_000)
    const p = new PagedItems(e.fetch, 200, 5)
    await p.reset()
    for (let i = 0; i < 100_000; i += 1000) await p.ensure(i, i + 30, 100)
    expect(p.loaded).toBeLessThanOrEqual(5)
    expect(p.at(99_999)).toBeUndefined()
    await p.ensure(99_990, 100_000)
    expect(p.at(99_999)).toBe('file 99999')
    expect(p.at(0)).toBeUndefined() // dropped: far away
  })
  it('drops answers to an older query', async () => {
    let release: () => void = () => {}
    const slow = new Promise<void>((r) => (release = r))
    let total = 10
    const p = new PagedItems(async (offset) => {
      if (offset === 200) await slow
      return { total, rows: [`q${total} ${offset}`] }
    }, 200)
    await p.reset()
    const late = p.ensure(200, 210)
    total = 500
    await p.reset() // the query changed while page 1 was loading
    release()
    await late
    expect(p.total).toBe(500)
    expect(p.at(200)).toBeUndefined()
    expect(p.at(0)).toBe('q500 0')
  })
  it('refreshes the loaded pages in place', async () => {
    let n = 0
    const p = new PagedItems(async (offset: number) => ({ total: 1000, rows: Array.from({ length: 200 }, (_, k) => `v${n} ${offset + k}`) }), 200)
    await p.reset()
    await p.ensure(400, 420)
    n = 1
    await p.refresh()
    expect(p.at(0)).toBe('v1 0')
    expect(p.at(410)).toBe('v1 410')
    expect(p.indexOf((x) => x === 'v1 410')).toBe(410)
    expect(p.indexOf((x) => x === 'nope')).toBe(-1)
  })
  it('updates a loaded item in place', async () => {
    const e = engine(10)
    const p = new PagedItems(e.fetch, 200)
    await p.reset()
    p.update(3, 'rated')
    expect(p.at(3)).toBe('rated')
  })
})
