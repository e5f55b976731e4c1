/**
 * Serial PTY tests need socat. Without it they skip with a message locally, and FAIL under
 * CI=true (a CI machine without socat would otherwise pass without testing anything).
 * Lives outside test/support because it registers a vitest test.
 */
import { describe, it } from 'vitest'
import { socatAvailable } from './support/pty-pair.js'

/** Call at module level; returns whether the PTY suites can run (use with describe.skipIf). */
export function socatGate(): boolean {
  const available = socatAvailable()
  const ci = process.env.CI === 'true'
  if (!available) console.warn(`serial PTY tests skipped: socat is not installed${ci ? ' (and CI=true requires it)' : ''}`)
  describe.runIf(!available && ci)('socat', () => {
    it('is installed (required under CI=true)', () => {
      throw new Error('socat is required for the serial PTY tests: apt-get install socat')
    })
  })
  return available
}
