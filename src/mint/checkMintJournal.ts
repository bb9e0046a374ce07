/**
 * mintRecords' fourth stage: an interrupted mint of the same prompt must be completed with the same
 * inputs. A step the journal holds as signed but not mined, with other calldata (another recipient, token
 * URI or aigc-data mode), is refused before anything is sent.
 */
import { keccak256 } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import { UsageError } from '../errors.js'
import { describeRecord } from './describeRecord.js'
import type { PreparedMint } from './prepareMints.js'

/**
 * @param ctx - chain context (without a journal, nothing to check).
 * @param prepared - the prepared mints.
 * @throws UsageError (2) for a pending mint with other inputs.
 * @example
 * checkMintJournal(ctx, prepared) // throws when a re-run changed --to of an interrupted mint
 */
export function checkMintJournal(ctx: ChainContext, prepared: PreparedMint[]): void {
  const journal = ctx.journal
  if (!journal) return
  journal.reload()
  for (const b of prepared) {
    const state = journal.state(b.step.id)
    if (state.signed && !state.receipt && state.intent && state.intent.dataHash !== keccak256(b.step.data))
      throw new UsageError(
        `an interrupted mint of ${describeRecord(b.item.record)} (${state.signed.hash}) is pending with other inputs (recipient, token URI or aigc-data mode)`,
        { hint: 're-run it with the same flags to complete it' },
      )
  }
}
