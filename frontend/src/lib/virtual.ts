// The arithmetic of the virtualized list and grid (VirtualList.svelte): which
// items are on screen, where they sit, how the keyboard and the mouse move the
// cursor and the selection, and which pages to ask the engine for. Kept free
// of the DOM so it is tested on its own.

/** Layout of the list (one item per row) or of the grid (columns per row). */
export interface Layout {
  columns: number // 1 for the list
  rowHeight: number // px, including any gap
}

/** The slice of items to put in the DOM, and where. */
export interface Slice {
  start: number // first item index (inclusive)
  end: number // last item index (exclusive)
  offsetY: number // px from the top of the content to the first row drawn
  height: number // px of the whole content (what the scrollbar spans)
}

/** gridColumns is how many cells of cellWidth fit in width (at least one). */
export function gridColumns(width: number, cellWidth: number): number {
  if (!(width > 0) || !(cellWidth > 0)) return 1
  return Math.max(1, Math.floor(width / cellWidth))
}

/** rows is how many rows count items take. */
export function rows(count: number, l: Layout): number {
  return Math.ceil(Math.max(0, count) / Math.max(1, l.columns))
}

/** slice is what to draw for a viewport of height px scrolled to scrollTop,
 * with overscan rows above and below: the DOM holds at most
 * (viewport rows + 2 × overscan) × columns items, whatever count is. */
export function slice(count: number, l: Layout, scrollTop: number, viewport: number, overscan = 6): Slice {
  const cols = Math.max(1, l.columns)
  const total = rows(count, l)
  const height = total * l.rowHeight
  if (count <= 0 || l.rowHeight <= 0) return { start: 0, end: 0, offsetY: 0, height: Math.max(0, height) }
  const top = Math.min(Math.max(0, scrollTop), Math.max(0, height - viewport))
  const first = Math.max(0, Math.floor(top / l.rowHeight) - overscan)
  const last = Math.min(total, Math.ceil((top + Math.max(0, viewport)) / l.rowHeight) + overscan)
  return { start: first * cols, end: Math.min(count, last * cols), offsetY: first * l.rowHeight, height }
}

/** reveal returns the scrollTop that brings item index fully into view
 * (unchanged when it already is). */
export function reveal(index: number, l: Layout, scrollTop: number, viewport: number): number {
  const row = Math.floor(index / Math.max(1, l.columns))
  const top = row * l.rowHeight
  const bottom = top + l.rowHeight
  if (top < scrollTop) return top
  if (bottom > scrollTop + viewport) return Math.max(0, bottom - viewport)
  return scrollTop
}

/** pages lists the pages (of size items) that cover [start, end) plus margin
 * items on each side: what to fetch from Library.Query. */
export function pages(start: number, end: number, count: number, size: number, margin = 0): number[] {
  if (count <= 0 || size <= 0 || end <= start) return []
  const a = Math.max(0, start - margin)
  const b = Math.min(count, end + margin)
  const out: number[] = []
  for (let p = Math.floor(a / size); p * size < b; p++) out.push(p)
  return out
}

/** Selection is the set of selected items, the cursor (the focused item) and
 * the anchor a shift-extension starts from. */
export class Selection {
  selected = new Set<number>()
  cursor = -1
  anchor = -1

  constructor(public count = 0) {}

  has(i: number): boolean {
    return this.selected.has(i)
  }

  /** list returns the selected indices in order. */
  list(): number[] {
    return [...this.selected].sort((a, b) => a - b)
  }

  /** click selects as a file manager does: alone, a range from the anchor
   * (shift), or toggled in or out (ctrl or cmd). */
  click(i: number, mods: { shift?: boolean; ctrl?: boolean } = {}) {
    if (i < 0 || i >= this.count) return
    if (mods.shift && this.anchor >= 0) {
      const keep = mods.ctrl ? new Set(this.selected) : new Set<number>()
      this.range(this.anchor, i, keep)
    } else if (mods.ctrl) {
      if (this.selected.has(i)) this.selected.delete(i)
      else this.selected.add(i)
      this.anchor = i
    } else {
      this.selected = new Set([i])
      this.anchor = i
    }
    this.cursor = i
  }

  /** move takes the cursor by delta (clamped); with extend the selection runs
   * from the anchor to it, else it becomes the one selected item. */
  move(delta: number, extend = false) {
    if (this.count <= 0) return
    const from = this.cursor < 0 ? (delta > 0 ? -1 : this.count) : this.cursor
    const to = Math.min(this.count - 1, Math.max(0, from + delta))
    if (extend) {
      if (this.anchor < 0) this.anchor = this.cursor < 0 ? to : this.cursor
      this.range(this.anchor, to, new Set())
      this.cursor = to
    } else {
      this.click(to)
    }
  }

  all() {
    this.selected = new Set(Array.from({ length: this.count }, (_, i) => i))
  }

  clear() {
    this.selected = new Set()
    this.anchor = this.cursor
  }

  /** resize keeps what still exists when the item count changes. */
  resize(count: number) {
    this.count = count
    this.selected = new Set([...this.selected].filter((i) => i < count))
    if (this.cursor >= count) this.cursor = count - 1
    if (this.anchor >= count) this.anchor = count - 1
  }

  /** targets are the items an action applies to: the selection, or the
   * cursor's item when nothing is selected. */
  targets(): number[] {
    if (this.selected.size > 0) return this.list()
    return this.cursor >= 0 ? [this.cursor] : []
  }

  private range(a: number, b: number, into: Set<number>) {
    const [lo, hi] = a < b ? [a, b] : [b, a]
    for (let i = lo; i <= hi; i++) into.add(i)
    this.selected = into
  }
}

/** The colour labels, keyed 6 to 9 as in Lightroom and Bridge. */
export const labelKeys: Record<string, string> = { '6': 'Red', '7': 'Yellow', '8': 'Green', '9': 'Blue' }

export type Action =
  | { type: 'move'; delta: number; extend: boolean }
  | { type: 'to'; index: 'first' | 'last'; extend: boolean }
  | { type: 'play' }
  | { type: 'open' }
  | { type: 'rate'; rating: number }
  | { type: 'label'; label: string }
  | { type: 'selectAll' }
  | { type: 'clear' }

export interface KeyLike {
  key: string
  shiftKey?: boolean
  ctrlKey?: boolean
  metaKey?: boolean
  altKey?: boolean
}

/** keyAction maps a key press to what it does in a list or grid of the given
 * layout, with pageRows rows on screen: arrows move (up/down by a row in the
 * grid), Page Up/Down by a screen, Home/End to the ends, shift extends the
 * selection, space plays, Enter opens, 0-5 rate, 6-9 set a colour label,
 * ctrl/cmd+A selects all, Escape clears. null: not ours. */
export function keyAction(e: KeyLike, l: Layout, pageRows: number): Action | null {
  const cols = Math.max(1, l.columns)
  const extend = !!e.shiftKey
  const mod = e.ctrlKey || e.metaKey
  if (e.altKey) return null
  switch (e.key) {
    case 'ArrowDown':
      return { type: 'move', delta: cols, extend }
    case 'ArrowUp':
      return { type: 'move', delta: -cols, extend }
    case 'ArrowRight':
      return cols > 1 ? { type: 'move', delta: 1, extend } : null
    case 'ArrowLeft':
      return cols > 1 ? { type: 'move', delta: -1, extend } : null
    case 'PageDown':
      return { type: 'move', delta: Math.max(1, pageRows) * cols, extend }
    case 'PageUp':
      return { type: 'move', delta: -Math.max(1, pageRows) * cols, extend }
    case 'Home':
      return { type: 'to', index: 'first', extend }
    case 'End':
      return { type: 'to', index: 'last', extend }
    case ' ':
    case 'Spacebar':
      return mod ? null : { type: 'play' }
    case 'Enter':
      return { type: 'open' }
    case 'Escape':
      return { type: 'clear' }
  }
  if (mod && (e.key === 'a' || e.key === 'A')) return { type: 'selectAll' }
  if (mod) return null
  if (e.key >= '0' && e.key <= '5' && e.key.length === 1) return { type: 'rate', rating: Number(e.key) }
  if (labelKeys[e.key]) return { type: 'label', label: labelKeys[e.key] }
  return null
}

/** apply runs a move action on the selection; other actions are the
 * caller's (play, open, rate, label). It returns whether it handled it. */
export function applyMove(a: Action, sel: Selection): boolean {
  switch (a.type) {
    case 'move':
      sel.move(a.delta, a.extend)
      return true
    case 'to': {
      const target = a.index === 'first' ? 0 : sel.count - 1
      const from = sel.cursor < 0 ? 0 : sel.cursor
      if (sel.cursor < 0 && !a.extend) sel.click(target)
      else sel.move(target - from, a.extend)
      return true
    }
    case 'selectAll':
      sel.all()
      return true
    case 'clear':
      sel.clear()
      return true
  }
  return false
}
