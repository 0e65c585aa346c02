// PagedItems holds the pages of a query's answer that the virtual list has
// asked for: it fetches a page once (Library.Query(query, sort, offset,
// limit)), keeps at most maxPages of them (the farthest from the last asked
// range are dropped), and forgets everything when the query changes.

export interface Page<T> {
  total: number
  rows: T[]
}

export type Fetch<T> = (offset: number, limit: number) => Promise<Page<T>>

export class PagedItems<T> {
  total = 0
  private pages = new Map<number, T[]>()
  private loading = new Map<number, Promise<void>>()
  private generation = 0
  private center = 0

  constructor(
    private fetch: Fetch<T>,
    public pageSize = 200,
    public maxPages = 20,
    private onChange: () => void = () => {},
  ) {}

  /** at is item i, or undefined while its page loads. */
  at(i: number): T | undefined {
    return this.pages.get(Math.floor(i / this.pageSize))?.[i % this.pageSize]
  }

  /** loaded is how many pages are in memory. */
  get loaded(): number {
    return this.pages.size
  }

  /** ensure fetches the pages covering [start, end) plus margin items. */
  async ensure(start: number, end: number, margin = 0): Promise<void> {
    const a = Math.max(0, start - margin)
    const b = this.total > 0 ? Math.min(this.total, end + margin) : end + margin
    this.center = Math.floor((start + end) / 2 / this.pageSize)
    const want: Promise<void>[] = []
    for (let p = Math.floor(a / this.pageSize); p * this.pageSize < Math.max(b, a + 1); p++) {
      if (this.pages.has(p)) continue
      want.push(this.load(p))
    }
    await Promise.all(want)
  }

  /** reset forgets every page (a new query or sort) and loads the first. */
  async reset(): Promise<void> {
    this.generation++
    this.pages.clear()
    this.loading.clear()
    this.total = 0
    await this.load(0)
  }

  /** update replaces item i where it is loaded (a file's rating changed). */
  update(i: number, item: T) {
    const page = this.pages.get(Math.floor(i / this.pageSize))
    if (page && i % this.pageSize < page.length) {
      page[i % this.pageSize] = item
      this.onChange()
    }
  }

  /** indexOf finds a loaded item (-1: not loaded). */
  indexOf(pred: (item: T) => boolean): number {
    for (const [p, rows] of this.pages) {
      const k = rows.findIndex(pred)
      if (k >= 0) return p * this.pageSize + k
    }
    return -1
  }

  /** refresh fetches the loaded pages again (files changed, marks changed),
   * keeping what is shown until the new answers arrive. */
  async refresh(): Promise<void> {
    this.generation++
    this.loading.clear()
    const loaded = [...this.pages.keys()]
    if (loaded.length === 0) loaded.push(0)
    await Promise.all(loaded.map((p) => this.load(p)))
  }

  private load(p: number): Promise<void> {
    const busy = this.loading.get(p)
    if (busy) return busy
    const gen = this.generation
    const run = this.fetch(p * this.pageSize, this.pageSize)
      .then((res) => {
        if (gen !== this.generation) return // an older query's answer
        this.total = res.total
        this.pages.set(p, res.rows)
        this.evict()
        this.onChange()
      })
      .finally(() => {
        if (this.loading.get(p) === run) this.loading.delete(p)
      })
    this.loading.set(p, run)
    return run
  }

  private evict() {
    if (this.pages.size <= this.maxPages) return
    const far = [...this.pages.keys()].sort((x, y) => Math.abs(y - this.center) - Math.abs(x - this.center))
    for (const p of far.slice(0, this.pages.size - this.maxPages)) this.pages.delete(p)
  }
}
