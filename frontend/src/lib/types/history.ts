// Shapes of the History service's answers: the generated models (models.gen.ts),
// with the version's operation narrowed to the ones app/history writes.

import type { Version as GenVersion } from './models.gen'

export type {
  BrowseResult,
  Budget,
  BudgetInfo,
  ContentFacts,
  Deleted,
  Diff,
  DiffEntry,
  Entry,
  HistoryRestoreResult as RestoreResult,
  Milestone,
  ProjectUsage,
  RestoreRequest,
  SnapInfo,
} from './models.gen'

export type Version = Omit<GenVersion, 'op'> & {
  op: 'create' | 'modify' | 'delete' | 'rename' | 'restore'
}
