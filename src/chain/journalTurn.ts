/**
 * One send at a time per journal within this process. signSteps takes nonces from the chain's
 * pending count plus the call's own in-flight steps, and the journal's file lock keeps other
 * processes out, but not other callers in this one: `imo serve --http` fulfils on-chain requests
 * (mintRecords) while its x402 facilitator settles API payments, both with serve's key and journal.
 * Two sendSteps calls that overlapped read the same pending nonce and one of them failed with a nonce
 * conflict (test/chain-concurrent-sends.test.ts); queued on the journal's path, each call starts once
 * the one before it has its receipts, and the lock one call took is not released under another.
 */

const turns = new Map<string, Promise<unknown>>()

/**
 * Runs `fn` when every earlier call for the same journal file has finished (resolved or failed).
 * @param journalPath - the journal's file (two Journal objects of one file share the queue).
 * @example
 * const outcomes = await inJournalTurn(journal.path, () => sendPlanned(ctx, steps))
 */
export function inJournalTurn<T>(journalPath: string, fn: () => Promise<T>): Promise<T> {
  const previous = turns.get(journalPath) ?? Promise.resolve()
  const run = previous.then(fn, fn)
  const done = run.then(
    () => undefined,
    () => undefined,
  )
  turns.set(journalPath, done)
  void done.then(() => {
    if (turns.get(journalPath) === done) turns.delete(journalPath)
  })
  return run
}
