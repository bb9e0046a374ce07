/**
 * Overlapping sendSteps calls in one process on one journal. signSteps takes nonces from the chain's
 * pending count plus the call's own in-flight steps, and the journal's file lock keeps other
 * processes out, but not other callers in this one: `imo serve --http` fulfils on-chain requests
 * (mintRecords) while its x402 facilitator settles API payments, both with serve's key and journal.
 * Two calls that overlapped read the same pending nonce and one failed with a nonce conflict
 * (test/chain-concurrent-sends.test.ts). So the calls take turns from reading the nonce until their
 * transactions are broadcast (the next one then reads a pending count that includes them), and wait
 * for their receipts side by side; and the file lock one of them took is released by the last one
 * to finish, never under another.
 */
import type { Journal } from './journal.js'

const turns = new Map<string, Promise<unknown>>()
const holders = new WeakMap<Journal, { calls: number; lockedHere: boolean }>()

/**
 * Runs `fn` when every earlier turn for the same journal file has finished (resolved or failed).
 * @param journalPath - the journal's file (two Journal objects of one file share the queue).
 * @example
 * const runs = await inJournalTurn(journal.path, () => signAndBroadcast(ctx, engine, journal, steps))
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

/**
 * Holds the journal's file lock for one sendSteps call: taken by the first call of this process that
 * finds it free, released when the last overlapping call ends; a lock its caller held before
 * (`imo serve`, for its whole run) is left alone.
 * @returns the release, to call once when the call ends.
 * @example
 * const release = holdJournalLock(journal)
 * try { ... } finally { release() }
 */
export function holdJournalLock(journal: Journal): () => void {
  let holder = holders.get(journal)
  if (!holder || holder.calls === 0) {
    const lockedHere = !journal.isLocked()
    journal.lock()
    holder = { calls: 0, lockedHere }
    holders.set(journal, holder)
  }
  holder.calls++
  const held = holder
  return () => {
    held.calls--
    if (held.calls === 0 && held.lockedHere) journal.unlock()
  }
}
