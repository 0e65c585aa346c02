import { describe, it, expect, vi, beforeEach } from 'vitest'
vi.mock('../backend', () => import('./backendmock'))
import { callMock } from './backendmock'
import { run, newProject } from './modules'

describe('modules store: running modules', () => {
  beforeEach(() => callMock.mockReset())

  it('runs an action on a project through Modules.Run', async () => {
    callMock.mockResolvedValue({ outcome: 'ok', report: '2 files\n', files: [{ path: 'summary.txt', size: 8 }] })
    const r = await run('@studio/release-check', '/home/me/EP', [])
    expect(callMock).toHaveBeenCalledWith('Modules.Run', '@studio/release-check', '/home/me/EP', [])
    expect(r.outcome).toBe('ok')
  })

  it('makes a project from a template through Modules.NewProject', async () => {
    callMock.mockResolvedValue({ dir: '/home/me/Ep1', files: ['README.md'] })
    await newProject('@studio/podcast-episode', '/home/me/Ep1')
    expect(callMock).toHaveBeenCalledWith('Modules.NewProject', '@studio/podcast-episode', '/home/me/Ep1')
  })
})
