/**
 * signed (resumed from the journal) -> included | broadcast | confirmed | replaced: what the node
 * knows of a transaction an earlier run signed. Mined: included (its depth is awaited). Known to the
 * node: broadcast. Unknown while its nonce is used: a deployment whose code stands at its address is
 * confirmed; a transaction the node says for certain it has neither seen nor mined was replaced; a
 * failed lookup is never "absent" (it is awaited like any sent transaction, and judged again there).
 */
import { isTransactionAbsent } from './isTransactionAbsent.js'
import type { EngineRun, StepRun } from './stepRun.js'

/**
 * @param engine - the run (send client).
 * @param run - a run in phase signed, origin resumed.
 * @param latestNonce - the signer's mined nonce, read once for all resumed runs.
 * @example
 * await checkJournalled(engine, run, once(engine.latestNonce)) // run.phase: 'included'
 */
export async function checkJournalled(engine: EngineRun, run: StepRun, latestNonce: () => Promise<number>): Promise<void> {
  const { client } = engine
  const signed = run.signed!
  const receipt = await client.getTransactionReceipt({ hash: signed.hash }).catch(() => undefined)
  if (receipt) {
    run.receipt = receipt
    run.phase = 'included'
    return
  }
  if (await client.getTransaction({ hash: signed.hash }).catch(() => undefined)) {
    run.phase = 'broadcast'
    return
  }
  if ((await latestNonce()) <= signed.nonce) return // its nonce is free: broadcast it again
  if (signed.contractAddress) {
    const code = await client.getCode({ address: signed.contractAddress }).catch(engine.rpc('reading code'))
    if (code && code !== '0x') {
      run.phase = 'confirmed'
      run.outcome = {
        id: run.step.id,
        label: run.step.label,
        status: 'resumed',
        hash: signed.hash,
        gas: BigInt(signed.gas),
        contractAddress: signed.contractAddress,
      }
      return
    }
  }
  run.phase = (await isTransactionAbsent(client, signed.hash)) ? 'replaced' : 'broadcast'
}
