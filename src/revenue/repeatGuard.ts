/**
 * One rule for re-running a value-moving action (a deposit, a burn, a snapshot, a claim), so that
 * every command behaves alike (README "Re-runs and --key"):
 * - an interrupted run (its step open in the journal) is always resumed, never sent again;
 * - with an idempotency key (`--key K`, IMO_IDEMPOTENCY_KEY), the action is done at most once per
 *   key: a re-run with the same key reports the earlier result and sends nothing (exit 0), and the
 *   same key for other inputs is refused (exit 2);
 * - without a key, repeating a finished action with the same inputs in the same snapshot period
 *   asks first on a terminal and is refused without one (exit 2): a new key makes it deliberate.
 */
import { UsageError } from '../errors.js'
import type { JournalStepSummary } from './journalSteps.js'

/**
 * Settles which journal step a keyed action uses.
 * @param keyed - the step already done under the key (findKeyedStep), if any.
 * @param sameInputs - whether that step had the inputs asked for now.
 * @param describe - the earlier action in words, e.g. 'a deposit of 1 ETH'.
 * @param key - the key.
 * @returns the earlier step's id to reuse (sendStep then reports or resumes it), or undefined for a new action.
 * @throws UsageError (2) when the key names an action with other inputs.
 * @example
 * const reuse = keyedStepId(findKeyedStep(journal, prefix, key), sameAmount, 'a deposit of 1 ETH', key)
 */
export function keyedStepId(
  keyed: JournalStepSummary | undefined,
  sameInputs: boolean,
  describe: string,
  key: string,
): string | undefined {
  if (!keyed) return undefined
  if (!sameInputs)
    throw new UsageError(`--key ${key} already names ${describe}${keyed.txHash ? ` (${keyed.txHash})` : ''}; nothing was sent`, {
      hint: 'a key names one action: give a new action a new key (a re-run with the same key and inputs never repeats it)',
    })
  return keyed.id
}

/**
 * Without a key: stops before repeating a finished action of the same inputs in the same period.
 * @param earlier - the finished steps of the same inputs in the period.
 * @param already - what was done, e.g. '0xf39F… already deposited 1 ETH in this snapshot period'.
 * @param question - the terminal question, e.g. 'Deposit 1 ETH again?'.
 * @returns true to go on (nothing earlier, or confirmed on a terminal), false when the operator said no.
 * @throws UsageError (2) without a terminal.
 * @example
 * if (!(await guardRepeat(earlier, 'already burned 10 PAT in this snapshot period', 'Burn 10 PAT again?'))) return cancelled
 */
export async function guardRepeat(earlier: JournalStepSummary[], already: string, question: string): Promise<boolean> {
  const done = earlier.filter((step) => step.state === 'confirmed')
  if (done.length === 0) return true
  const last = done[done.length - 1]!
  const text = `${already} (${done.length}x, last ${last.txHash ?? last.id})`
  const { isInteractive } = await import('../cli/ui.js')
  if (!isInteractive())
    throw new UsageError(`${text}; nothing was sent`, {
      hint: 'a re-run after an interruption resumes by itself; to do it once more on purpose pass a new --key (scripts: --key "$CI_PIPELINE_ID" makes retries safe)',
    })
  const { confirmAction } = await import('./confirmAction.js')
  return confirmAction(`${text}. ${question}`, { skip: false, flag: '--key', what: question })
}
