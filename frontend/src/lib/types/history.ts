// Shapes of the History service's answers: the generated models (models.gen.ts),
// with the version's operation narrowed to the ones app/history writes.

import type { Version as GenVersion } from './models.gen'

export type { HistoryRestoreResult as RestoreResult, RestoreRequest } from './models.gen'

export type Version = Omit<GenVersion, 'op'> & {
  op: 'create' | 'modify' | 'delete' | 'rename' | 'restore'
}
