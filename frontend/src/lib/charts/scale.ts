// Geometry shared by the charts in lib/charts (plain SVG, no chart library).

/** palette is the series colours, in order; charts cycle through it. */
export const palette = ['var(--accent)', '#3d7ea6', '#6a994e', '#b08900', '#8e5ea2', '#c05c7e', '#5f6f7a', '#2a9d8f']

/** color is the palette colour of the i-th series. */
export function color(i: number): string {
  return palette[i % palette.length]
}

/** niceMax rounds a maximum up to 1, 2, 2.5 or 5 times a power of ten, so axis ticks read well. */
export function niceMax(v: number): number {
  if (v <= 0) return 1
  const p = Math.pow(10, Math.floor(Math.log10(v)))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

/** clamp keeps v within [lo, hi]. */
export function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v))
}

/** sum adds the values of items. */
export function sum(items: { value: number }[]): number {
  return items.reduce((a, b) => a + b.value, 0)
}

export type Box = { w: number; h: number; l: number; r: number; t: number; b: number }

/** linePath lays values out left to right in box and returns the points, the
 * line's path and the closed area under it (empty strings for no values). */
export function linePath(values: number[], max: number, box: Box): { pts: [number, number][]; line: string; area: string; step: number } {
  const step = values.length > 1 ? (box.w - box.l - box.r) / (values.length - 1) : 0
  const pts = values.map((v, i) => [box.l + i * step, box.t + (box.h - box.t - box.b) * (1 - v / max)] as [number, number])
  const line = pts.map((p, i) => `${i ? 'L' : 'M'}${p[0].toFixed(1)},${p[1].toFixed(1)}`).join(' ')
  const area = pts.length ? `${line} L${pts[pts.length - 1][0].toFixed(1)},${box.h - box.b} L${box.l},${box.h - box.b} Z` : ''
  return { pts, line, area, step }
}
