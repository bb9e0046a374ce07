/**
 * The end of a run that did not go through: replaced transactions (NonceConflictError, exit 7, with
 * every step's outcome so a caller can report per item) come first, then a reverted one
 * (TransactionRevertedError, exit 4, with the reason eth_call gives at the block before).
 */
import { NonceConflictError, TransactionRevertedError } from '../errors.js'
import { describeRevert } from './describeRevert.js'
import type { EngineRun, StepRun } from './stepRun.js'
import type { ReportedOutcome } from './txStep.js'

/**
 * @param engine - the run.
 * @param runs - every run of the call, in step order.
 * @throws NonceConflictError (7) when a run was replaced while awaited; TransactionRevertedError (4)
 *   when one reverted on chain.
 * @example
 * await throwStepFailures(engine, runs) // returns when every run is confirmed
 */
export async function throwStepFailures(engine: EngineRun, runs: StepRun[]): Promise<void> {
  const replaced = runs.filter((run) => run.phase === 'replaced')
  if (replaced.length > 0) {
    const list = replaced.map((run) => `"${run.step.label}" (${run.signed!.hash})`).join(', ')
    throw new NonceConflictError(
      `${replaced.length === 1 ? 'a transaction was' : `${replaced.length} transactions were`} replaced: another transaction from ${engine.account.address} took the nonce of ${list}`,
      {
        hint: 're-run the same command: it checks whether each replaced step happened anyway and otherwise sends it once more with a new nonce',
        data: { outcomes: runs.flatMap(reported) },
      },
    )
  }
  const reverted = runs.find((run) => run.phase === 'reverted')
  if (!reverted) return
  const { step } = reverted
  const receipt = reverted.receipt!
  let reason: string | undefined
  try {
    await engine.ctx.publicClient.call({
      account: engine.account.address,
      ...(step.to ? { to: step.to } : {}),
      data: step.data,
      ...(step.value ? { value: step.value } : {}),
      blockNumber: receipt.blockNumber - 1n,
    })
  } catch (error) {
    reason = await describeRevert(error, step.abi)
  }
  throw new TransactionRevertedError(
    `"${step.label}" was mined in block ${receipt.blockNumber} but reverted${reason ? `: ${reason}` : ''} (${reverted.signed!.hash})`,
  )
}

/** A run as the exit-7 document lists it: its outcome without the receipt, or 'replaced'. */
function reported(run: StepRun): ReportedOutcome[] {
  if (run.outcome) {
    const { receipt: _receipt, ...rest } = run.outcome
    return [rest]
  }
  if (run.phase !== 'replaced') return []
  const { id, label } = run.step
  return [{ id, label, status: 'replaced', hash: run.signed!.hash, gas: BigInt(run.signed!.gas) }]
}
