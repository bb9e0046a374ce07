/**
 * What a run starts from: each step's journalled state, checked against the chain. A step whose
 * receipt still stands is done (confirmed, nothing sent); one that reverted there is tried afresh (its
 * transaction dropped: the simulation tells whether it still fails); one whose receipt was reorganised
 * away, or that has no receipt yet, is resumed (signed); the rest are planned.
 */
import { ImoError } from '../errors.js'
import { type EngineRun, journalPhase, type StepRun } from './stepRun.js'
import type { TxStep } from './txStep.js'

/**
 * @param engine - the run (journal, send client).
 * @param step - the step as the caller describes it now.
 * @returns its run in phase confirmed (already-confirmed outcome), signed (origin resumed) or planned.
 * @throws ImoError (1) when the id was journalled and signed with other inputs (the id must derive
 *   from every input); RpcError (6) when a deployment's code cannot be read.
 * @example
 * const run = await resumeStep(engine, step) // { phase: 'signed', origin: 'resumed', signed, ... } after a crash
 */
export async function resumeStep(engine: EngineRun, step: TxStep): Promise<StepRun> {
  const { journal, client } = engine
  const { keccak256 } = await import('viem')
  const state = journal.state(step.id)
  const sameInputs =
    !state.intent ||
    (state.intent.dataHash === keccak256(step.data) &&
      state.intent.value === String(step.value ?? 0n) &&
      (state.intent.to ?? '').toLowerCase() === (step.to ?? '').toLowerCase())
  if (!sameInputs && state.signed)
    throw new ImoError(`journal step ${step.id} was recorded with other inputs; the step id must derive from all inputs`)
  const planned: StepRun = { step, phase: 'planned', origin: 'sent', lastBroadcast: 0 }
  const phase = journalPhase(state)
  if (phase === 'planned') return planned
  const signed = state.signed!
  const receipt = state.receipt
  if (receipt) {
    // An archived receipt was final when it was archived (src/chain/compactJournal.ts): not re-read.
    const block = state.archived
      ? undefined
      : await client.getBlock({ blockNumber: BigInt(receipt.blockNumber) }).catch(() => undefined)
    const stands = state.archived === true || (block !== undefined && block.hash === receipt.blockHash)
    if (stands && phase === 'confirmed') {
      let contractAddress = receipt.contractAddress
      if (contractAddress) {
        const code = await client.getCode({ address: contractAddress }).catch(engine.rpc('reading code'))
        if (!code || code === '0x') contractAddress = undefined
      }
      // A deployment whose code is gone (a restarted devnet) is not done: resumed below.
      if (!receipt.contractAddress || contractAddress)
        return {
          ...planned,
          phase: 'confirmed',
          signed,
          outcome: {
            id: step.id,
            label: step.label,
            status: 'already-confirmed',
            hash: signed.hash,
            gas: BigInt(signed.gas),
            costWei: BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice ?? '0'),
            blockNumber: BigInt(receipt.blockNumber),
            ...(contractAddress ? { contractAddress } : {}),
          },
        }
    }
    if (stands && phase === 'reverted') {
      journal.append({ type: 'dropped', id: step.id, hash: signed.hash, reason: 'reverted', at: new Date().toISOString() })
      return planned
    }
    // Reorganised away: the receipt no longer stands; the transaction itself is resumed.
  }
  return { ...planned, phase: 'signed', origin: 'resumed', signed }
}
