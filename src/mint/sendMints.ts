/**
 * mintRecords' fifth stage: the mints not minted yet go through the transaction engine (sendSteps),
 * pipelined: consecutive journal-managed nonces, all broadcast, then all awaited. A replaced mint
 * (NonceConflictError, exit 7) is reported per prompt, so the --json error document shows what was
 * minted, what was replaced and what already existed.
 */
import type { ChainContext } from '../chain/connect.js'
import type { ReportedOutcome, StepOutcome } from '../chain/sendStep.js'
import { type ImoError, NonceConflictError } from '../errors.js'
import type { PreparedMint } from './prepareMints.js'
import type { TokenState } from './readTokenState.js'

/**
 * @param ctx - chain context with a signer.
 * @param prepared - the prepared mints.
 * @param existing - per mint, its token when it exists already (not sent).
 * @param onProgress - 'minting done/total'.
 * @returns the outcome of each mint sent.
 * @throws sendSteps' errors; a NonceConflictError with every mint's status.
 * @example
 * const outcomes = await sendMints(ctx, prepared, existing)
 */
export async function sendMints(
  ctx: ChainContext,
  prepared: PreparedMint[],
  existing: Array<TokenState | undefined>,
  onProgress: (text: string) => void = () => {},
): Promise<StepOutcome[]> {
  const toSend = prepared.filter((_, index) => !existing[index])
  if (toSend.length === 0) return []
  const { sendSteps } = await import('../chain/sendStep.js')
  onProgress(`minting 0/${toSend.length}`)
  try {
    return await sendSteps(
      ctx,
      toSend.map((b) => b.step),
      { onProgress: (done, total) => onProgress(`minting ${done}/${total}`) },
    )
  } catch (error) {
    throw withMintOutcomes(error, prepared, existing)
  }
}

/** sendSteps' NonceConflictError carries each step's outcome: restated per prompt. */
function withMintOutcomes(error: unknown, prepared: PreparedMint[], existing: Array<unknown>): unknown {
  const reported = (error as ImoError)?.data as { outcomes?: ReportedOutcome[] } | undefined
  if (!(error instanceof NonceConflictError) || !Array.isArray(reported?.outcomes)) return error
  const byId = new Map(reported.outcomes.map((outcome) => [outcome.id, outcome]))
  const outcomes = prepared.map((b, index) => {
    const outcome = byId.get(b.step.id)
    const status = existing[index]
      ? 'existing'
      : outcome?.status === 'sent'
        ? 'minted'
        : outcome?.status === 'already-confirmed'
          ? 'existing'
          : (outcome?.status ?? 'not-sent')
    return {
      prompt: b.item.record.prompt,
      tokenIdHex: b.tokenIdHex,
      status,
      ...(outcome?.hash ? { txHash: outcome.hash } : {}),
      ...(outcome?.blockNumber !== undefined ? { blockNumber: outcome.blockNumber } : {}),
    }
  })
  return new NonceConflictError(error.shortMessage, {
    cause: error,
    ...(error.hint ? { hint: error.hint } : {}),
    data: { outcomes },
  })
}
