// The History service over the adapter (lib/backend.ts): a file's versions
// and what the Library knows of each, restoring one, the URL that plays one
// without restoring it, a project's timeline, milestones, diffs, past
// folders, deleted files, the budget and the per-project switch.

import { call } from '../backend'
import type {
  BrowseResult,
  Budget,
  BudgetInfo,
  ContentFacts,
  Deleted,
  Diff,
  Milestone,
  RestoreRequest,
  RestoreResult,
  SnapInfo,
  Version,
} from '../types/history'

export const versions = (project: string, path: string): Promise<Version[]> => call<Version[]>('History.Versions', project, path)
/** facts answers the duration, loudness and waveform the Library rendered of contents of path, by SHA-256. */
export const facts = (path: string, sha256: string[]): Promise<Record<string, ContentFacts>> =>
  call<Record<string, ContentFacts>>('History.Facts', path, sha256)
export const restore = (r: RestoreRequest): Promise<RestoreResult> => call<RestoreResult>('History.Restore', r)
export const timeline = (project: string): Promise<SnapInfo[]> => call<SnapInfo[]>('History.Timeline', project)
export const milestones = (project: string): Promise<Milestone[]> => call<Milestone[]>('History.Milestones', project)
/** milestone names the point at ('' = the latest). */
export const milestone = (project: string, name: string, at: string): Promise<Milestone> => call<Milestone>('History.Milestone', project, name, at)
export const removeMilestone = (project: string, name: string): Promise<void> => call<void>('History.RemoveMilestone', project, name)
/** diff compares two points (from '' = the point before to; to '' = the latest). */
export const diff = (project: string, from: string, to: string): Promise<Diff> => call<Diff>('History.Diff', project, from, to)
export const browse = (project: string, at: string, dir: string): Promise<BrowseResult> => call<BrowseResult>('History.Browse', project, at, dir)
export const deleted = (project: string): Promise<Deleted[]> => call<Deleted[]>('History.Deleted', project)
export const budget = (): Promise<BudgetInfo> => call<BudgetInfo>('History.Budget')
export const setBudget = (b: Budget): Promise<BudgetInfo> => call<BudgetInfo>('History.SetBudget', b)
export const setEnabled = (project: string, on: boolean): Promise<void> => call<void>('History.SetEnabled', project, on)

/** versionURL plays version seq of path (served by the engine's /files/ handler, with byte ranges). */
export function versionURL(project: string, path: string, seq: number): string {
  const q = new URLSearchParams({ project, path, at: String(seq) })
  return `/files/?${q.toString()}`
}

/** Day is a day of a timeline: its points, newest first. */
export interface Day {
  day: string // YYYY-MM-DD, local time
  points: SnapInfo[]
}

/** byDay groups a timeline (newest first) by local day. */
export function byDay(points: SnapInfo[]): Day[] {
  const out: Day[] = []
  for (const p of points) {
    const d = new Date(p.time)
    const key = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
    const last = out[out.length - 1]
    if (last && last.day === key) last.points.push(p)
    else out.push({ day: key, points: [p] })
  }
  return out
}
