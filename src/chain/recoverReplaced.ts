/**
 * replaced -> confirmed | planned: another transaction took the nonce of a journalled step, so its
 * own transaction can never be mined. If the step's effect is on chain anyway (TxStep.effect) it is
 * done; else it is planned again and sent once more with a fresh nonce. Either way the old transaction
 * gets a `dropped` record, so no later run resumes it.
 */
import type { EngineRun, StepRun } from './stepRun.js'

/**
 * @param engine - the run (journal).
 * @param run - a run in phase replaced.
 * @example
 * await recoverReplaced(engine, run) // run.phase: 'planned' (sent again) or 'confirmed' (effect found)
 */
export async function recoverReplaced(engine: EngineRun, run: StepRun): Promise<void> {
  const { step } = run
  const signed = run.signed!
  const done = step.effect ? await step.effect() : false
  const { note } = await import('../cli/ui.js')
  engine.journal.append({
    type: 'dropped',
    id: step.id,
    hash: signed.hash,
    reason: `replaced: nonce ${signed.nonce} was taken by another transaction; ${done ? 'the step was done on chain anyway' : 'sent again with a new nonce'}`,
    at: new Date().toISOString(),
  })
  note(
    `"${step.label}" (${signed.hash}) was replaced by another transaction with nonce ${signed.nonce}; ${done ? 'its effect is on chain anyway, nothing to send' : 'sending it again with a new nonce'}`,
  )
  if (done) {
    run.phase = 'confirmed'
    run.outcome = { id: step.id, label: step.label, status: 'already-confirmed', gas: BigInt(signed.gas) }
    return
  }
  run.phase = 'planned'
  run.origin = 'sent'
  run.signed = undefined
}
