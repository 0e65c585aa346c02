/** visibleRows tracks which rows (elements with a data-path) are on screen or
 * within 200 px of it, and calls onChange with their paths whenever that set
 * changes. observe starts over with the rows that match selector now. */
export function visibleRows(onChange: (visible: Set<string>) => void) {
  let observer: IntersectionObserver | null = null
  const visible = new Set<string>()
  return {
    observe(selector: string) {
      if (typeof IntersectionObserver === 'undefined') return
      observer?.disconnect()
      visible.clear()
      observer = new IntersectionObserver(
        (entries) => {
          for (const e of entries) {
            const p = (e.target as HTMLElement).dataset.path || ''
            if (e.isIntersecting) visible.add(p)
            else visible.delete(p)
          }
          onChange(visible)
        },
        { rootMargin: '200px' },
      )
      document.querySelectorAll(selector).forEach((el) => observer!.observe(el))
    },
    disconnect() {
      observer?.disconnect()
    },
  }
}
