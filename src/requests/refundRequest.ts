/**
 * `imo refund REQUEST_ID`: pays an open request's fee back to its requester, once it has expired or its
 * prompt was minted meanwhile (anyone may send it; the fee always goes to the requester). Checked
 * first in plain words (unknown id, fulfilled, refunded, not refundable yet), then sent through the
 * journal with step id `refund:<collection>:<request id>` (a request is refunded at most once).
 */
import type { Address, Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import { ImoError, SimulationRevertedError, UsageError } from '../errors.js'

export interface RefundResult {
  status: 'sent' | 'resumed' | 'already-confirmed' | 'dry-run'
  requestId: bigint
  requester: Address
  feeWei: bigint
  /** Why the request is refundable. */
  /** Why the collection let it go: expired, its prompt minted by another request or mint, or no attester left. */
  reason: 'expired' | 'prompt-minted' | 'no-attester'
  txHash?: Hex
  blockNumber?: bigint
  gas: bigint
  costWei?: bigint
}

/**
 * Refunds request `requestId`.
 * @param ctx - chain context with any signer.
 * @param collection - the AigcCollection.
 * @param requestId - the request's id.
 * @returns the outcome.
 * @throws UsageError (2) for an unknown id; SimulationRevertedError (3, nothing sent) for a fulfilled,
 *   refunded, or not yet refundable request; chain errors from sendStep.
 * @example
 * import { refundRequest } from './requests/refundRequest.js'
 * (await refundRequest(ctx, collection, 3n)).status // 'sent'
 */
export async function refundRequest(ctx: ChainContext, collection: Address, requestId: bigint): Promise<RefundResult> {
  if (!ctx.account) throw new ImoError('refundRequest needs a chain context with a signer')
  const { encodeFunctionData, toHex } = await import('viem')
  const { aigcCollectionAbi } = await import('../../contracts-abi/index.js')
  const { readRequest } = await import('./readRequest.js')
  const { chainNow } = await import('../revenue/chainNow.js')
  const { sendStep, summarizeOutcome } = await import('../chain/sendStep.js')
  const stepId = `refund:${collection.toLowerCase()}:${requestId}`
  const journalled = ctx.journal?.state(stepId)
  const request = await readRequest(ctx, collection, requestId)
  if (request.status === 'none')
    throw new UsageError(`unknown request id ${requestId}: the collection ${collection} has no such request`, {
      hint: 'list them with `imo requests`',
    })
  let reason: RefundResult['reason'] = 'expired'
  // A refund this signer already sent (a re-run) is reported from the journal below.
  if (request.status !== 'open' && !journalled?.signed) {
    const token = toHex(request.tokenId, { size: 32 })
    throw new SimulationRevertedError(
      request.status === 'fulfilled'
        ? `request ${requestId} was fulfilled (token ${token}): its fee went to the IMO token and cannot be refunded; nothing was sent`
        : `request ${requestId} was refunded already; nothing was sent`,
    )
  }
  if (request.status === 'open') {
    const now = await chainNow(ctx)
    const refundable = await ctx.publicClient
      .readContract({ address: collection, abi: aigcCollectionAbi, functionName: 'isRefundable', args: [requestId] })
      .catch(() => false)
    if (!refundable)
      throw new SimulationRevertedError(
        `request ${requestId} is not refundable yet: it can be fulfilled until ${new Date(request.expiresAt * 1000).toISOString()} (in ${request.expiresAt - now} s); nothing was sent`,
        { hint: 're-run after that time, or when its prompt has been minted by another request' },
      )
    if (now >= request.expiresAt) reason = 'expired'
    else {
      // Refundable before expiry: its prompt was minted, or the owner removed every attester.
      const attesters = (await ctx.publicClient
        .readContract({ address: collection, abi: aigcCollectionAbi, functionName: 'attesters' })
        .catch(() => undefined)) as readonly Address[] | undefined
      reason = attesters?.length === 0 ? 'no-attester' : 'prompt-minted'
    }
  }
  const outcome = await sendStep(ctx, {
    id: stepId,
    label: `refund request #${requestId}`,
    to: collection,
    data: encodeFunctionData({ abi: aigcCollectionAbi, functionName: 'refund', args: [requestId] }),
    abi: aigcCollectionAbi as never,
  })
  return { ...summarizeOutcome(outcome), requestId, requester: request.requester, feeWei: request.feeWei, reason }
}
