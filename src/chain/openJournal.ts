/**
 * Opens a signer's journal for a sending command. A live file past the compaction size (one written
 * by an imo that did not compact, or grown since) is compacted before it is read, when no other imo
 * process holds the lock: reading it first would hold every record of its history in memory, raw
 * transactions included (about 3 KB a step), only to compact it right after.
 */
import { NonceConflictError } from '../errors.js'
import { ARCHIVE_DEPTH, compactAtBytes, compactIfLarge } from './compactJournal.js'
import { Journal, journalPath } from './journal.js'

/**
 * @param chainId - the chain.
 * @param address - the signer.
 * @param options - root: the `.imo` folder; confirmations: the run's --confirmations (the archive depth is at least that).
 * @returns the journal, read.
 * @throws UsageError (2) for a damaged or unreadable journal.
 * @example
 * const journal = openJournal(31337, account.address, { confirmations: 1 })
 */
export function openJournal(chainId: number, address: string, options: { root?: string; confirmations?: number } = {}): Journal {
  const journal = new Journal(journalPath(chainId, address, options.root), { load: false })
  if (journal.sizeOnDisk() > compactAtBytes()) {
    try {
      journal.lock()
      try {
        compactIfLarge(journal, { depth: Math.max(ARCHIVE_DEPTH, options.confirmations ?? 1) })
      } finally {
        journal.unlock()
      }
    } catch (error) {
      // Another imo is sending from this signer: it compacts when it needs to.
      if (!(error instanceof NonceConflictError)) throw error
    }
  }
  journal.reload()
  return journal
}
