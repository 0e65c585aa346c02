// Formatting shared by every view.

export function bytes(n: number): string {
  if (!n || n < 1024) return `${n || 0} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`
}

export function when(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso || iso.startsWith('0001-')) return '—'
  const t = new Date(iso)
  const s = Math.round((now.getTime() - t.getTime()) / 1000)
  if (s < 5) return 'just now'
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`
  return t.toLocaleDateString()
}

export function percent(done: number, total: number): number {
  if (!total) return 0
  return Math.max(0, Math.min(100, Math.round((done * 100) / total)))
}
