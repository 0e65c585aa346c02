// Shapes of the Library service's answers: the generated models (models.gen.ts,
// from the Go types), with the few fields the views narrow to a union.

import type {
  CollectionInfo,
  Collection as SavedCollection,
  FindPage as GenFindPage,
  FindRow as GenFindRow,
  LibraryItem,
  PreviewDetail,
} from './models.gen'

export type {
  AudioInfo,
  LoudnessReport,
  LoudnessTarget as Target,
  MarkChange,
  Marks,
  Meta as FileMeta,
  ProgressProgress as Progress,
} from './models.gen'

/** What the preview pipeline says of a file (app/preview's Item.Status). */
export type ItemStatus = 'ready' | 'pending' | 'failed' | 'unsupported'

export type Item = Omit<LibraryItem, 'status'> & { status: ItemStatus }
export type Detail = Omit<PreviewDetail, 'status'> & { status: ItemStatus }
/** One file of a Library.Query answer: an Item's facts with its metadata and marks. */
export type FindRow = Omit<GenFindRow, 'status'> & { status: ItemStatus }
export type FindPage = Omit<GenFindPage, 'rows'> & { rows: FindRow[] }
/** A saved query as Library.Collections lists it (with its count). */
export type Collection = CollectionInfo
/** A collection to save: its id is '' for a new one, its time is the engine's. */
export type NewCollection = Omit<SavedCollection, 'created'> & { created?: string }
export type { SavedCollection }
/** A file row of the Library view: a Query row, completed in place by the
 * preview pipeline's ready batches (Items, which add large and error). */
export type Row = FindRow & Partial<Item>
