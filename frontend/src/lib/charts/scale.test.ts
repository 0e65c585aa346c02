import { describe, expect, it } from 'vitest'
import { clamp, color, linePath, niceMax, palette, sum } from './scale'

describe('chart scale', () => {
  it('niceMax rounds up to a readable maximum', () => {
    expect(niceMax(0)).toBe(1)
    expect(niceMax(7)).toBe(10)
    expect(niceMax(180)).toBe(200)
    expect(niceMax(230)).toBe(250)
    expect(niceMax(4100)).toBe(5000)
  })
  it('color cycles the palette, clamp and sum', () => {
    expect(color(0)).toBe(palette[0])
    expect(color(palette.length + 1)).toBe(palette[1])
    expect(clamp(5, -2, 2)).toBe(2)
    expect(clamp(-5, -2, 2)).toBe(-2)
    expect(sum([{ value: 2 }, { value: 3 }])).toBe(5)
  })
  it('linePath spreads points over the box and closes the area at the baseline', () => {
    const box = { w: 100, h: 50, l: 10, r: 10, t: 0, b: 10 }
    const { pts, line, area, step } = linePath([0, 5, 10], 10, box)
    expect(step).toBe(40)
    expect(pts).toEqual([[10, 40], [50, 20], [90, 0]])
    expect(line).toBe('M10.0,40.0 L50.0,20.0 L90.0,0.0')
    expect(area).toBe('M10.0,40.0 L50.0,20.0 L90.0,0.0 L90.0,40 L10,40 Z')
    expect(linePath([], 1, box)).toEqual({ pts: [], line: '', area: '', step: 0 })
  })
})
