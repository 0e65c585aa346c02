// The Privacy service over the adapter (lib/backend.ts): the consent
// purposes that the views share and typed wrappers for the calls the views
// make. The views refresh on the engine's "privacy" event (followPrivacy).

import { writable } from 'svelte/store'
import { call, onEvent } from '../backend'
import type {
  EraseResult,
  Experiment,
  ExperimentResult,
  ExportResult,
  ImportResult,
  LedgerRecord,
  NewExperiment,
  PrivacyVerifyResult,
} from '../types/models.gen'
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

export const history = (purpose: string): Promise<LedgerRecord[]> => call<LedgerRecord[]>('Privacy.History', purpose)
export const verifyLedger = (): Promise<PrivacyVerifyResult> => call<PrivacyVerifyResult>('Privacy.VerifyLedger')
export const grant = (purpose: string, source: string): Promise<void> => call<void>('Privacy.Grant', purpose, source)
export const deny = (purpose: string, source: string): Promise<void> => call<void>('Privacy.Deny', purpose, source)
export const withdrawAt = (purpose: string, source: string, erase: boolean): Promise<LedgerRecord> =>
  call<LedgerRecord>('Privacy.WithdrawAt', purpose, source, erase)
export const erase = (purpose: string): Promise<EraseResult> => call<EraseResult>('Privacy.Erase', purpose)
export const exportData = (dir: string): Promise<ExportResult> => call<ExportResult>('Privacy.Export', dir)
export const track = (event: string, props: Record<string, any>): Promise<void> => call<void>('Privacy.Track', event, props)
export const dashboard = <T = any>(q: { from: any; to: any; source: any; metric: any }): Promise<T> => call<T>('Privacy.Dashboard', q)
export const importAudience = (path: string, opts: { platform: string; dateFormat: string }): Promise<ImportResult> =>
  call<ImportResult>('Privacy.ImportAudience', path, opts)
export const audiencePlatforms = (): Promise<string[]> => call<string[]>('Privacy.AudiencePlatforms')
export const experimentList = (): Promise<ExperimentResult[]> => call<ExperimentResult[]>('Privacy.ExperimentList')
export const experimentCreate = (x: NewExperiment): Promise<Experiment> => call<Experiment>('Privacy.ExperimentCreate', x)
/** experimentStop stops an experiment; keep names the variant kept, '' rolls back. */
export const experimentStop = (id: string, keep: string, note: string): Promise<Experiment> =>
  call<Experiment>('Privacy.ExperimentStop', id, keep, note)
