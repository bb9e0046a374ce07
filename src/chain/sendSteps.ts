/**
 * The transaction engine (src/chain/README.md): a short loop that carries each step through its phases
 * (src/chain/stepRun.ts), one transition module per arrow, the journal the only record of state.
 *
 *   journal -> resumeStep: confirmed (nothing to do) | signed (resumed) | planned
 *   signed (resumed) -> checkJournalled: included | broadcast | confirmed (code at the address) | replaced
 *   replaced -> recoverReplaced: confirmed (effect on chain) | planned (dropped, sent again)
 *   planned -> signSteps: simulated -> signed (journalled and flushed BEFORE broadcast)
 *   signed -> broadcastStep: broadcast (in nonce order)
 *   broadcast | included -> pollReceipts (rounds, awaitSteps): confirmed | reverted | replaced
 *   then throwStepFailures: replaced (exit 7) before reverted (exit 4).
 *
 * Test-only fault points: IMO_TEST_CRASH_AT (src/chain/crashPoint.ts).
 */
import { ImoError } from '../errors.js'
import { mapConcurrent } from '../util/mapConcurrent.js'
import { awaitSteps } from './awaitSteps.js'
import { broadcastStep } from './broadcastStep.js'
import { checkJournalled } from './checkJournalled.js'
import { ARCHIVE_DEPTH, compactIfLarge } from './compactJournal.js'
import type { ChainContext } from './connect.js'
import { guardTornJournal } from './guardTornJournal.js'
import { holdJournalLock, inJournalTurn } from './journalTurn.js'
import { recoverReplaced } from './recoverReplaced.js'
import { resolveFees } from './resolveFees.js'
import { resumeStep } from './resumeStep.js'
import { signSteps } from './signSteps.js'
import { simulateStep } from './simulateStep.js'
import { throwStepFailures } from './stepFailures.js'
import { engineRun, type StepRun } from './stepRun.js'
import type { StepOutcome, TxStep } from './txStep.js'

/**
 * Sends several steps pipelined: signs and journals each with consecutive nonces, broadcasts them
 * all, then waits for all receipts. Steps already confirmed in the journal are skipped; journalled
 * ones are resumed (re-broadcast identically if the node does not know them).
 * @param ctx - chain context with a signer (and journal unless dry-run).
 * @param steps - the steps, in nonce order.
 * @param options - onProgress(done, total) as receipts arrive.
 * @returns one outcome per step, in order.
 * @throws SimulationRevertedError (3), TransactionRevertedError (4), NotConfirmedError (5), RpcError (6),
 *   NonceConflictError (7, with `data.outcomes`), InsufficientFundsError (8).
 * @example
 * const outcomes = await sendSteps(ctx, prompts.map(toMintStep), { onProgress: (d, t) => spin.update(`${d}/${t}`) })
 */
export async function sendSteps(
  ctx: ChainContext,
  steps: TxStep[],
  options: { onProgress?(done: number, total: number): void } = {},
): Promise<StepOutcome[]> {
  const ids = new Set<string>()
  for (const step of steps) {
    if (ids.has(step.id)) throw new ImoError(`two steps share the id ${step.id}`)
    ids.add(step.id)
  }
  if (!ctx.account) throw new ImoError('sendSteps needs a chain context with a signer (connectChain(..., { signer: true }))')
  if (ctx.tx.dryRun) {
    const fees = await resolveFees(ctx)
    return mapConcurrent(steps, 8, async (step): Promise<StepOutcome> => {
      const { gas, costWei } = await simulateStep(ctx, step, fees)
      return { id: step.id, label: step.label, status: 'dry-run', gas, costWei }
    })
  }
  const journal = ctx.journal
  if (!journal) throw new ImoError('sendSteps needs the signer journal (connectChain without --dry-run)')
  const engine = engineRun(ctx, journal)
  // A caller that holds the lock already (`imo serve`, for its whole run) keeps it; otherwise the first
  // of this process's overlapping calls takes it and the last one to finish releases it.
  const release = holdJournalLock(journal)
  try {
    // Nonces are taken from the chain's pending count: overlapping calls in this process (serve's
    // fulfilments and its API settlements) take turns until their transactions are broadcast, then
    // wait for their receipts side by side.
    const runs = await inJournalTurn(journal.path, () => signAndBroadcast(ctx, engine, journal, steps))
    await awaitSteps(engine, runs, options.onProgress)
    await throwStepFailures(engine, runs)
    return runs.map((run) => run.outcome!)
  } finally {
    release()
  }
}

/** resume, recover, sign and broadcast: the part of a call that reads and takes nonces. */
async function signAndBroadcast(
  ctx: ChainContext,
  engine: ReturnType<typeof engineRun>,
  journal: NonNullable<ChainContext['journal']>,
  steps: TxStep[],
): Promise<StepRun[]> {
  const fees = await resolveFees(ctx)
  compactIfLarge(journal, { depth: Math.max(ARCHIVE_DEPTH, ctx.tx.confirmations) })
  journal.reload()
  await guardTornJournal(engine)
  const runs: StepRun[] = []
  for (const step of steps) runs.push(await resumeStep(engine, step))
  let latestNonce: Promise<number> | undefined
  for (const run of runs)
    if (run.phase === 'signed') await checkJournalled(engine, run, () => (latestNonce ??= engine.latestNonce()))
  for (const run of runs) if (run.phase === 'replaced') await recoverReplaced(engine, run)
  const planned = runs.filter((run) => run.phase === 'planned')
  if (planned.length > 0) await signSteps(engine, planned, runs, fees)
  const unsent = runs.filter((run) => run.phase === 'signed').sort((a, b) => a.signed!.nonce - b.signed!.nonce)
  for (const run of unsent) await broadcastStep(engine, run)
  return runs
}
