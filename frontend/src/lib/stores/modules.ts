// The Modules service over the adapter (lib/backend.ts): the installed
// modules that the views share and typed wrappers for the calls the views
// make. The views refresh on the engine's "modules" event (followModules).

import { writable } from 'svelte/store'
import { call, onEvent } from '../backend'
import type {
  AuditEntry,
  InstalledModule,
  Key,
  KeyExport,
  KeyInfo,
  ModulesVerifyResult,
  NewProjectResult,
  Panel,
  PresetFolder,
  PresetResult,
  PolicyView,
  RegistryInfo,
  RunFile,
  RunResult,
  SearchHit,
} from '../types/models.gen'

/** The installed modules, as the last Modules.Installed gave them. */
export const installedModules = writable<InstalledModule[]>([])

/** installed fetches the installed modules, publishes them in the store and returns them. */
export async function installed(): Promise<InstalledModule[]> {
  const ms = await call<InstalledModule[]>('Modules.Installed')
  installedModules.set(ms || [])
  return ms
}

/** followModules calls onChange on the engine's "modules" event and onWork on
 * "modules.progress"; it returns the unsubscribe function. */
export function followModules(onChange: () => void, onWork: (w: any) => void): () => void {
  const offs = [onEvent('modules', onChange), onEvent('modules.progress', onWork)]
  return () => offs.forEach((off) => off())
}

export const policy = (): Promise<PolicyView> => call<PolicyView>('Modules.Policy')
export const audit = (limit: number): Promise<AuditEntry[]> => call<AuditEntry[]>('Modules.Audit', limit)
export const keysList = (): Promise<KeyInfo[]> => call<KeyInfo[]>('Modules.KeysList')
export const registries = (): Promise<RegistryInfo[]> => call<RegistryInfo[]>('Modules.Registries')
export const verify = (archive: string): Promise<ModulesVerifyResult> => call<ModulesVerifyResult>('Modules.Verify', archive)
export const search = (query: string): Promise<SearchHit[]> => call<SearchHit[]>('Modules.Search', query)
export const install = (archive: string, consent: boolean): Promise<ModulesVerifyResult> =>
  call<ModulesVerifyResult>('Modules.Install', archive, consent)
export const installByName = (name: string, consent: boolean): Promise<ModulesVerifyResult> =>
  call<ModulesVerifyResult>('Modules.InstallByName', name, consent)
export const registryAdd = (source: string): Promise<RegistryInfo> => call<RegistryInfo>('Modules.RegistryAdd', source)
export const check = (name: string): Promise<InstalledModule> => call<InstalledModule>('Modules.Check', name)
export const remove = (name: string, forget: boolean): Promise<void> => call<void>('Modules.Remove', name, forget)
export const trust = (name: string, pem: string, scopes: any, from: any, until: any): Promise<Key> =>
  call<Key>('Modules.Trust', name, pem, scopes, from, until)
export const revoke = (id: string, reason: string): Promise<void> => call<void>('Modules.Revoke', id, reason)
export const keysGenerate = (name: string, passphrase: string): Promise<KeyInfo> => call<KeyInfo>('Modules.KeysGenerate', name, passphrase)
export const keysExport = (name: string, priv: boolean): Promise<KeyExport> => call<KeyExport>('Modules.KeysExport', name, priv)
/** Runs an installed action on a project folder (or some of its files) in the sandbox. */
export const run = (name: string, project: string, paths: string[]): Promise<RunResult> => call<RunResult>('Modules.Run', name, project, paths)
/** Makes a new project folder from an installed template. */
export const newProject = (template: string, dir: string): Promise<NewProjectResult> => call<NewProjectResult>('Modules.NewProject', template, dir)

/** A request to run an action: the module, the project folder and the
 * selection inside it (empty: the whole project). The run dialog (views/
 * modules/ModuleRun.svelte, mounted once by App) opens on it, from the
 * Modules view, the Library's context menu and the command palette. */
export type RunRequest = { module: InstalledModule; project: string; paths: string[] }
export const runRequest = writable<RunRequest | null>(null)

/** actions are the installed modules that run on a project. */
export const actionsOf = (ms: InstalledModule[]): InstalledModule[] => (ms || []).filter((m) => m.kind === 'action')

/** Stops the runs under way of a module; the run's result then says "cancelled". */
export const runCancel = (name: string): Promise<number> => call<number>('Modules.RunCancel', name)
/** A file a run wrote into its output folder, to show. */
export const runFile = (output: string, path: string): Promise<RunFile> => call<RunFile>('Modules.RunFile', output, path)
/** Shows a run's output folder in the file manager. */
export const runReveal = (output: string): Promise<void> => call<void>('Modules.RunReveal', output)
/** Runs the installed panel modules on the analytics rollups: their charts for the Privacy dashboard. */
export const panels = (): Promise<Panel[]> => call<Panel[]>('Modules.Panels')
/** The folder remembered for a preset module ("" until picked) and its label. */
export const presetFolderOf = (name: string): Promise<PresetFolder> => call<PresetFolder>('Modules.PresetFolderOf', name)
/** Installs a preset module's files into folder ("" = the folder picked before), remembering it. */
export const presetInstall = (name: string, folder: string): Promise<PresetResult> => call<PresetResult>('Modules.PresetInstall', name, folder)
