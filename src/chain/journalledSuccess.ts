/**
 * The hash of a step's journalled transaction when it was mined and succeeded: as the journal says,
 * or, when the run that sent it ended before it journalled the receipt, as the chain says.
 */
import type { Hex, PublicClient } from 'viem'
import type { StepState } from './journal.js'

/**
 * @param client - the node to ask when the journal has no receipt.
 * @param state - the step's journal state (`journal.state(id)`).
 * @returns the hash, or undefined when nothing was signed, it is not mined, or it reverted.
 * @throws the lookup's error when the node could not answer (not found is an answer: undefined).
 * @example
 * const tx = await journalledSuccess(ctx.publicClient, journal.state(stepId)) // ours when defined
 */
export async function journalledSuccess(client: PublicClient, state: StepState): Promise<Hex | undefined> {
  if (!state.signed) return undefined
  if (state.receipt) return state.receipt.status === 'success' ? state.signed.hash : undefined
  const receipt = await client.getTransactionReceipt({ hash: state.signed.hash }).catch((error: unknown) => {
    if ((error as { name?: string })?.name === 'TransactionReceiptNotFoundError') return undefined
    throw error
  })
  return receipt?.status === 'success' ? state.signed.hash : undefined
}
