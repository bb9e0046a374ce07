/**
 * Before anything is signed: a journal that ends in a torn line (a write cut short by a crash or a
 * full disk) may have lost a signed record. Signing goes on only when the chain agrees with what the
 * journal holds: the signer's pending nonce is the one after the journal's last signed nonce.
 */
import { NonceConflictError } from '../errors.js'
import type { EngineRun } from './stepRun.js'

/**
 * @param engine - the run (journal, send client, signer).
 * @throws NonceConflictError (7) when the chain is ahead of a torn journal; nothing is signed.
 * @example
 * await guardTornJournal(engine) // returns when the journal is whole or the nonces agree
 */
export async function guardTornJournal(engine: EngineRun): Promise<void> {
  const { journal, client, account } = engine
  const torn = journal.tornLine()
  if (torn === undefined) return
  const chainNonce = await client
    .getTransactionCount({ address: account.address, blockTag: 'pending' })
    .catch(engine.rpc('reading the nonce'))
  const last = journal.lastSignedNonce()
  const expected = last === undefined ? undefined : last + 1
  if (expected === undefined ? /"type":"signed"/.test(torn) : chainNonce !== expected)
    throw new NonceConflictError(
      `the journal ${journal.path} ends in a torn line, and ${account.address} has sent ${chainNonce} transaction(s) on chain while the journal's last signed nonce is ${last ?? 'none'}: a transaction it does not fully record may have been sent; nothing was signed`,
      {
        hint: "check the signer's recent transactions (an explorer, or `cast nonce`); if none of them is an unfinished imo step, remove the torn last line of the journal and re-run",
      },
    )
}
