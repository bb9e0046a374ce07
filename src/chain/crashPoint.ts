/**
 * Test-only fault points: IMO_TEST_CRASH_AT=<point>:<step-id-prefix>[,...] with point `after-journal`
 * (signed transaction journalled, not broadcast) or `after-broadcast` (broadcast, receipt not yet
 * journalled) kills the process with SIGKILL there, to prove crash safety.
 */

/**
 * SIGKILLs this process when IMO_TEST_CRASH_AT names this point and a prefix of the step id.
 * @example
 * crashPoint('after-journal', step.id) // returns at once unless IMO_TEST_CRASH_AT says otherwise
 */
export function crashPoint(point: 'after-journal' | 'after-broadcast', id: string): void {
  const spec = process.env.IMO_TEST_CRASH_AT
  if (!spec) return
  for (const entry of spec.split(',')) {
    const [at, prefix = ''] = entry.split(/:(.*)/s)
    if (at === point && id.startsWith(prefix)) process.kill(process.pid, 'SIGKILL')
  }
}
