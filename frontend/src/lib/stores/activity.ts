// The Activity service over the adapter (lib/backend.ts): the recent file
// changes and the engine's "activity" event, for the Activity view.

import { call, onEvent } from '../backend'
import type { ActivityItem } from '../types/models.gen'

/** recent resolves to the newest changes, oldest first, at most limit. */
export const recent = (limit: number): Promise<ActivityItem[]> => call<ActivityItem[]>('Activity.Recent', limit)

/** followActivity calls fn with each batch of changes; it returns the unsubscribe function. */
export function followActivity(fn: (batch: any) => void): () => void {
  return onEvent('activity', fn)
}
