/**
 * signed -> broadcast: hands the journalled raw transaction to the node (eth_sendRawTransaction).
 * "Already known" counts as accepted; an unreachable node leaves the run signed (the receipt lookups
 * and later re-broadcasts will tell whether it arrived); "nonce too low" is fine when the mined
 * transaction is ours. Re-broadcasting is safe: it is the identical signed transaction.
 */
import { crashPoint } from './crashPoint.js'
import type { EngineRun, StepRun } from './stepRun.js'
import { toImoError } from './toImoError.js'

/**
 * @param engine - the run (send client; lastRpcError is set when the node cannot be reached).
 * @param run - a run with a signed transaction.
 * @throws the node's refusal as an ImoError (e.g. InsufficientFundsError 8, NonceConflictError 7).
 * @example
 * await broadcastStep(engine, run) // run.phase: 'broadcast'
 */
export async function broadcastStep(engine: EngineRun, run: StepRun): Promise<void> {
  const { ctx, client } = engine
  const signed = run.signed!
  run.lastBroadcast = Date.now()
  try {
    await client.request({ method: 'eth_sendRawTransaction', params: [signed.raw] })
    run.phase = 'broadcast'
  } catch (error) {
    const converted = toImoError(error, { rpcUrl: ctx.rpcUrl, action: `sending "${run.step.label}"` })
    const message = String((error as Error)?.message ?? '')
    if (/already known|known transaction|already imported|already exists/i.test(message)) {
      run.phase = 'broadcast'
      return
    }
    if (converted.exitCode === 6) {
      engine.lastRpcError = converted // maybe it arrived; receipts and re-broadcasts will tell
      return
    }
    if (converted.exitCode === 7 && (await client.getTransaction({ hash: signed.hash }).catch(() => undefined))) {
      run.phase = 'broadcast' // nonce too low because ours was mined
      return
    }
    throw converted
  }
  crashPoint('after-broadcast', run.step.id)
}
