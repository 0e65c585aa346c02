// The Sync view's selection rules as text: one pattern per line, and a folder
// unchecked in the tree is an exclude pattern "/path/".

/** lines splits text into its trimmed, non-empty lines. */
export function lines(s: string): string[] {
  return s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
}

/** folderPattern is the exclude pattern that unchecks a folder. */
export function folderPattern(path: string): string {
  return `/${path}/`
}

/** toggleLine adds line to text's lines, or removes it when present. */
export function toggleLine(text: string, line: string): string {
  const ls = lines(text)
  return (ls.includes(line) ? ls.filter((x) => x !== line) : [...ls, line]).join('\n')
}

export type TreeNode = { name: string; path: string; bytes: number; selectedBytes: number; children?: TreeNode[] }

/** flatten lists a preview tree's folders depth first with their depth (five levels at most). */
export function flatten(node: TreeNode | null | undefined, depth = 0, out: (TreeNode & { depth: number })[] = []) {
  if (!node) return out
  for (const c of node.children || []) {
    out.push({ ...c, depth })
    if (depth < 4) flatten(c, depth + 1, out)
  }
  return out
}
