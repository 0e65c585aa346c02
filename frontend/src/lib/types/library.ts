// Shapes of the Library service's answers, as the Library store and view use them.

export interface Item {
  path: string
  name: string
  kind: string
  size: number
  modTime: string
  hash: string
  source: string
  status: 'ready' | 'pending' | 'failed' | 'unsupported'
  error?: string
  thumb?: string
  large?: string
  waveform?: string
  peaks?: string
  duration?: number
  width?: number
  height?: number
  lufs?: number
  warnings?: number
}
export interface Target {
  name: string
  lufs: number
  gainDB: number
  peakAfterDB: number
  verdict: string
  note: string
}
export interface Detail extends Item {
  project: string
  audio?: {
    format: string
    codec: string
    sampleRate: number
    channels: number
    bitsPerSample?: number
    samples: number
    duration: number
    bitrate: number
    vbr?: boolean
    encoder?: string
    partial?: boolean
  }
  loudness?: {
    integrated: number
    range: number
    momentaryMax: number
    shortTermMax: number
    samplePeak: number
    clipped: number
    silent?: boolean
    notMeasurable?: string
    targets: Target[]
  }
  image?: { format: string; width: number; height: number; orientation?: number; alpha?: boolean }
  video?: {
    format: string
    container: string
    codec: string
    width: number
    height: number
    rotation?: number
    frameRate?: number
    duration: number
    bitrate?: number
    audioCodec?: string
    sampleRate?: number
    channels?: number
  }
  messages?: string[]
  rendered?: string
  renderMs?: number
  meta?: FileMeta
  marks?: Marks
}
export interface Progress {
  done: number
  total: number
  unit: string
  note?: string
}

/** The marks a creator puts on a file (kept in XMP sidecars too). */
export interface Marks {
  rating: number // 0 unrated, 1..5, -1 rejected
  label?: string
  tags?: string[]
  note?: string
}
/** One file of a Library.Query answer: an Item with its metadata and marks. */
export interface FindRow extends Item {
  project: string
  bpm?: number
  title?: string
  artist?: string
  album?: string
  key?: string
  rating?: number
  label?: string
  tags?: string[]
  note?: string
}
export interface FindPage {
  total: number
  offset: number
  rows: FindRow[]
  ms: number
}
/** An edit of marks: fields left out stay as they are. */
export interface MarkChange {
  rating?: number
  label?: string
  addTags?: string[]
  removeTags?: string[]
  note?: string
}
export interface Collection {
  id: string
  name: string
  query: string
  sort?: string
  project?: string
  count?: number
}

/** What a file says about itself (ID3, Vorbis comments, RIFF/bext/iXML, AIFF, EXIF). */
export interface FileMeta {
  format?: string
  title?: string
  artist?: string
  album?: string
  genre?: string
  year?: number
  comment?: string
  bpm?: number
  key?: string
  copyright?: string
  software?: string
  date?: string
  description?: string
  originator?: string
  originationDate?: string
  originationTime?: string
  timeReference?: number
  ixml?: Record<string, string>
  camera?: string
  lens?: string
  taken?: string
  gps?: boolean
  hasCover?: boolean
}
