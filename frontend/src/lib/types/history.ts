// Shapes of the History service's answers (app/history).

export interface Version {
  project: string
  path: string
  snapPath: string
  seq: number
  readSeq: number
  snapshot: string
  time: string
  size: number
  modTime: string
  sha256?: string
  op: 'create' | 'modify' | 'delete' | 'rename' | 'restore'
  from?: string
}

export interface RestoreRequest {
  project: string
  path: string
  at: string
  as?: string
  copy?: boolean
}

export interface RestoreResult {
  project: string
  paths: string[]
  as?: string
  from: number
  before: number
  skipped: number
  version: number
  note?: string
}
