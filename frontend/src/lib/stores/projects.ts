// The Projects service over the adapter (lib/backend.ts): the projects list
// that the views share, kept current by the engine's "projects" event, and
// typed wrappers for the calls the views make.

import { writable } from 'svelte/store'
import { call, onEvent } from '../backend'
import type { FileHit, Status } from '../types/models.gen'
import type { ProjectSummary } from '../types/models.gen'

/** A watched project as Projects.List and the "projects" event give it. */
export type Project = ProjectSummary

/** The watched projects, as the last Projects.List or "projects" event gave them. */
export const projects = writable<Project[]>([])

/** loadProjects fetches the list, publishes it in the store and returns it. */
export async function loadProjects(): Promise<Project[]> {
  const ps = (await call<Project[]>('Projects.List')) || []
  projects.set(ps)
  return ps
}

/** followProjects keeps the store current on the engine's "projects" event;
 * it returns the unsubscribe function (return it from onMount). */
export function followProjects(): () => void {
  return onEvent('projects', (ps: Project[]) => projects.set(ps || []))
}

export function addProject(path: string): Promise<Project> {
  return call<Project>('Projects.Add', path)
}

export function removeProject(id: string): Promise<void> {
  return call<void>('Projects.Remove', id)
}

/** pickFolder opens the desktop folder picker; '' when cancelled. */
export function pickFolder(): Promise<string> {
  return call<string>('Projects.PickFolder')
}

export function projectsStatus(): Promise<Status> {
  return call<Status>('Projects.Status')
}

export function searchFiles(q: string, limit: number): Promise<FileHit[]> {
  return call<FileHit[]>('Projects.Search', q, limit)
}
