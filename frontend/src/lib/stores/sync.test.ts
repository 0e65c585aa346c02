import { beforeEach, describe, expect, it, vi } from 'vitest'
import { get } from 'svelte/store'

vi.mock('../backend', () => import('./backendmock'))
import { callMock as call, handlers } from './backendmock'

import { followSync, loadSyncStatus, pause, resume, syncStatus } from './sync'

beforeEach(() => {
  handlers.clear()
  call.mockReset()
  syncStatus.set(null)
})

describe('sync store', () => {
  it('publishes Sync.Status and each "sync" event to the views', async () => {
    call.mockResolvedValueOnce({ paused: false, remotes: [] })
    await loadSyncStatus()
    expect(call).toHaveBeenCalledWith('Sync.Status')
    expect(get(syncStatus)).toEqual({ paused: false, remotes: [] })

    const seen: any[] = []
    const off = followSync((s) => seen.push(s))
    handlers.get('sync')!({ paused: true, remotes: [{ name: 'nas' }] })
    expect(get(syncStatus).paused).toBe(true)
    expect(seen).toHaveLength(1)
    off()
    expect(handlers.has('sync')).toBe(false)
  })

  it('names Sync.Pause and Sync.Resume', async () => {
    call.mockResolvedValue(null)
    await pause()
    await resume()
    expect(call.mock.calls).toEqual([['Sync.Pause'], ['Sync.Resume']])
  })
})
