/**
 * What the signer's journal says about earlier runs of a repeatable action (a deposit, a burn, a
 * snapshot), so that a re-run after an interruption resumes the SAME transaction instead of sending a
 * second one, while a later deliberate repeat gets a new step id.
 *
 * A step is "open" when the journal has its intent but no receipt: it was interrupted (crash, Ctrl-C,
 * timeout) before its confirmation was recorded. Resuming it with the same id lets sendStep
 * re-broadcast the identical signed transaction or pick up its receipt. A reverted step is finished
 * (nothing happened on chain); a new attempt gets a new id.
 */
import type { Journal } from '../chain/journal.js'

export interface JournalStepSummary {
  id: string
  /** 'open': intent without a receipt; 'confirmed' / 'reverted': its receipt is journalled. */
  state: 'open' | 'confirmed' | 'reverted'
  /** Transaction hash of the latest signed transaction, when signed. */
  hash?: `0x${string}`
  /** Value in wei of the intent. */
  value: bigint
  /** Block of the successful receipt. */
  blockNumber?: bigint
  /** When the intent was recorded (ISO). */
  at: string
}

/**
 * Every step whose id starts with `prefix`, in the order the journal first saw them.
 * @param journal - the signer's journal (reloaded from disk first).
 * @param prefix - the id prefix, e.g. `deposit:0xtoken:1000000000000000000:`.
 * @returns one summary per step id.
 * @example
 * import { listSteps } from './journalSteps.js'
 * listSteps(ctx.journal, 'deposit:0x5fbd…:1000000000000000000:')
 * // [{ id: 'deposit:0x5fbd…:1000000000000000000:s0#1', state: 'confirmed', hash: '0x…', value: 1000000000000000000n, … }]
 */
export function listSteps(journal: Pick<Journal, 'reload' | 'idsWithPrefix' | 'state'>, prefix: string): JournalStepSummary[] {
  journal.reload()
  return journal.idsWithPrefix(prefix).map((id) => {
    const state = journal.state(id)
    const confirmed = state.receipt?.status === 'success'
    return {
      id,
      state: confirmed ? 'confirmed' : state.receipt ? 'reverted' : 'open',
      ...(state.signed ? { hash: state.signed.hash } : {}),
      value: BigInt(state.intent?.value ?? '0'),
      ...(confirmed ? { blockNumber: BigInt(state.receipt!.blockNumber) } : {}),
      at: state.intent?.at ?? '',
    }
  })
}

/**
 * The first open step with that prefix (the one a re-run must resume), if any.
 * @example
 * import { findOpenStep } from './journalSteps.js'
 * findOpenStep(ctx.journal, `snapshot:${token}:`)?.id // 'snapshot:0x5fbd…:3'
 */
export function findOpenStep(
  journal: Pick<Journal, 'reload' | 'idsWithPrefix' | 'state'>,
  prefix: string,
): JournalStepSummary | undefined {
  return listSteps(journal, prefix).find((step) => step.state === 'open')
}

/**
 * The journal-id suffix that carries an idempotency key (`--key`, IMO_IDEMPOTENCY_KEY): a step id
 * ending in it names the one action done under that key.
 * @example
 * keySuffix('pipeline-4711') // '@key:pipeline-4711'
 */
export function keySuffix(key: string): string {
  return `@key:${key}`
}

/**
 * The step of an action (its id prefix, e.g. `deposit:<token>:`) done under an idempotency key, if any.
 * @example
 * import { findKeyedStep } from './journalSteps.js'
 * findKeyedStep(ctx.journal, `deposit:${token}:`, 'pipeline-4711')?.state // 'confirmed'
 */
export function findKeyedStep(
  journal: Pick<Journal, 'reload' | 'idsWithPrefix' | 'state'>,
  prefix: string,
  key: string,
): JournalStepSummary | undefined {
  const suffix = keySuffix(key)
  return listSteps(journal, prefix)
    .filter((step) => step.id.endsWith(suffix))
    .pop()
}
