// The Activity service over the adapter (lib/backend.ts): the recent file
// changes and the engine's "activity" event, for the Activity view.

import { call, onEvent } from '../backend'

/** recent resolves to the newest changes, oldest first, at most limit. */
export const recent = (limit: number): Promise<any[]> => call<any[]>('Activity.Recent', limit)

/** followActivity calls fn with each batch of changes; it returns the unsubscribe function. */
export function followActivity(fn: (batch: any) => void): () => void {
  return onEvent('activity', fn)
}
