// The Privacy service over the adapter (lib/backend.ts): the consent
// purposes that the views share and typed wrappers for the calls the views
// make. The views refresh on the engine's "privacy" event (followPrivacy).

import { writable } from 'svelte/store'
import { call, onEvent } from '../backend'
import type { Purpose } from '../types/privacy'

/** The purposes and their consent, as the last Privacy.Purposes gave them. */
export const purposes = writable<Purpose[]>([])

/** loadPurposes fetches the purposes, publishes them in the store and returns them. */
export async function loadPurposes(): Promise<Purpose[]> {
  const ps = await call<Purpose[]>('Privacy.Purposes')
  purposes.set(ps || [])
  return ps
}

/** followPrivacy calls fn on the engine's "privacy" event; it returns the unsubscribe function. */
export function followPrivacy(fn: (data: any) => void): () => void {
  return onEvent('privacy', fn)
}

export const history = (purpose: string): Promise<any[]> => call<any[]>('Privacy.History', purpose)
export const verifyLedger = (): Promise<any> => call('Privacy.VerifyLedger')
export const grant = (purpose: string, source: string): Promise<void> => call<void>('Privacy.Grant', purpose, source)
export const deny = (purpose: string, source: string): Promise<void> => call<void>('Privacy.Deny', purpose, source)
export const withdrawAt = (purpose: string, source: string, erase: any): Promise<any> => call('Privacy.WithdrawAt', purpose, source, erase)
export const erase = (target: any): Promise<any> => call<any>('Privacy.Erase', target)
export const exportData = (dir: string): Promise<any> => call<any>('Privacy.Export', dir)
export const track = (event: string, props: Record<string, any>): Promise<void> => call<void>('Privacy.Track', event, props)
export const dashboard = <T = any>(q: { from: any; to: any; source: any; metric: any }): Promise<T> => call<T>('Privacy.Dashboard', q)
export const importAudience = (path: string, opts: { platform: string; dateFormat: string }): Promise<any> =>
  call('Privacy.ImportAudience', path, opts)
export const audiencePlatforms = (): Promise<any> => call('Privacy.AudiencePlatforms')
export const experimentList = (): Promise<any[]> => call<any[]>('Privacy.ExperimentList')
export const experimentCreate = (x: any): Promise<any> => call('Privacy.ExperimentCreate', x)
/** experimentStop stops an experiment; keep names the variant kept, '' rolls back. */
export const experimentStop = (id: string, keep: string, note: string): Promise<any> => call('Privacy.ExperimentStop', id, keep, note)
