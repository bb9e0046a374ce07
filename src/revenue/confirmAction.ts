/**
 * The one confirmation rule for actions that cannot be undone: ask on a terminal (inquirer
 * `confirm`, on stderr so --json stdout stays clean), skip with --yes, and without a terminal
 * refuse with an error naming the flag (exit 2).
 */
import { InputNeededError } from '../errors.js'

/**
 * Asks for confirmation unless `skip` is set.
 * @param question - the question, e.g. 'Burn 100 PAT for 0.4 ETH?'.
 * @param options - skip (the flag was given), flag and what (named in the error without a terminal).
 * @returns true when confirmed (or skipped), false when the operator answered no.
 * @throws InputNeededError (exit 2) without a terminal.
 * @example
 * import { confirmAction } from './confirmAction.js'
 * if (!(await confirmAction('Take snapshot 4 now?', { skip: Boolean(values.yes), flag: '--yes', what: 'the snapshot' })))
 *   return { status: 'cancelled' }
 */
export async function confirmAction(question: string, options: { skip: boolean; flag: string; what: string }): Promise<boolean> {
  if (options.skip) return true
  const { isInteractive } = await import('../cli/ui.js')
  if (!isInteractive()) throw new InputNeededError(options.flag, `confirmation for ${options.what}`)
  const { createPromptModule } = await import('inquirer')
  const prompt = createPromptModule({ output: process.stderr })
  const { ok } = await prompt<{ ok: boolean }>([{ type: 'confirm', name: 'ok', message: question, default: false }])
  return ok
}
