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
}
export interface Progress {
  done: number
  total: number
  unit: string
  note?: string
}
