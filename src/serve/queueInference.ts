/**
 * The queue-backed InferenceSource of `imo serve --queue redis://HOST:PORT/DB`: each request becomes
 * one BullMQ job (job id = request id, so an event seen twice is one job), `imo worker` processes on
 * any machine run it, and the result comes back through openInferenceQueue's collector, once.
 *
 * Trust: a worker's result is untrusted input. openInferenceQueue already re-checks it against its job
 * (checkWorkerResult: artifact SHA-256 and size, prompt and aigcData hashes, config hash, commitment
 * recomputed from the returned bytes). Here it is also bound to what the dispatcher itself knows, not
 * to the job data in Redis: the deployment's model hash, the request's prompt and prompt hash as read
 * from the chain, the aigcData mode serve asked for. A result that fails is a failed request (logged),
 * never signed. (Whether the output is what the model computes needs a re-execution: `imo verify`.)
 *
 * Many jobs are in flight at once (capacity); results that arrive while nobody waits (a previous
 * run's, or a failed job retried by the operator) are held for the next infer() of that request.
 */
import type { Hex } from 'viem'
import type { AigcDataMode } from '../inference/erc7007.js'
import type { InferenceQueue, InferenceOutcome as QueueOutcome } from '../queue/openInferenceQueue.js'
import type { WorkerOutput } from '../queue/workerResult.js'
import type { Bytes32 } from '../tensor/encodeTensors.js'
import { type InferenceJob, type InferenceSource, ParkedInferenceError } from './inferenceSource.js'
import type { ServeEvent } from './runServe.js'

export interface QueueInferenceOptions {
  /** `redis://HOST:PORT/DB`. */
  url: string
  /** The deployment's model hash: jobs carry it, results must be made with it. */
  modelHash: Hex
  /** Folder whose `<first 12 hex of the commitment>` subfolders receive each result's record and artifact. */
  outRoot: string
  aigcDataMode?: AigcDataMode
  /** The folder shared with the workers' `--artifact-dir` (artifacts over 1 MiB). */
  artifactDir?: string
  /** Jobs in flight at once (default 1000: the queue is the buffer, the workers set the pace). */
  capacity?: number
  /** How often the queue's completed and failed sets are swept (default 5000 ms). */
  sweepIntervalMs?: number
  /** serve's log: refusals, rejected results, Redis lost and back. */
  log(event: ServeEvent): void
}

/** Results nobody waited for are kept this long (then a new infer() runs the job again). */
const HELD_MS = 15 * 60_000

/**
 * Checks Redis (reachable, Redis, noeviction) and opens the queue as serve's inference source.
 * @param options - URL, the deployment's model hash, output folder, serve's log.
 * @returns the source; serve closes it when it stops.
 * @throws RpcError (exit 6) / UsageError (exit 2) when the Redis cannot be used, before anything starts.
 * @example
 * import { createQueueInference } from './serve/queueInference.js'
 * const source = await createQueueInference({ url: 'redis://10.0.0.5:6379/0', modelHash: deployment.modelHash, outRoot: 'out', log })
 * const { item } = await source.infer({ requestId: 7n, prompt: 'a red spiral', promptHash, recipient })
 */
export async function createQueueInference(options: QueueInferenceOptions): Promise<InferenceSource> {
  const { openInferenceQueue } = await import('../queue/openInferenceQueue.js')
  const { keccak256 } = await import('viem')
  const { join } = await import('node:path')
  const aigcDataMode = options.aigcDataMode ?? 'digest'
  const log = options.log
  /** Redis failures so far (lost connections, failed sweeps and collections), for serve's metrics. */
  let errors = 0
  const queue: InferenceQueue = await openInferenceQueue({
    url: options.url,
    modelHash: options.modelHash as Bytes32,
    ...(options.artifactDir ? { artifactDir: options.artifactDir } : {}),
    ...(options.sweepIntervalMs ? { sweepIntervalMs: options.sweepIntervalMs } : {}),
    onLog: (message) => {
      if (!/Redis is back/.test(message)) errors++
      log({ event: 'queue', message })
    },
  })

  const waiters = new Map<string, Waiter>()
  const held = new Map<string, Held>()
  let availableListener: ((requestId: bigint) => void) | undefined
  queue.collect((outcome) => routeOutcome(outcome, { waiters, held, log, available: (id) => availableListener?.(id) }))

  /** Adds a job for a request serve waits for (nothing happens when the job is there). */
  const enqueue = (job: InferenceJob) =>
    queue.enqueueInference({
      requestId: job.requestId,
      prompt: job.prompt,
      recipient: job.recipient ?? `0x${'00'.repeat(20)}`,
      aigcDataMode,
      again: true,
    })
  queue.onReset(() => {
    errors++ // a lost connection, or another Redis process
    void addAgain(
      [...waiters.values()].map((waiter) => waiter.job),
      enqueue,
      log,
    )
  })

  /** Binds a checked result to the request as the chain states it; a one-line reason otherwise. */
  const bind = (job: InferenceJob, output: WorkerOutput): void => {
    const record = output.record
    const fail = (what: string): never => {
      throw new Error(`the result of worker ${output.worker.id} was rejected, nothing signed: ${what}`)
    }
    if (output.requestId !== String(job.requestId)) fail(`it answers request ${output.requestId}`)
    if (record.modelHash.toLowerCase() !== options.modelHash.toLowerCase())
      fail(`model ${record.modelHash} is not the deployment's ${options.modelHash}`)
    if (record.prompt !== job.prompt) fail("its prompt is not the request's")
    if (keccak256(output.promptBytes) !== job.promptHash.toLowerCase())
      fail("its prompt bytes do not hash to the request's promptHash")
    if (record.aigcDataMode !== aigcDataMode) fail(`aigcData mode ${record.aigcDataMode}, not ${aigcDataMode}`)
  }

  /** The MintItem of a bound result; `inferenceMs`: from infer() to the checked result (enqueue, queue, worker, collection). */
  const toOutcome = async (job: InferenceJob, outcome: QueueOutcome & { kind: 'completed' }, inferenceMs: number) => {
    bind(job, outcome.output)
    const { record, artifactBytes, promptBytes, aigcData } = outcome.output
    const outDir = join(options.outRoot, record.commitment.slice(2, 14))
    const { writeQueuedInference } = await import('./writeQueuedInference.js')
    return {
      item: {
        record,
        artifactBytes,
        promptBytes,
        aigcData,
        outDir,
        writeInference: () => writeQueuedInference(outDir, record, artifactBytes),
      },
      inferenceMs,
    }
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
        return toOutcome(job, ready.outcome, 0)
      }
      if (waiters.has(id)) throw new Error(`request ${id} is being inferred already`)
      const result = new Promise<QueueOutcome & { kind: 'completed' }>((resolve, reject) => {
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
      return toOutcome(job, outcome, performance.now() - started)
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
  resolve(outcome: QueueOutcome & { kind: 'completed' }): void
  reject(error: Error): void
}
type Held = { outcome: QueueOutcome & { kind: 'completed' }; at: number }

/**
 * Hands one outcome of the queue to whoever waits for it: a refusal is logged; a failure rejects its
 * waiter (parked when the job waits in the failed set); a result resolves its waiter, or is held for
 * the next infer() of its request when nobody waits (the operator retried a failed job).
 */
function routeOutcome(
  outcome: QueueOutcome,
  route: {
    waiters: Map<string, Waiter>
    held: Map<string, Held>
    log(event: ServeEvent): void
    available(requestId: bigint): void
  },
): void {
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
  if (outcome.kind === 'failed') {
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
      outcome.where === 'failed-set'
        ? new ParkedInferenceError(
            `its job failed ${outcome.attemptsMade} time${outcome.attemptsMade === 1 ? '' : 's'} (${outcome.reason}); it waits in the failed set: imo requests retry ${outcome.requestId} --queue URL runs it again`,
          )
        : new Error(`the worker's result was rejected: ${outcome.reason}`),
    )
    return
  }
  if (waiter) {
    waiters.delete(outcome.requestId)
    waiter.resolve(outcome)
    return
  }
  const now = Date.now()
  for (const [id, entry] of held) if (now - entry.at > HELD_MS) held.delete(id)
  held.set(outcome.requestId, { outcome, at: now })
  route.available(BigInt(outcome.requestId))
}
