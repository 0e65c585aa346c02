import { describe, expect, it } from 'vitest'
import { Selection, applyMove, gridColumns, keyAction, pages, reveal, rows, slice, type Layout } from './virtual'
import VirtualList from './VirtualList.svelte'

const list: Layout = { columns: 1, rowHeight: 32 }
const grid: Layout = { columns: 5, rowHeight: 188 }

describe('slice', () => {
  it('draws the rows on screen plus the overscan, whatever the count', () => {
    const s = slice(100_000, list, 0, 640, 6)
    expect(s).toEqual({ start: 0, end: 26, offsetY: 0, height: 3_200_000 })
    const mid = slice(100_000, list, 1_600_000, 640, 6)
    expect(mid.start).toBe(50_000 - 6)
    expect(mid.end).toBe(50_000 + 20 + 6)
    expect(mid.offsetY).toBe((50_000 - 6) * 32)
  })
  it('stops at the end, even when scrolled past it', () => {
    const s = slice(100_000, list, 99_999_999, 640, 6)
    expect(s.end).toBe(100_000)
    expect(s.end - s.start).toBe(20 + 6)
  })
  it('lays the grid out in rows of cells', () => {
    expect(gridColumns(960, 168)).toBe(5)
    expect(gridColumns(100, 168)).toBe(1)
    expect(gridColumns(0, 168)).toBe(1)
    expect(rows(100_001, grid)).toBe(20_001)
    const s = slice(100_001, grid, 188 * 1000, 752, 2)
    expect(s.start).toBe(998 * 5)
    expect(s.end).toBe((1000 + 4 + 2) * 5)
    expect(s.offsetY).toBe(998 * 188)
    const last = slice(100_001, grid, 1e12, 752, 2)
    expect(last.end).toBe(100_001) // the last row holds one cell
  })
  it('is empty for nothing', () => {
    expect(slice(0, list, 0, 640)).toEqual({ start: 0, end: 0, offsetY: 0, height: 0 })
  })
})

describe('reveal and pages', () => {
  it('scrolls just enough to show an item', () => {
    expect(reveal(10, list, 0, 640)).toBe(0) // on screen
    expect(reveal(30, list, 0, 640)).toBe(31 * 32 - 640) // below: align the bottom
    expect(reveal(2, list, 320, 640)).toBe(64) // above: align the top
    expect(reveal(12, grid, 0, 376)).toBe(3 * 188 - 376)
  })
  it('asks for the pages that cover the window and its margin', () => {
    expect(pages(0, 26, 100_000, 200)).toEqual([0])
    expect(pages(190, 230, 100_000, 200)).toEqual([0, 1])
    expect(pages(450, 470, 100_000, 200, 100)).toEqual([1, 2])
    expect(pages(99_990, 100_000, 100_000, 200, 300)).toEqual([498, 499])
    expect(pages(0, 0, 100_000, 200)).toEqual([])
  })
})

describe('Selection', () => {
  it('clicks, shift-clicks and ctrl-clicks as a file manager', () => {
    const s = new Selection(100)
    s.click(10)
    expect(s.list()).toEqual([10])
    s.click(14, { shift: true })
    expect(s.list()).toEqual([10, 11, 12, 13, 14])
    s.click(8, { shift: true }) // from the same anchor
    expect(s.list()).toEqual([8, 9, 10])
    s.click(9, { ctrl: true }) // toggled out
    expect(s.list()).toEqual([8, 10])
    s.click(50, { ctrl: true })
    expect(s.list()).toEqual([8, 10, 50])
    s.click(52, { shift: true, ctrl: true }) // extends from the last ctrl-click, keeping the rest
    expect(s.list()).toEqual([8, 10, 50, 51, 52])
    expect(s.cursor).toBe(52)
    s.click(3)
    expect(s.list()).toEqual([3])
    s.click(200) // out of range: ignored
    expect(s.list()).toEqual([3])
  })
  it('moves with the arrows and extends with shift', () => {
    const s = new Selection(20)
    s.move(1) // nothing focused yet: the first item
    expect(s.cursor).toBe(0)
    s.move(5, true)
    expect(s.list()).toEqual([0, 1, 2, 3, 4, 5])
    s.move(-2, true)
    expect(s.list()).toEqual([0, 1, 2, 3])
    s.move(100)
    expect(s.cursor).toBe(19)
    expect(s.list()).toEqual([19])
    s.move(-100)
    expect(s.cursor).toBe(0)
  })
  it('applies to the selection, or to the focused item', () => {
    const s = new Selection(10)
    expect(s.targets()).toEqual([])
    s.click(4)
    s.clear()
    expect(s.targets()).toEqual([4])
    s.all()
    expect(s.targets().length).toBe(10)
    s.resize(3)
    expect(s.list()).toEqual([0, 1, 2])
    expect(s.cursor).toBe(2)
  })
})

describe('keyAction', () => {
  const k = (key: string, mods: Record<string, boolean> = {}) => ({ key, ...mods })
  it('maps arrows by layout', () => {
    expect(keyAction(k('ArrowDown'), list, 19)).toEqual({ type: 'move', delta: 1, extend: false })
    expect(keyAction(k('ArrowDown', { shiftKey: true }), grid, 3)).toEqual({ type: 'move', delta: 5, extend: true })
    expect(keyAction(k('ArrowRight'), list, 19)).toBeNull()
    expect(keyAction(k('ArrowLeft'), grid, 3)).toEqual({ type: 'move', delta: -1, extend: false })
    expect(keyAction(k('PageDown'), grid, 3)).toEqual({ type: 'move', delta: 15, extend: false })
    expect(keyAction(k('End', { shiftKey: true }), list, 19)).toEqual({ type: 'to', index: 'last', extend: true })
  })
  it('plays, opens, rates and labels', () => {
    expect(keyAction(k(' '), list, 19)).toEqual({ type: 'play' })
    expect(keyAction(k('Enter'), list, 19)).toEqual({ type: 'open' })
    for (let r = 0; r <= 5; r++) expect(keyAction(k(String(r)), list, 19)).toEqual({ type: 'rate', rating: r })
    expect(keyAction(k('6'), list, 19)).toEqual({ type: 'label', label: 'Red' })
    expect(keyAction(k('9'), list, 19)).toEqual({ type: 'label', label: 'Blue' })
    expect(keyAction(k('a', { ctrlKey: true }), list, 19)).toEqual({ type: 'selectAll' })
    expect(keyAction(k('a', { metaKey: true }), list, 19)).toEqual({ type: 'selectAll' })
    expect(keyAction(k('3', { ctrlKey: true }), list, 19)).toBeNull() // the app's shortcuts
    expect(keyAction(k('x'), list, 19)).toBeNull()
    expect(keyAction(k('Escape'), list, 19)).toEqual({ type: 'clear' })
  })
  it('runs Home and End on the selection', () => {
    const s = new Selection(50)
    applyMove({ type: 'to', index: 'last', extend: false }, s)
    expect(s.cursor).toBe(49)
    applyMove({ type: 'move', delta: -3, extend: false }, s)
    applyMove({ type: 'to', index: 'first', extend: true }, s)
    expect(s.list().length).toBe(47)
    expect(s.cursor).toBe(0)
  })
})

describe('VirtualList', () => {
  // rendered on the server side (no DOM in these tests): the markup holds
  // the first screen only
  const render = (props: Record<string, unknown>) =>
    (VirtualList as unknown as { render: (p: Record<string, unknown>) => { html: string } }).render(props).html
  const cells = (html: string) => (html.match(/data-index="/g) ?? []).length

  it('keeps the DOM bounded at 100,000 items', () => {
    const html = render({ count: 100_000, viewport: 640, rowHeight: 32, overscan: 6 })
    expect(cells(html)).toBe(26)
    expect(html).toContain('height: 3200000px')
    expect(html).toContain('aria-multiselectable="true"')
  })
  it('draws a grid of cells the same way', () => {
    const html = render({ count: 100_000, mode: 'grid', viewport: 752, width: 960, cellWidth: 168, cellHeight: 188, overscan: 2 })
    expect(cells(html)).toBe((4 + 2) * 5)
    expect(html).toContain('role="grid"')
    expect(html).toContain('repeat(5, minmax(0, 1fr))')
  })
})
