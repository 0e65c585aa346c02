/** passphraseProblem says what is wrong with a new key's passphrase and its
 * repetition, or '' when it may be used. */
export function passphraseProblem(pass: string, again: string): string {
  if (pass.length === 0) return 'A passphrase is required: the key is stored encrypted with it.'
  if (pass.length < 8) return 'Use at least 8 characters.'
  if (pass !== again) return 'The passphrases differ.'
  return ''
}
