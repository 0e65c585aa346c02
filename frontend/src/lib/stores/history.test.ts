import { beforeEach, describe, expect, it, vi } from 'vitest'

vi.mock('../backend', () => import('./backendmock'))
import { callMock as call } from './backendmock'

import { restore, versionURL, versions } from './history'

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
