// Formatting shared by every view: the one place that turns numbers, sizes,
// times and ids into text. Views import from here and define no formatter of
// their own.

const unset = (iso: string | null | undefined) => !iso || iso.startsWith('0001-')

/** bytes formats a size for people: "1.5 KiB". */
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

/** when says how long ago a moment was ("3 h ago"), or its date when older than a day. */
export function when(iso: string | null | undefined, now: Date = new Date()): string {
  if (unset(iso)) return '—'
  const t = new Date(iso)
  const s = Math.round((now.getTime() - t.getTime()) / 1000)
  if (s < 5) return 'just now'
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.floor(s / 60)} min ago`
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`
  return t.toLocaleDateString()
}

/** dateTime is a moment's local date and time ("1/2/2026, 10:00:00 AM"); '—' when unset. */
export function dateTime(iso: string | null | undefined): string {
  if (unset(iso)) return '—'
  return new Date(iso).toLocaleString()
}

/** clock is a moment's local time of day; '—' when unset. */
export function clock(iso: string | null | undefined): string {
  if (unset(iso)) return '—'
  return new Date(iso).toLocaleTimeString()
}

/** percent is done of total as a whole percentage, clamped to 0–100 (0 when the total is unknown). */
export function percent(done: number, total: number): number {
  if (!total) return 0
  return Math.max(0, Math.min(100, Math.round((done * 100) / total)))
}

/** rate formats a fraction as a percentage with two decimals: 0.1234 → "12.34%". */
export function rate(v: number): string {
  return (100 * v).toFixed(2) + '%'
}

/** compact formats a count for a chart: 1234 → "1.2k", 56789 → "57k", 2.5e6 → "2.5M". */
export function compact(v: number): string {
  if (Math.abs(v) >= 1e6) return (v / 1e6).toFixed(1) + 'M'
  if (Math.abs(v) >= 1e4) return (v / 1e3).toFixed(0) + 'k'
  if (Math.abs(v) >= 1e3) return (v / 1e3).toFixed(1) + 'k'
  return Number.isInteger(v) ? String(v) : v.toFixed(2)
}

/** duration formats seconds as m:ss ("0:00" when unknown). */
export function duration(s?: number): string {
  if (!s || !isFinite(s)) return '0:00'
  const m = Math.floor(s / 60)
  const sec = Math.floor(s % 60)
  return `${m}:${sec.toString().padStart(2, '0')}`
}

/** eta says how long a running task still needs (a negative estimate is unknown). */
export function eta(s: number): string {
  if (s < 0) return 'estimating…'
  if (s < 1) return 'almost done'
  if (s < 90) return `about ${Math.round(s)} s left`
  return `about ${Math.round(s / 60)} min left`
}

/** level formats a level in unit ("dBFS", "LUFS") with one decimal; '—' for silence or unknown. */
export function level(v: number | undefined, unit: string): string {
  if (v === undefined || v === null || !isFinite(v) || v <= -199) return '—'
  return `${v.toFixed(1)} ${unit}`
}

/** gain formats a change in dB with its sign: "+2.5 dB", "-1.0 dB". */
export function gain(v: number): string {
  return `${v > 0 ? '+' : ''}${v.toFixed(1)} dB`
}

/** bitrate formats bits per second as kb/s. */
export function bitrate(b: number): string {
  return `${Math.round(b / 1000)} kb/s`
}

/** dirname is the folder part of a slash-separated relative path ('' at the top). */
export function dirname(p: string): string {
  const i = p.lastIndexOf('/')
  return i < 0 ? '' : p.slice(0, i)
}

/** shortId is the first 12 characters of a key or content id ('' when absent). */
export function shortId(id: string | undefined | null): string {
  return id ? id.slice(0, 12) : ''
}

/** granularity names a rollup bucket size: 'h' → hour, 'm' → month, else day. */
export function granularity(g: string): string {
  return g === 'h' ? 'hour' : g === 'm' ? 'month' : 'day'
}
