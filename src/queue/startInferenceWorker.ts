/**
 * The worker's side of the inference queue (`imo worker`): load the model once, check its hash, and
 * run jobs through the same entry point as `imo infer-and-mint` (runInference with the loaded model).
 * A worker holds no key: it returns the record and the artifact, the dispatcher signs.
 */
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import type { Job, Worker } from 'bullmq'
import { UsageError } from '../errors.js'
import type { LoadedModel } from '../inference/loadModel.js'
import { checkRedis, loadRedis, parseQueueUrl, redisOptions, settlesWithin } from './connectRedis.js'
import {
  type InferenceJobData,
  JOB_ATTEMPTS,
  LOCK_MS,
  MAX_STALLED,
  MODEL_KEY,
  QUEUE_NAME,
  QUEUE_PREFIX,
  requestIdOf,
  STALLED_CHECK_MS,
} from './inferenceJob.js'
import { watchConnection } from './openInferenceQueue.js'
import { type Refusal, recordRefusal } from './refusals.js'
import { OUTPUTS_TTL_S, packWorkerResult, type WorkerIdentity, WorkerResultError, type WorkerResultWire } from './workerResult.js'

export interface StartInferenceWorkerOptions {
  /** `redis://HOST:PORT/DB`. */
  url: string
  /** The model (folder or .onnx file). */
  modelPath: string
  /** Jobs run at the same time in this process (default 1). */
  concurrency?: number
  /** The deployment's model hash (from --deployment): refuse at start-up when the model differs. */
  expectedModelHash?: string
  /** Shared folder for artifacts over the inline limit (see workerResult.ts). */
  artifactDir?: string
  /**
   * How long a job's lock lasts without renewal (default LOCK_MS). It must outlast the model's longest
   * single run, during which the event loop cannot renew it; a killed worker's job waits this long.
   */
  lockMs?: number
  /** One call per finished job (completed, failed, retrying or refused). */
  onJob?: (event: WorkerJobEvent) => void
  /** One line about the connection (lost, back). */
  onLog?: (message: string) => void
}

/** What happened to one job in this worker. */
export interface WorkerJobEvent {
  jobId: string
  requestId: string
  status: 'completed' | 'retrying' | 'failed' | 'refused'
  /** 1 for the first run of the job, 2 for its first retry... */
  attempt: number
  ms: number
  reason?: string
  artifactBytes?: number
}

/** Why the worker stopped. */
export type WorkerStop = { reason: 'closed' } | { reason: 'refused'; refusal: Refusal }

export interface InferenceWorker {
  worker: WorkerIdentity
  modelHash: string
  /** Counts so far. */
  counts: { completed: number; failed: number; refused: number }
  /** Resolves when the worker has stopped: close() was called, or it refused a job. */
  stopped: Promise<WorkerStop>
  /** Stops taking jobs; waits up to `graceMs` (default 2500) for running ones, then abandons them
   * (their locks lapse and another worker re-runs them). */
  close(graceMs?: number): Promise<void>
}

/**
 * Checks Redis, loads and hashes the model, and starts taking jobs.
 * @param options - URL, model, concurrency, the deployment's model hash.
 * @returns the running worker.
 * @throws RpcError / UsageError from checkRedis; UsageError from loadModel; UsageError when the model's
 *   hash is not `expectedModelHash` (the refusal is recorded in Redis first, for the dispatcher).
 * @example
 * import { startInferenceWorker } from './queue/startInferenceWorker.js'
 * const worker = await startInferenceWorker({ url: 'redis://10.0.0.5:6379/0', modelPath: 'models/cppn', concurrency: 1 })
 * const stop = await worker.stopped // { reason: 'closed' } after worker.close()
 */
export async function startInferenceWorker(options: StartInferenceWorkerOptions): Promise<InferenceWorker> {
  const url = parseQueueUrl(options.url)
  const concurrency = options.concurrency ?? 1
  await checkRedis(url)
  const { loadModel } = await import('../inference/loadModel.js')
  const { runInference } = await import('../inference/runInference.js')
  const { Worker, WaitingError, UnrecoverableError } = await import('bullmq')
  const model: LoadedModel = await loadModel(options.modelPath)
  const host = hostname()
  const identity: WorkerIdentity = { id: `${host}:${process.pid}`, host, pid: process.pid }
  const artifactDir = options.artifactDir ? resolve(options.artifactDir) : undefined
  const log = options.onLog ?? (() => {})
  const counts = { completed: 0, failed: 0, refused: 0 }
  const connection = redisOptions(url)
  const sameHash = (hash: string) => hash.toLowerCase() === model.modelHash.toLowerCase()

  let stop: (value: WorkerStop) => void = () => {}
  const stopped = new Promise<WorkerStop>((resolve) => {
    stop = resolve
  })
  const report = async (refusal: Refusal) => {
    const Redis = await loadRedis()
    const client = new Redis({ ...connection, maxRetriesPerRequest: 3 })
    client.on('error', () => {})
    try {
      await recordRefusal(client, refusal)
    } finally {
      client.disconnect()
    }
  }
  if (options.expectedModelHash && !sameHash(options.expectedModelHash)) {
    const refusal: Refusal = {
      worker: identity,
      workerModelHash: model.modelHash,
      expectedModelHash: options.expectedModelHash,
      at: Date.now(),
    }
    await report(refusal)
    throw refusalError(refusal, options.modelPath)
  }

  // Outputs go into a key of their own (workerResult.ts), through one connection of this worker.
  const Redis = await loadRedis()
  const store = new Redis(connection)
  store.on('error', () => {}) // reported through the worker's own connection
  const storeOutputs = (key: string, bytes: Uint8Array) => store.set(key, Buffer.from(bytes), 'EX', OUTPUTS_TTL_S)

  let worker: Worker<InferenceJobData, WorkerResultWire> | undefined
  const refuse = async (job: Job<InferenceJobData>, token: string | undefined): Promise<never> => {
    worker?.pause(true).catch(() => {})
    await job.moveToWait(token)
    const refusal: Refusal = {
      worker: identity,
      workerModelHash: model.modelHash,
      expectedModelHash: job.data.modelHash,
      jobId: job.id!,
      at: Date.now(),
    }
    await report(refusal)
    counts.refused++
    options.onJob?.({ jobId: job.id!, requestId: requestIdOf(job.id), status: 'refused', attempt: job.attemptsMade + 1, ms: 0 })
    stop({ reason: 'refused', refusal })
    throw new WaitingError()
  }

  const started = new Map<string, number>()
  worker = new Worker<InferenceJobData, WorkerResultWire>(
    QUEUE_NAME,
    async (job, token) => {
      if (!sameHash(job.data.modelHash)) {
        // A job of another model than the one the dispatcher serves (written into Redis by hand, or
        // left from another deployment) is refused on its own: this worker's model is the right one.
        const served = await (await worker!.client).get(MODEL_KEY)
        if (served && sameHash(served))
          throw new UnrecoverableError(
            `job ${job.id} asks for model ${job.data.modelHash}, but the dispatcher of this queue serves ${served}: the job is refused, not the worker`,
          )
        return refuse(job, token)
      }
      // A stall (a killed worker, or a run that blocked longer than the lock) uses an attempt too.
      if ((job.attemptsStarted ?? 0) > JOB_ATTEMPTS)
        throw new UnrecoverableError(
          `started ${JOB_ATTEMPTS} times without finishing: its worker stalled each time (killed, or a model run blocked longer than the job lock; imo worker --lock-ms gives it more)`,
        )
      started.set(job.id!, performance.now())
      try {
        const result = await runInference({
          modelPath: model,
          prompt: job.data.prompt,
          aigcDataMode: job.data.aigcDataMode,
          ...(job.data.generation ? { generation: job.data.generation } : {}),
        })
        return await packWorkerResult(result, {
          worker: identity,
          attempt: job.attemptsMade + 1,
          jobId: job.id!,
          storeOutputs,
          artifactDir,
        })
      } catch (error) {
        // Bad input (a prompt the pipeline rejects) or outputs too large for Redis without an
        // --artifact-dir fail the same way on every worker: no retries. Anything else (a crash, a full disk) is retried.
        if (error instanceof UsageError || error instanceof WorkerResultError)
          throw new UnrecoverableError((error as Error).message)
        throw error
      }
    },
    {
      connection,
      prefix: QUEUE_PREFIX,
      name: identity.id, // recorded on each job it takes (job.processedBy)
      concurrency,
      lockDuration: options.lockMs ?? LOCK_MS,
      stalledInterval: STALLED_CHECK_MS,
      maxStalledCount: MAX_STALLED,
    },
  )
  watchConnection(worker, 'worker', log)
  const elapsed = (job: Job) => {
    const at = started.get(job.id!)
    started.delete(job.id!)
    return at === undefined ? 0 : Math.round(performance.now() - at)
  }
  worker.on('completed', (job, result) => {
    counts.completed++
    options.onJob?.({
      jobId: job.id!,
      requestId: requestIdOf(job.id),
      status: 'completed',
      attempt: job.attemptsMade, // counts this run once it finished
      ms: elapsed(job),
      artifactBytes: result.record.artifact.size,
    })
  })
  worker.on('failed', (job, error) => {
    if (!job) return
    const final = job.finishedOn !== undefined // set only when the job moved to the failed set
    if (final) counts.failed++
    options.onJob?.({
      jobId: job.id!,
      requestId: requestIdOf(job.id),
      status: final ? 'failed' : 'retrying',
      attempt: job.attemptsMade,
      ms: elapsed(job),
      reason: error.message.split('\n')[0] ?? '',
    })
  })
  await worker.waitUntilReady()

  let closing: Promise<void> | undefined
  const close = (graceMs = 2500) => {
    closing ??= (async () => {
      // Graceful (the running job finishes), then forced, then the connection dropped: with Redis gone
      // each close waits for a reconnection that never comes, and a stopped worker lingered for minutes.
      if (!(await settlesWithin(worker!.close(), graceMs)) && !(await settlesWithin(worker!.close(true), 1000)))
        await settlesWithin(worker!.disconnect(), 500)
      store.disconnect()
      stop({ reason: 'closed' })
    })()
    return closing
  }
  void stopped.then((how) => {
    if (how.reason === 'refused') void worker!.close(true).finally(() => store.disconnect())
  })
  return { worker: identity, modelHash: model.modelHash, counts, stopped, close }
}

/**
 * The one-line error of a worker that refused work (exit 2).
 * @example
 * const stop = await worker.stopped
 * if (stop.reason === 'refused') throw refusalError(stop.refusal, 'models/cppn')
 */
export function refusalError(refusal: Refusal, modelPath: string): UsageError {
  const asker = refusal.jobId ? `job ${refusal.jobId} asks` : 'the deployment asks'
  return new UsageError(
    `refusing work: the model ${modelPath} hashes to ${refusal.workerModelHash}, but ${asker} for ${refusal.expectedModelHash}`,
    { hint: "start the worker with the deployment's model (imo hash PATH shows a model's hash)" },
  )
}
