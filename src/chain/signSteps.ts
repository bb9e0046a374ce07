/**
 * planned -> simulated -> signed: the steps are simulated side by side (independent steps, README
 * section 5), the signer's balance is checked against their cost, and each is signed with the next
 * nonce and journalled (intent, then the signed raw transaction and its hash, flushed) BEFORE anything
 * is broadcast. Nonces follow the chain's pending nonce and every transaction still in flight.
 */
import type { Hex } from 'viem'
import { InsufficientFundsError } from '../errors.js'
import { mapConcurrent } from '../util/mapConcurrent.js'
import { crashPoint } from './crashPoint.js'
import type { SignedRecord } from './journal.js'
import type { Fees } from './resolveFees.js'
import { simulateStep } from './simulateStep.js'
import { type EngineRun, inFlight, type StepRun } from './stepRun.js'

/**
 * @param engine - the run (journal, signer, send client).
 * @param planned - the runs to send, in phase planned, in nonce order.
 * @param others - every other run of the call (their in-flight nonces are not reused).
 * @param fees - the fees to sign with.
 * @throws SimulationRevertedError (3), InsufficientFundsError (8), RpcError (6); nothing is signed then.
 * @example
 * await signSteps(engine, runs.filter((r) => r.phase === 'planned'), runs, fees) // each run: phase 'signed'
 */
export async function signSteps(engine: EngineRun, planned: StepRun[], others: StepRun[], fees: Fees): Promise<void> {
  const { ctx, journal, client, account } = engine
  const { getContractAddress, keccak256 } = await import('viem')
  const simulations = await mapConcurrent(planned, 8, (run) => simulateStep(ctx, run.step, fees))
  for (const [index, run] of planned.entries()) {
    run.simulation = simulations[index]!
    run.phase = 'simulated'
  }
  const needed = simulations.reduce((sum, sim) => sum + sim.costWei, 0n)
  const balance = await client.getBalance({ address: account.address }).catch(engine.rpc('reading the balance'))
  if (balance < needed) {
    const { formatNative } = await import('./format.js')
    throw new InsufficientFundsError(
      `insufficient funds: ${account.address} holds ${formatNative(balance, ctx.nativeSymbol)} but up to ${formatNative(needed, ctx.nativeSymbol)} is needed; nothing was sent`,
      { hint: 'fund the signer, or lower --max-fee-per-gas' },
    )
  }
  let nonce = await client
    .getTransactionCount({ address: account.address, blockTag: 'pending' })
    .catch(engine.rpc('reading the nonce'))
  for (const run of others) if (inFlight(run)) nonce = Math.max(nonce, run.signed!.nonce + 1)
  for (const run of planned) {
    const { step } = run
    const gas = run.simulation!.gas
    const base = {
      chainId: ctx.chainId,
      nonce,
      gas,
      data: step.data,
      value: step.value ?? 0n,
      ...(step.to ? { to: step.to } : {}),
    }
    const request =
      fees.type === 'legacy'
        ? { ...base, type: 'legacy' as const, gasPrice: fees.gasPrice! }
        : {
            ...base,
            type: 'eip1559' as const,
            maxFeePerGas: fees.maxFeePerGas!,
            maxPriorityFeePerGas: fees.maxPriorityFeePerGas!,
          }
    journal.append({
      type: 'intent',
      id: step.id,
      label: step.label,
      from: account.address,
      ...(step.to ? { to: step.to } : {}),
      value: String(step.value ?? 0n),
      dataHash: keccak256(step.data),
      at: new Date().toISOString(),
    })
    const raw: Hex = await account.signTransaction(request as Parameters<typeof account.signTransaction>[0])
    const signed: SignedRecord = {
      type: 'signed',
      id: step.id,
      nonce,
      hash: keccak256(raw),
      raw,
      gas: String(gas),
      ...(step.to ? {} : { contractAddress: getContractAddress({ from: account.address, nonce: BigInt(nonce) }) }),
      at: new Date().toISOString(),
    }
    journal.append(signed)
    crashPoint('after-journal', step.id)
    run.signed = signed
    run.phase = 'signed'
    run.origin = 'sent'
    run.lastBroadcast = 0
    nonce++
  }
}
