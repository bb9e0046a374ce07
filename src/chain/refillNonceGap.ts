/**
 * A transaction can only be mined after every lower nonce of its signer. When the chain's mined nonce
 * is below the lowest nonce a run is waiting for, and the journal holds live signed transactions for
 * the nonces in between (a reorg removed steps settled earlier, issue 21 item 27, or an earlier run
 * timed out with them pending), those are broadcast again, lowest first: the identical signed
 * transactions, so nothing is signed twice; a node that has them already, or mined them, says so and
 * nothing happens. Without this, the awaited transaction waits behind a gap that nothing fills.
 */
import type { SignedRecord } from './journal.js'
import type { EngineRun } from './stepRun.js'
import { toImoError } from './toImoError.js'

/** At most this many nonces are filled at once (a journal far ahead of the chain is not a gap to fill). */
const MAX_GAP = 64

/**
 * @param engine - the run (journal, send client).
 * @param below - the lowest nonce awaited.
 * @param minedNonce - the signer's mined nonce ('latest').
 * @param exclude - hashes already being awaited (they are broadcast by their own runs).
 * @returns the journalled transactions broadcast again.
 * @example
 * await refillNonceGap(engine, 5, 3, new Set()) // nonces 3 and 4 from the journal, broadcast again
 */
export async function refillNonceGap(
  engine: EngineRun,
  below: number,
  minedNonce: number,
  exclude: ReadonlySet<string>,
): Promise<SignedRecord[]> {
  if (minedNonce >= below) return []
  const gap = engine.journal
    .signedWithNonces(Math.max(minedNonce, below - MAX_GAP), below)
    .filter((signed) => !exclude.has(signed.hash) && signed.raw !== '0x')
  await rebroadcast(engine, gap)
  return gap
}

/**
 * Broadcasts journalled transactions again, lowest nonce first; refusals (already known, nonce too
 * low: mined) are answers, an unreachable node is remembered for the timeout message.
 * @example
 * await rebroadcast(engine, journal.signedWithNonces(3, 5))
 */
export async function rebroadcast(engine: EngineRun, signed: SignedRecord[]): Promise<void> {
  for (const record of [...signed].sort((a, b) => a.nonce - b.nonce)) {
    try {
      await engine.client.request({ method: 'eth_sendRawTransaction', params: [record.raw] })
    } catch (error) {
      const converted = toImoError(error, { rpcUrl: engine.ctx.rpcUrl })
      if (converted.exitCode === 6) engine.lastRpcError = converted
    }
  }
}
