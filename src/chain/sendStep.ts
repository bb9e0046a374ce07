/**
 * The engine's entry point for commands (src/chain/README.md): sendStep sends one step, sendSteps
 * (src/chain/sendSteps.ts) many pipelined. Each step is simulated, signed with a journal-allocated
 * nonce, journalled (raw transaction and hash, flushed) BEFORE broadcast, broadcast, and waited for;
 * the receipt is journalled too. A re-run resumes from the journal instead of sending twice. A step's
 * states and transitions: src/chain/stepRun.ts.
 */
import type { ChainContext } from './connect.js'
import { sendSteps } from './sendSteps.js'
import type { StepOutcome, TxStep } from './txStep.js'

export { describeRevert } from './describeRevert.js'
export { sendSteps } from './sendSteps.js'
export { gasLimitFor, intrinsicGas, simulateStep } from './simulateStep.js'
export type { ReportedOutcome, StepOutcome, TxStep } from './txStep.js'

/**
 * Sends one step through the journal (or only simulates it with --dry-run).
 * @param ctx - chain context with a signer.
 * @param step - the step.
 * @returns its outcome.
 * @throws SimulationRevertedError (3), TransactionRevertedError (4), NotConfirmedError (5), RpcError (6),
 *   NonceConflictError (7), InsufficientFundsError (8).
 * @example
 * const outcome = await sendStep(ctx, { id: 'snapshot:42', label: 'snapshot', to: token, data, abi: imoTokenAbi })
 * outcome.receipt?.blockNumber
 */
export async function sendStep(ctx: ChainContext, step: TxStep): Promise<StepOutcome> {
  if (ctx.tx.dryRun) return (await sendSteps(ctx, [step]))[0]!
  // Waiting for a receipt takes seconds on a real chain: say so on stderr (silent inside a command's own spinner).
  const { spinner } = await import('../cli/ui.js')
  const progress = await spinner(`sending ${step.label} and waiting for its receipt`)
  try {
    const [outcome] = await sendSteps(ctx, [step])
    progress.succeed(`${step.label}: confirmed${outcome!.blockNumber !== undefined ? ` in block ${outcome!.blockNumber}` : ''}`)
    return outcome!
  } finally {
    progress.stop()
  }
}

/** What a command reports of a sent (or simulated) step: status, txHash, block, gas and cost. */
export type OutcomeSummary = Pick<StepOutcome, 'status' | 'txHash' | 'blockNumber' | 'gas' | 'costWei'>

/**
 * The reportable fields of an outcome, without the receipt (and without keys that are undefined,
 * so --json documents stay compact).
 * @example
 * const result = { ...summarizeOutcome(await sendStep(ctx, step)), token }
 */
export function summarizeOutcome(outcome: StepOutcome): OutcomeSummary {
  return {
    status: outcome.status,
    ...(outcome.txHash ? { txHash: outcome.txHash } : {}),
    ...(outcome.blockNumber !== undefined ? { blockNumber: outcome.blockNumber } : {}),
    gas: outcome.gas,
    ...(outcome.costWei !== undefined ? { costWei: outcome.costWei } : {}),
  }
}
