// The Modules service over the adapter (lib/backend.ts): the installed
// modules that the views share and typed wrappers for the calls the views
// make. The views refresh on the engine's "modules" event (followModules).

import { writable } from 'svelte/store'
import { call, onEvent } from '../backend'

/** The installed modules, as the last Modules.Installed gave them. */
export const installedModules = writable<any[]>([])

/** installed fetches the installed modules, publishes them in the store and returns them. */
export async function installed(): Promise<any[]> {
  const ms = await call<any[]>('Modules.Installed')
  installedModules.set(ms || [])
  return ms
}

/** followModules calls onChange on the engine's "modules" event and onWork on
 * "modules.progress"; it returns the unsubscribe function. */
export function followModules(onChange: () => void, onWork: (w: any) => void): () => void {
  const offs = [onEvent('modules', onChange), onEvent('modules.progress', onWork)]
  return () => offs.forEach((off) => off())
}

export const policy = (): Promise<any> => call('Modules.Policy')
export const audit = (limit: number): Promise<any[]> => call<any[]>('Modules.Audit', limit)
export const keysList = (): Promise<any[]> => call<any[]>('Modules.KeysList')
export const registries = (): Promise<any[]> => call<any[]>('Modules.Registries')
export const verify = (archive: string): Promise<any> => call('Modules.Verify', archive)
export const search = (query: string): Promise<any[]> => call<any[]>('Modules.Search', query)
export const install = (archive: string, consent: boolean): Promise<any> => call('Modules.Install', archive, consent)
export const installByName = (name: string, consent: boolean): Promise<any> => call('Modules.InstallByName', name, consent)
export const registryAdd = (source: string): Promise<any> => call('Modules.RegistryAdd', source)
export const check = (name: string): Promise<any> => call('Modules.Check', name)
export const remove = (name: string, forget: boolean): Promise<void> => call<void>('Modules.Remove', name, forget)
export const trust = (name: string, pem: string, scopes: any, from: any, until: any): Promise<any> =>
  call('Modules.Trust', name, pem, scopes, from, until)
export const revoke = (id: string, reason: string): Promise<void> => call<void>('Modules.Revoke', id, reason)
export const keysGenerate = (name: string, passphrase: string): Promise<any> => call('Modules.KeysGenerate', name, passphrase)
export const keysExport = (name: string, priv: boolean): Promise<any> => call('Modules.KeysExport', name, priv)
/** Runs an installed action on a project folder (or some of its files) in the sandbox. */
export const run = (name: string, project: string, paths: string[]): Promise<any> => call('Modules.Run', name, project, paths)
/** Makes a new project folder from an installed template. */
export const newProject = (template: string, dir: string): Promise<any> => call('Modules.NewProject', template, dir)
