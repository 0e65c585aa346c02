import { describe, expect, it } from 'vitest'
import { flatten, folderPattern, lines, toggleLine } from './rules'

describe('sync rules', () => {
  it('lines trims and drops empty lines', () => {
    expect(lines(' a \n\n b\n')).toEqual(['a', 'b'])
  })
  it('toggleLine adds or removes a folder pattern', () => {
    const p = folderPattern('renders')
    expect(p).toBe('/renders/')
    expect(toggleLine('*.tmp', p)).toBe('*.tmp\n/renders/')
    expect(toggleLine('*.tmp\n/renders/', p)).toBe('*.tmp')
  })
  it('flatten lists folders depth first, five levels deep at most', () => {
    const n = (name: string, children: any[] = []) => ({ name, path: name, bytes: 1, selectedBytes: 1, children })
    const deep = n('1', [n('2', [n('3', [n('4', [n('5', [n('6')])])])])])
    const tree = n('', [n('a', [n('b')]), deep])
    expect(flatten(tree).map((x) => `${x.depth}:${x.name}`)).toEqual(['0:a', '1:b', '0:1', '1:2', '2:3', '3:4', '4:5'])
    expect(flatten(null)).toEqual([])
  })
})
