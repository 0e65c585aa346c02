// Shapes of the Privacy service's answers, as the Privacy store and view use them.

export type Purpose = {
  name: string
  title: string
  description: string
  policy: string
  policyVersion: string
  policySha256: string
  retentionDays: number
  granted: boolean
  decision: string
  since?: string
  stale: boolean
  dropped: number
}

export type Item = { name: string; value: number }

export type Dash = {
  from: string
  to: string
  source: string
  purpose: string
  granted: boolean
  granularity: string
  metric: string
  total: number
  metrics: Item[] | null
  series: { bucket: string; value: number }[] | null
  top: Item[] | null
  breakdowns: { field: string; items: Item[] }[] | null
  queryMicros: number
}
