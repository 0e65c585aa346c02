// The Sync service over the adapter (lib/backend.ts): the sync status that
// the views share, kept current by the engine's "sync" event, and typed
// wrappers for the calls the views make.

import { writable } from 'svelte/store'
import { call, onEvent } from '../backend'
import type { Conflict, SyncStatus } from '../types/models.gen'

/** The last Sync.Status (or "sync" event); null before the first one. */
export const syncStatus = writable<SyncStatus | null>(null)

/** loadSyncStatus fetches the status, publishes it in the store and returns it. */
export async function loadSyncStatus(): Promise<SyncStatus> {
  const s = await call<SyncStatus>('Sync.Status')
  syncStatus.set(s)
  return s
}

/** followSync keeps the store current on the engine's "sync" event and hands
 * each status to fn as well; it returns the unsubscribe function. */
export function followSync(fn?: (s: SyncStatus) => void): () => void {
  return onEvent('sync', (s: SyncStatus) => {
    syncStatus.set(s)
    fn?.(s)
  })
}

export const conflicts = (): Promise<Conflict[]> => call<Conflict[]>('Sync.Conflicts')
export const dismissConflict = (project: string, copy: string): Promise<void> => call<void>('Sync.DismissConflict', project, copy)
export const rules = (project: string): Promise<any> => call('Sync.Rules', project)
export const setRules = (project: string, r: any): Promise<void> => call<void>('Sync.SetRules', project, r)
export const preview = (project: string): Promise<any> => call('Sync.Preview', project)
export const snapshots = (project: string): Promise<any[]> => call<any[]>('Sync.Snapshots', project)
export const runSync = (project: string): Promise<any> => call('Sync.Run', project)
export const pause = (): Promise<void> => call<void>('Sync.Pause')
export const resume = (): Promise<void> => call<void>('Sync.Resume')
export const remoteList = (): Promise<any[]> => call<any[]>('Sync.RemoteList')
export const remoteAdd = (form: any): Promise<any> => call('Sync.RemoteAdd', form)
export const remoteTest = (name: string, passphrase: string): Promise<any> => call('Sync.RemoteTest', name, passphrase)
export const remoteRemove = (name: string): Promise<void> => call<void>('Sync.RemoteRemove', name)
export const remoteSetLimit = (name: string, kibps: number): Promise<any> => call('Sync.RemoteSetLimit', name, kibps)
export const restore = (project: string, to: string, snapshot: string, opts: { overwrite: boolean }): Promise<any> =>
  call('Sync.Restore', project, to, snapshot, opts)
export const verify = (project: string): Promise<any> => call('Sync.Verify', project)
export const repair = (project: string): Promise<any> => call('Sync.Repair', project)
export const prune = (remote: string): Promise<any> => call('Sync.Prune', remote)
