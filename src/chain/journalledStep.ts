/**
 * The step a journal recorded, rebuilt from its signed transaction: what a value-moving command
 * resumes after an interruption instead of recomputing it from the chain's state, which may have
 * changed meanwhile (a falling price gives another token amount, and so another transaction).
 */
import type { Journal } from './journal.js'
import type { TxStep } from './txStep.js'

/**
 * @param journal - the signer's journal.
 * @param id - the step's id.
 * @returns the step (id, label, to, data, value) exactly as it was signed, or undefined when the
 *   journal holds no live signed transaction for it (nothing was signed, or it was dropped).
 * @example
 * const step = await journalledStep(ctx.journal, open.id) // { id, label: 'buy 200 SAL', to: sale, data, value }
 * await sendStep(ctx, { ...step, abi: imoOfferingAbi }) // resumes it: re-broadcast or its receipt, never a second purchase
 */
export async function journalledStep(journal: Pick<Journal, 'state'>, id: string): Promise<TxStep | undefined> {
  const state = journal.state(id)
  if (!state.signed || state.signed.raw === '0x') return undefined
  const { parseTransaction } = await import('viem')
  const transaction = parseTransaction(state.signed.raw)
  return {
    id,
    label: state.intent?.label ?? id,
    ...(transaction.to ? { to: transaction.to } : {}),
    data: transaction.data ?? '0x',
    value: transaction.value ?? 0n,
  }
}
