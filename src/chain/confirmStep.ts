/**
 * included -> confirmed | reverted: a receipt deep enough for --confirmations is journalled, and the
 * step's outcome is what the receipt says (a reverted one is reported as an error at the end of the run,
 * after every other step has been awaited).
 */
import type { TransactionReceipt } from 'viem'
import type { EngineRun, StepRun } from './stepRun.js'

/**
 * @param engine - the run (journal).
 * @param run - a run whose receipt is deep enough and whose block still holds it.
 * @param receipt - that receipt.
 * @example
 * confirmStep(engine, run, receipt) // run.phase: 'confirmed', run.outcome.status: 'sent'
 */
export function confirmStep(engine: EngineRun, run: StepRun, receipt: TransactionReceipt): void {
  const { step } = run
  const signed = run.signed!
  engine.journal.append({
    type: 'receipt',
    id: step.id,
    hash: signed.hash,
    status: receipt.status,
    blockNumber: String(receipt.blockNumber),
    blockHash: receipt.blockHash,
    gasUsed: String(receipt.gasUsed),
    ...(receipt.effectiveGasPrice !== undefined ? { effectiveGasPrice: String(receipt.effectiveGasPrice) } : {}),
    ...(receipt.contractAddress ? { contractAddress: receipt.contractAddress } : {}),
    at: new Date().toISOString(),
  })
  run.receipt = receipt
  run.phase = receipt.status === 'reverted' ? 'reverted' : 'confirmed'
  run.outcome = {
    id: step.id,
    label: step.label,
    status: run.origin,
    hash: signed.hash,
    receipt,
    gas: BigInt(signed.gas),
    costWei: receipt.gasUsed * (receipt.effectiveGasPrice ?? 0n),
    blockNumber: receipt.blockNumber,
    ...(receipt.contractAddress ? { contractAddress: receipt.contractAddress } : {}),
  }
}
