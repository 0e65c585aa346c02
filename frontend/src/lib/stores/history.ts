// The History service over the adapter (lib/backend.ts): a file's versions,
// restoring one, and the URL that plays one without restoring it.

import { call } from '../backend'
import type { RestoreRequest, RestoreResult, Version } from '../types/history'

export const versions = (project: string, path: string): Promise<Version[]> => call<Version[]>('History.Versions', project, path)
export const restore = (r: RestoreRequest): Promise<RestoreResult> => call<RestoreResult>('History.Restore', r)

/** versionURL plays version seq of path (served by the engine's /files/ handler, with byte ranges). */
export function versionURL(project: string, path: string, seq: number): string {
  const q = new URLSearchParams({ project, path, at: String(seq) })
  return `/files/?${q.toString()}`
}
