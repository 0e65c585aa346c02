import { describe, expect, it } from 'vitest'
import { passphraseProblem } from './passphrase'

describe('passphraseProblem', () => {
  it('asks for a passphrase of 8 characters, typed twice alike', () => {
    expect(passphraseProblem('', '')).toMatch(/required/)
    expect(passphraseProblem('short', 'short')).toBe('Use at least 8 characters.')
    expect(passphraseProblem('long enough', 'long enougH')).toBe('The passphrases differ.')
    expect(passphraseProblem('long enough', 'long enough')).toBe('')
  })
})
