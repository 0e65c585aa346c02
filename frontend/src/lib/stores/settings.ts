// The Settings service over the adapter (lib/backend.ts): the settings that
// the views share and typed wrappers for the calls the views make.

import { writable } from 'svelte/store'
import { call } from '../backend'
import type { Settings } from '../types/models.gen'

/** The last Settings.Get; null before the first one. */
export const settings = writable<Settings | null>(null)

/** loadSettings fetches the settings, publishes them in the store and returns them. */
export async function loadSettings(): Promise<Settings> {
  const s = await call<Settings>('Settings.Get')
  settings.set(s)
  return s
}

/** setPauseOnBattery asks that sync and preview rendering pause while the machine runs on battery. */
export const setPauseOnBattery = (on: boolean): Promise<void> => call<void>('Settings.SetPauseOnBattery', on)
export const setStartAtLogin = (on: boolean): Promise<void> => call<void>('Settings.SetStartAtLogin', on)
/** clearPreviews removes the rendered previews and resolves to the bytes freed. */
export const clearPreviews = (): Promise<number> => call<number>('Settings.ClearPreviews')
export const completeOnboarding = (): Promise<void> => call<void>('Settings.CompleteOnboarding')
