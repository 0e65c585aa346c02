import { beforeEach, describe, expect, it, vi } from 'vitest'
import { get } from 'svelte/store'

vi.mock('../backend', () => import('./backendmock'))
import { callMock as call, handlers } from './backendmock'

import { addProject, followProjects, loadProjects, projects } from './projects'

beforeEach(() => {
  handlers.clear()
  call.mockReset()
  projects.set([])
})

describe('projects store', () => {
  it('loads the list through Projects.List', async () => {
    call.mockResolvedValueOnce([{ id: 'a', root: '/a' }])
    expect(await loadProjects()).toEqual([{ id: 'a', root: '/a' }])
    expect(call).toHaveBeenCalledWith('Projects.List')
    expect(get(projects)).toEqual([{ id: 'a', root: '/a' }])
  })

  it('refreshes on the engine\'s "projects" event and stops when unsubscribed', () => {
    const off = followProjects()
    handlers.get('projects')!([{ id: 'b', root: '/b' }])
    expect(get(projects)).toEqual([{ id: 'b', root: '/b' }])
    handlers.get('projects')!(null)
    expect(get(projects)).toEqual([])
    off()
    expect(handlers.has('projects')).toBe(false)
  })

  it('wraps Projects.Add with its path', async () => {
    call.mockResolvedValueOnce({ id: 'c', root: '/c' })
    expect((await addProject('/c')).id).toBe('c')
    expect(call).toHaveBeenCalledWith('Projects.Add', '/c')
  })
})
