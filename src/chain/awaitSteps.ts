/**
 * The waiting part of a run: rounds of pollReceipts until every run in flight is confirmed, reverted
 * or replaced, or --timeout passes (NotConfirmedError, exit 5: the journal keeps every signed
 * transaction, so a re-run resumes them).
 */
import { NotConfirmedError } from '../errors.js'
import { pollReceipts } from './pollReceipts.js'
import { awaiting, type EngineRun, type StepRun } from './stepRun.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * @param engine - the run.
 * @param runs - every run of the call (the settled ones count for progress).
 * @param onProgress - called with (settled, total) as runs settle.
 * @throws NotConfirmedError (5) naming what is still unconfirmed, and the RPC's last failure if any.
 * @example
 * await awaitSteps(engine, runs, (done, total) => spin.update(`${done}/${total}`))
 */
export async function awaitSteps(
  engine: EngineRun,
  runs: StepRun[],
  onProgress?: (done: number, total: number) => void,
): Promise<void> {
  const { ctx } = engine
  const deadline = Date.now() + ctx.tx.timeoutMs
  const report = () => onProgress?.(runs.filter((run) => run.outcome || run.phase === 'replaced').length, runs.length)
  report()
  let waiting = runs.filter(awaiting)
  while (waiting.length > 0) {
    waiting = await pollReceipts(engine, waiting, report)
    if (waiting.length === 0) break
    if (Date.now() > deadline) {
      const list = waiting.map((run) => `${run.step.label} ${run.signed!.hash}`).join('; ')
      const rpc = engine.lastRpcError ? ` (the RPC also failed: ${engine.lastRpcError.shortMessage})` : ''
      throw new NotConfirmedError(`not confirmed after ${Math.round(ctx.tx.timeoutMs / 1000)} s: ${list}${rpc}`, {
        hint: 're-run the same command to resume (the journal keeps the signed transactions); --timeout waits longer',
      })
    }
    await sleep(ctx.tx.pollingIntervalMs)
  }
}
