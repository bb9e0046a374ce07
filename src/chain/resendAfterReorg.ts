/**
 * After a reorg, the engine's part (issue 21 item 27): every journalled step whose transaction is
 * unconfirmed or was mined at or above the first block the reorg replaced is checked against the
 * chain, and those the chain no longer holds are broadcast again in nonce order, so no nonce gap
 * wedges the later ones (a batch of two fulfilments mined in blocks k and k+1 and both removed: re-sending
 * only the second leaves it waiting forever behind the first). The identical signed transactions are
 * sent, so nothing is signed twice; a transaction whose nonce another one took since is left to
 * sendSteps, which settles a replaced step (its effect, or sent once more) when the step is sent again.
 * `imo serve` calls it from its reorg check with the first block that changed.
 */
import { ImoError } from '../errors.js'
import type { ChainContext } from './connect.js'
import type { SignedRecord } from './journal.js'
import { rebroadcast } from './refillNonceGap.js'
import { engineRun } from './stepRun.js'

export interface ResendAfterReorgResult {
  /** Steps broadcast again (their transactions were gone). */
  resent: string[]
  /** Steps whose transactions the chain holds (mined, maybe in another block, or pending). */
  onChain: string[]
  /** Steps whose nonce another transaction took: sendSteps settles them when they are sent again. */
  replaced: string[]
}

/**
 * @param ctx - chain context with the signer and its journal.
 * @param options - fromBlock: the first block the reorg replaced (the common ancestor + 1).
 * @returns what was broadcast again, what the chain holds, and what lost its nonce.
 * @throws RpcError (6) when the node cannot be read.
 * @example
 * import { resendAfterReorg } from '../chain/resendAfterReorg.js'
 * const { resent } = await resendAfterReorg(sendCtx, { fromBlock: ancestor + 1n }) // ['fulfill:0x…:7', 'fulfill:0x…:8']
 */
export async function resendAfterReorg(ctx: ChainContext, options: { fromBlock: bigint }): Promise<ResendAfterReorgResult> {
  const journal = ctx.journal
  if (!ctx.account || !journal) throw new ImoError('resendAfterReorg needs a chain context with a signer and its journal')
  const engine = engineRun(ctx, journal)
  journal.reload()
  const affected = new Map<string, SignedRecord>()
  for (const record of journal.all()) {
    if (affected.has(record.id)) continue
    const state = journal.state(record.id)
    if (state.signed && state.signed.raw !== '0x' && (!state.receipt || BigInt(state.receipt.blockNumber) >= options.fromBlock))
      affected.set(record.id, state.signed)
  }
  const result: ResendAfterReorgResult = { resent: [], onChain: [], replaced: [] }
  if (affected.size === 0) return result
  const mined = await engine.latestNonce()
  const gone: SignedRecord[] = []
  for (const [id, signed] of [...affected].sort(([, a], [, b]) => a.nonce - b.nonce)) {
    const held = await engine.client.getTransaction({ hash: signed.hash }).catch((error: unknown) => {
      if ((error as { name?: string })?.name === 'TransactionNotFoundError') return undefined
      return engine.rpc('looking up a journalled transaction')(error)
    })
    if (held) result.onChain.push(id)
    else if (signed.nonce < mined) result.replaced.push(id)
    else {
      gone.push(signed)
      result.resent.push(id)
    }
  }
  await rebroadcast(engine, gone)
  return result
}
