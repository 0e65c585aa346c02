import { beforeEach, describe, expect, it, vi } from 'vitest'

vi.mock('../backend', () => import('./backendmock'))
import { callMock as call } from './backendmock'

import { byDay, diff, facts, restore, setBudget, setEnabled, versionURL, versions } from './history'

beforeEach(() => {
  call.mockReset()
})

describe('history store', () => {
  it('calls History.Versions and History.Restore by name', async () => {
    call.mockResolvedValueOnce([{ seq: 3, op: 'modify' }])
    expect(await versions('Album', 'mix.wav')).toEqual([{ seq: 3, op: 'modify' }])
    expect(call).toHaveBeenCalledWith('History.Versions', 'Album', 'mix.wav')
    call.mockResolvedValueOnce({ from: 3, before: 5 })
    await restore({ project: 'Album', path: 'mix.wav', at: '3', copy: true })
    expect(call).toHaveBeenLastCalledWith('History.Restore', { project: 'Album', path: 'mix.wav', at: '3', copy: true })
  })

  it('plays a version through /files/ with the project, path and version', () => {
    expect(versionURL('My Album', 'stems/a b.wav', 7)).toBe('/files/?project=My+Album&path=stems%2Fa+b.wav&at=7')
  })
})

describe('history store: facts, timeline and budget', () => {
  it('asks History.Facts with the path and the hashes', async () => {
    call.mockResolvedValueOnce({ aa: { duration: 3, lufs: -14 } })
    expect(await facts('mix.wav', ['aa', 'bb'])).toEqual({ aa: { duration: 3, lufs: -14 } })
    expect(call).toHaveBeenCalledWith('History.Facts', 'mix.wav', ['aa', 'bb'])
  })

  it('groups a timeline by local day, newest first, keeping its order', () => {
    const at = (y: number, m: number, d: number, h: number) => new Date(y, m - 1, d, h).toISOString()
    const pts = [
      { seq: 3, time: at(2026, 11, 30, 10) },
      { seq: 2, time: at(2026, 11, 30, 1) },
      { seq: 1, time: at(2026, 11, 28, 23) },
    ] as any[]
    const days = byDay(pts)
    expect(days.map((d) => d.day)).toEqual(['2026-11-30', '2026-11-28'])
    expect(days[0].points.map((p) => p.seq)).toEqual([3, 2])
    expect(days[1].points.map((p) => p.seq)).toEqual([1])
  })

  it('sets the budget and the per-project switch by name', async () => {
    call.mockResolvedValue({})
    await setBudget({ capBytes: 1 << 30, sharePercent: 0 })
    expect(call).toHaveBeenLastCalledWith('History.SetBudget', { capBytes: 1 << 30, sharePercent: 0 })
    await setEnabled('Album', false)
    expect(call).toHaveBeenLastCalledWith('History.SetEnabled', 'Album', false)
    await diff('Album', 'mastering', '')
    expect(call).toHaveBeenLastCalledWith('History.Diff', 'Album', 'mastering', '')
  })
})
