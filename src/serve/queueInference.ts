/**
 * The queue-backed InferenceSource of `imo serve --queue redis://HOST:PORT/DB`: each request becomes
 * one BullMQ job (job id = request id, so an event seen twice is one job), `imo worker` processes on
 * any machine run it, and the result comes back through openInferenceQueue's collector, once.
 *
 * Trust: a worker holds no key, and its result is untrusted input. Every finished job goes through the
 * "check" stage for results made elsewhere (checkQueuedResult.ts: re-derived, audited at a rate, lying
 * workers quarantined) before infer() resolves; what infer() returns is an inference serve built
 * itself, or its own run when it refused the worker's.
 *
 * Many jobs are in flight at once (capacity); results that arrive while nobody waits (a previous
 * run's, or a failed job retried by the operator) are held for the next infer() of that request.
 */
import type { Hex } from 'viem'
import type { AigcDataMode } from '../inference/erc7007.js'
import type { InferenceResult } from '../inference/runInference.js'
import { isOffChainRequest } from '../queue/inferenceJob.js'
import type { InferenceQueue, InferenceOutcome as QueueOutcome } from '../queue/openInferenceQueue.js'
import type { Bytes32 } from '../tensor/encodeTensors.js'
import type { FinishedJob, QueuedResultCheck } from './checkQueuedResult.js'
import { type InferenceJob, type InferenceSource, ParkedInferenceError, requestOutDir } from './inferenceSource.js'
import type { ServeEvent } from './serveEvent.js'
import type { ServeMetrics } from './serveMetrics.js'

export interface QueueInferenceOptions {
  /** `redis://HOST:PORT/DB`. */
  url: string
  /** The deployment's model hash: jobs carry it, results must be made with it. */
  modelHash: Hex
  /** The deployment's model (its hash must be modelHash): serve checks results against it and re-runs some. */
  modelPath: string
  /** Folder whose per-request subfolders (requestOutDir) receive each result's files. */
  outRoot: string
  aigcDataMode?: AigcDataMode
  /** The folder shared with the workers' `--artifact-dir` (outputs over 1 MiB). */
  artifactDir?: string
  /** The share of worker results serve re-executes before signing (default DEFAULT_AUDIT_RATE). */
  auditRate?: number
  /** How long every result is audited after a mismatch (default ALARM_MS; tests shorten it). */
  alarmMs?: number
  /** Jobs in flight at once (default 1000: the queue is the buffer, the workers set the pace). */
  capacity?: number
  /** How often the queue's completed and failed sets are swept (default 5000 ms). */
  sweepIntervalMs?: number
  /** `--no-follow`: this serve adds only off-chain calls; it collects no other serve's results. */
  ownJobsOnly?: boolean
  /** serve's log: refusals, refused results, audits, quarantines, Redis lost and back. */
  log(event: ServeEvent): void
  metrics?: ServeMetrics
}

/** Results nobody waited for are kept this long (then a new infer() runs the job again). */
const HELD_MS = 15 * 60_000

/**
 * Loads the model, checks Redis (reachable, Redis, noeviction) and opens the queue as serve's
 * inference source.
 * @param options - URL, the deployment's model hash and model, output folder, audit rate, serve's log.
 * @returns the source; serve closes it when it stops.
 * @throws RpcError (exit 6) / UsageError (exit 2) when the Redis cannot be used or the model is not
 *   the deployment's, before anything starts.
 * @example
 * import { createQueueInference } from './serve/queueInference.js'
 * const source = await createQueueInference({ url: 'redis://10.0.0.5:6379/0', modelHash: deployment.modelHash, modelPath: 'models/cppn', outRoot: 'out', log })
 * const { item } = await source.infer({ requestId: 7n, prompt: 'a red spiral', promptHash, recipient })
 */
export async function createQueueInference(options: QueueInferenceOptions): Promise<InferenceSource> {
  const { openInferenceQueue } = await import('../queue/openInferenceQueue.js')
  const { createQueuedResultCheck, loadDeploymentModel } = await import('./checkQueuedResult.js')
  const { toMintItem } = await import('../mint/inferAndMint.js')
  const { keccak256 } = await import('viem')
  const aigcDataMode = options.aigcDataMode ?? 'digest'
  const { log, metrics } = options
  const model = await loadDeploymentModel(options.modelPath, options.modelHash)
  /** Redis failures so far (lost connections, failed sweeps and collections), for serve's metrics. */
  let errors = 0
  const queue: InferenceQueue = await openInferenceQueue({
    url: options.url,
    modelHash: options.modelHash as Bytes32,
    ...(options.artifactDir ? { artifactDir: options.artifactDir } : {}),
    ...(options.sweepIntervalMs ? { sweepIntervalMs: options.sweepIntervalMs } : {}),
    ...(options.ownJobsOnly ? { ownJobsOnly: true } : {}),
    onLog: (message) => {
      if (!/Redis is back/.test(message)) errors++
      log({ event: 'queue', message })
    },
  })

  const check: QueuedResultCheck = await createQueuedResultCheck({
    model,
    aigcDataMode,
    store: queue,
    log,
    ...(options.auditRate !== undefined ? { auditRate: options.auditRate } : {}),
    ...(options.alarmMs !== undefined ? { alarmMs: options.alarmMs } : {}),
    ...(metrics ? { metrics } : {}),
  }).catch(async (error: unknown) => {
    await queue.close()
    throw error
  })

  const waiters = new Map<string, Waiter>()
  const held = new Map<string, Held>()
  let availableListener: ((requestId: bigint) => void) | undefined
  queue.collect((outcome) => routeOutcome(outcome, { waiters, held, log, check, available: (id) => availableListener?.(id) }))

  /** Adds a job for a request serve waits for (nothing happens when the job is there). */
  const enqueue = (job: InferenceJob) =>
    queue.enqueueInference({
      requestId: job.requestId,
      prompt: job.prompt,
      recipient: job.recipient ?? `0x${'00'.repeat(20)}`,
      aigcDataMode,
      again: true,
      ...(job.generation ? { generation: job.generation } : {}),
    })
  queue.onReset(() => {
    errors++ // a lost connection, or another Redis process
    void addAgain(
      [...waiters.values()].map((waiter) => waiter.job),
      enqueue,
      log,
    )
  })

  /** The MintItem of the inference serve signs, its files written in the request's own folder now. */
  const toOutcome = async (job: InferenceJob, result: InferenceResult, inferenceMs: number) => {
    if (keccak256(result.promptBytes) !== job.promptHash.toLowerCase())
      throw new Error(`request ${job.requestId}: its prompt bytes do not hash to the request's promptHash`)
    if (isOffChainRequest(job.requestId)) return { item: await toMintItem(result, undefined), inferenceMs, result }
    // Written now, as the local source does: the item waiting to be sent then holds the record and
    // the artifact only, not the tensors.
    const { writeInference, ...item } = await toMintItem(
      result,
      requestOutDir(options.outRoot, job.requestId, result.record.commitment),
    )
    writeInference?.()
    return { item, inferenceMs }
  }

  return {
    modelHash: options.modelHash,
    capacity: options.capacity ?? 1000,
    onAvailable(listener) {
      availableListener = listener
    },
    async infer(job) {
      const started = performance.now()
      const id = String(job.requestId)
      const ready = held.get(id)
      if (ready) {
        held.delete(id)
        return toOutcome(job, await check.decide(job, ready.outcome), 0)
      }
      if (waiters.has(id)) throw new Error(`request ${id} is being inferred already`)
      const result = new Promise<FinishedJob>((resolve, reject) => {
        waiters.set(id, { job, resolve, reject })
      })
      try {
        // `again`: serve asks only when it needs a result, so one collected by an earlier run (that
        // stopped before fulfilling) is run again; a job still queued, running or in the failed set is
        // not added twice.
        const added = await enqueue(job)
        if (added.status === 'exists' && (await queue.stateOf(job.requestId)) === 'failed') {
          const failed = (await queue.listFailed()).find((f) => f.requestId === id)
          waiters
            .get(id)
            ?.reject(
              new ParkedInferenceError(
                `its job failed ${failed?.attemptsMade ?? '?'} times (${failed?.reason ?? 'see imo requests --open --queue URL'}); it waits in the failed set: imo requests retry ${id} --queue URL runs it again`,
              ),
            )
          waiters.delete(id)
        }
      } catch (error) {
        waiters.delete(id)
        throw error
      }
      const outcome = await result
      // The check stage: the worker's result re-derived (maybe audited), or serve's own run.
      const decided = await check.decide(job, outcome)
      return toOutcome(job, decided, performance.now() - started)
    },
    health: () =>
      Promise.all([queue.counts(), queue.workers()]).then(
        ([jobs, workers]) => ({ reachable: true, jobs, workers, errors }),
        () => ({ reachable: false, errors: ++errors }),
      ),
    async close() {
      for (const waiter of waiters.values()) waiter.reject(new Error('serve stopped'))
      waiters.clear()
      await queue.close()
    },
  }
}

/**
 * Redis came back, maybe without its data: the jobs serve waits for (derived from the requests it
 * follows on chain) are added again; a job that is there is left alone.
 */
async function addAgain(
  jobs: InferenceJob[],
  enqueue: (job: InferenceJob) => Promise<{ status: string }>,
  log: (event: ServeEvent) => void,
): Promise<void> {
  try {
    const added = (await Promise.all(jobs.map(enqueue))).filter((result) => result.status === 'added').length
    if (added > 0)
      log({ event: 'queue', message: `Redis lost ${added} job${added === 1 ? '' : 's'} serve waits for: added again` })
  } catch (error) {
    log({ event: 'queue', message: `could not add the jobs serve waits for again: ${(error as Error).message}` })
  }
}

interface Waiter {
  job: InferenceJob
  resolve(outcome: FinishedJob): void
  reject(error: Error): void
}
type Held = { outcome: FinishedJob; at: number }

/**
 * Hands one outcome of the queue to whoever waits for it: a refusal is logged; a job in the failed set
 * rejects its waiter (parked); a result (or a result that could not be read) resolves its waiter, for
 * the check stage to decide on; nobody waiting, a result is held for the next infer() of its request
 * (the operator retried a failed job) and one that could not be read is refused at once (a hostile
 * one still costs its worker).
 */
function routeOutcome(
  outcome: QueueOutcome,
  route: {
    waiters: Map<string, Waiter>
    held: Map<string, Held>
    log(event: ServeEvent): void
    check: QueuedResultCheck
    available(requestId: bigint): void
  },
): Promise<void> | undefined {
  const { waiters, held, log } = route
  if (outcome.kind === 'refused') {
    const { refusal } = outcome
    log({
      event: 'refused',
      message: `worker ${refusal.worker.id} refuses work: its model hashes to ${refusal.workerModelHash}, not the deployment's ${refusal.expectedModelHash}${refusal.jobId ? ` (job ${refusal.jobId} put back)` : ''}`,
      worker: refusal.worker.id,
      workerModelHash: refusal.workerModelHash,
    })
    return
  }
  const waiter = waiters.get(outcome.requestId)
  if (outcome.kind === 'failed' && outcome.where === 'failed-set') {
    if (!waiter) {
      log({
        event: 'failed',
        requestId: outcome.requestId,
        message: `request ${outcome.requestId}: its job failed: ${outcome.reason}`,
      })
      return
    }
    waiters.delete(outcome.requestId)
    waiter.reject(
      new ParkedInferenceError(
        `its job failed ${outcome.attemptsMade} time${outcome.attemptsMade === 1 ? '' : 's'} (${outcome.reason}); it waits in the failed set: imo requests retry ${outcome.requestId} --queue URL runs it again`,
      ),
    )
    return
  }
  if (waiter) {
    waiters.delete(outcome.requestId)
    waiter.resolve(outcome)
    return
  }
  if (outcome.kind === 'failed')
    // A result of an earlier run that could not be read: nobody asks for it now (serve asks again,
    // and re-queues, when it needs it).
    return route.check.refuse(
      outcome.requestId,
      outcome.names ?? { worker: 'unnamed' },
      outcome.reason,
      outcome.forged ? 'forged' : 'unavailable',
    )
  const now = Date.now()
  for (const [id, entry] of held) if (now - entry.at > HELD_MS) held.delete(id)
  held.set(outcome.requestId, { outcome, at: now })
  route.available(BigInt(outcome.requestId))
}
