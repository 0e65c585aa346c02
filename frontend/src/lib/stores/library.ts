// The Library service over the adapter (lib/backend.ts): the render queue
// that the views share, kept current by the engine's "previewProgress"
// event, and typed wrappers for the calls the views make.

import { writable } from 'svelte/store'
import { call, onEvent } from '../backend'
import type { ClipResult, QueueStats } from '../types/models.gen'
import type {
  Collection,
  Detail,
  FindPage,
  Item,
  MarkChange,
  Marks,
  NewCollection,
  Progress,
  SavedCollection,
} from '../types/library'

/** The preview render queue, as the last "previewProgress" event gave it. */
export const previewQueue = writable<Progress | null>(null)

/** followPreviewQueue keeps previewQueue current and hands each progress to
 * fn as well; it returns the unsubscribe function. */
export function followPreviewQueue(fn?: (p: Progress) => void): () => void {
  return onEvent('previewProgress', (p: Progress) => {
    previewQueue.set(p)
    fn?.(p)
  })
}

export const list = (project: string, kind: string): Promise<Item[]> => call<Item[]>('Library.List', project, kind)
export const detail = (project: string, path: string): Promise<Detail> => call<Detail>('Library.Detail', project, path)
/** focus moves the given files to the front of the render queue. */
export const focus = (project: string, paths: string[]): Promise<void> => call<void>('Library.Focus', project, paths)
export const stats = (): Promise<QueueStats> => call<QueueStats>('Library.Stats')
export const clip = (project: string, path: string, start: number, length: number): Promise<ClipResult> =>
  call<ClipResult>('Library.Clip', project, path, start, length)

/** query runs a Library query (kind:audio tag:vocals rating>=4 "night drive"...)
 * over a project ('' = all), sorted (name, date, size, duration, loudness,
 * rating; a leading - for descending), a page of limit files from offset. */
export const query = (project: string, q: string, sort: string, offset: number, limit: number): Promise<FindPage> =>
  call<FindPage>('Library.Query', project, q, sort, offset, limit)
/** mark rates, labels, tags or annotates files; it returns their new marks. */
export const mark = (project: string, paths: string[], change: MarkChange): Promise<Record<string, Marks>> =>
  call<Record<string, Marks>>('Library.Mark', project, paths, change)
export const collections = (): Promise<Collection[]> => call<Collection[]>('Library.Collections')
export const saveCollection = (c: NewCollection): Promise<SavedCollection> => call<SavedCollection>('Library.SaveCollection', c)
export const deleteCollection = (id: string): Promise<void> => call<void>('Library.DeleteCollection', id)
export const tags = (): Promise<Record<string, number>> => call<Record<string, number>>('Library.Tags')
