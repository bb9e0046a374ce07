/**
 * The dispatcher's side of the inference queue (`imo serve --queue`): add one job per paid request,
 * collect each result once, list and retry the failed set, and hear about workers that refused work.
 *
 * Results: a completed job stays in Redis until the dispatcher has collected it. `collect(handler)`
 * hands every outcome to the handler, from BullMQ's QueueEvents stream (low latency) and from a sweep
 * of the completed and failed sets (at start, then every few seconds, so nothing is lost while the
 * dispatcher or Redis was away). Only after the handler resolved is a completed job acknowledged:
 * marked collected (for a week) and removed. So each job id is handed over once per run, and again
 * after a dispatcher crash only if the crash came between the handler and the acknowledgement
 * (at-least-once across crashes: fulfilment through the journal is idempotent).
 */
import type { Job, Queue, QueueEvents } from 'bullmq'
import type { AigcDataMode } from '../inference/erc7007.js'
import type { Bytes32 } from '../tensor/encodeTensors.js'
import { checkRedis, loadRedis, parseQueueUrl, redisOptions, settlesWithin } from './connectRedis.js'
import {
  attemptsOf,
  type InferenceJobData,
  isOffChainRequest,
  JOB_NAME,
  JOB_OPTIONS,
  jobIdOf,
  MODEL_KEY,
  QUEUE_NAME,
  QUEUE_PREFIX,
  requestIdOf,
} from './inferenceJob.js'
import { type QuarantineEntry, readQuarantine, recordQuarantine } from './quarantine.js'
import { REFUSAL_EVENT, type Refusal, readRefusals } from './refusals.js'
import { outputsKey, RESULT_JSON_LIMIT, type ReceivedResult, receiveWorkerResult, WorkerResultError } from './workerResult.js'

export interface OpenInferenceQueueOptions {
  /** `redis://HOST:PORT/DB`. */
  url: string
  /** The deployment's model hash: every job carries it, workers with another model refuse. Needed to
   * enqueue; a handle that only lists or retries (`imo requests --queue`) may leave it out. */
  modelHash?: Bytes32
  /** The folder shared with the workers' `--artifact-dir`, for outputs over the Redis limit. */
  artifactDir?: string
  /** How often the completed/failed sets and the refusals are swept (default 5000 ms). */
  sweepIntervalMs?: number
  /** One line about the queue's connection (lost, back), for the dispatcher's log. */
  onLog?: (message: string) => void
  /** Collect only the jobs this process added (a serve that does not follow the chain: its results are the follower's). */
  ownJobsOnly?: boolean
}

/** A request to run. */
export interface EnqueueInferenceInput {
  requestId: bigint | number | string
  prompt: string
  recipient: string
  /** Default: the queue's model hash (the deployment's). */
  modelHash?: Bytes32
  aigcDataMode?: AigcDataMode
  meta?: InferenceJobData['meta']
  /** An off-chain call's generation flags (the worker runs with them, serve checks against them). */
  generation?: InferenceJobData['generation']
  /** Add the job again even when this request's result was already collected. */
  again?: boolean
}

export interface EnqueueInferenceResult {
  jobId: string
  /** `added`: a new job; `exists`: the job is already queued, running or awaiting collection (nothing
   * added); `collected`: its result was collected before (nothing added; pass `again` to re-run). */
  status: 'added' | 'exists' | 'collected'
}

/** The names a result's worker goes by: its own, and the one BullMQ recorded for the job (both self-declared). */
export interface WorkerNames {
  worker: string
  processedBy?: string
}

/** What collect() hands over. */
export type InferenceOutcome =
  | {
      kind: 'completed'
      requestId: string
      jobId: string
      /** Read with size caps; the outputs hash to the record's outputHash. What they mean is checked by serve (checkWorkerResult.ts). */
      received: ReceivedResult
      names: WorkerNames
      attemptsMade: number
      /** From the job's enqueueing to its completion. */
      latencyMs: number
      meta: InferenceJobData['meta']
    }
  | {
      kind: 'failed'
      requestId: string
      jobId: string
      reason: string
      attemptsMade: number
      /** `failed-set`: attempts used up, the job is in the failed set (retryFailed re-runs it);
       * `rejected`: the worker's result could not be read, the job is gone (enqueue it again to re-run). */
      where: 'failed-set' | 'rejected'
      /** `rejected`: whether the answer was hostile (see WorkerResultError), and who gave it. */
      forged?: boolean
      names?: WorkerNames
      meta: InferenceJobData['meta']
    }
  | { kind: 'refused'; refusal: Refusal }

/** A job of the failed set, for `imo requests --open` and `imo status`. */
export interface FailedInference {
  requestId: string
  jobId: string
  prompt: string
  reason: string
  attemptsMade: number
  failedAt: number | undefined
}

export type QueueCounts = Record<'waiting' | 'active' | 'delayed' | 'completed' | 'failed', number>

/** The dispatcher's handle on the queue. */
export interface InferenceQueue {
  /** The URL with its password hidden. */
  display: string
  enqueueInference(input: EnqueueInferenceInput): Promise<EnqueueInferenceResult>
  /** Starts handing outcomes to `handler` (one handler; call once). Outcomes of one job never overlap. */
  collect(handler: (outcome: InferenceOutcome) => void | Promise<void>): void
  listFailed(): Promise<FailedInference[]>
  /** Where a request's job is (BullMQ's state: waiting, active, delayed, completed, failed...), or `unknown`. */
  stateOf(requestId: bigint | number | string): Promise<string>
  /** Moves a failed job (or all, without an id) back to the queue; returns how many. */
  retryFailed(requestId?: bigint | number | string): Promise<number>
  /** Workers that refused work because their model's hash was not the job's. */
  listRefusals(): Promise<Refusal[]>
  /** Workers serve quarantined (quarantine.ts). */
  listQuarantined(): Promise<QuarantineEntry[]>
  /** Records a quarantine for the queue's readers. */
  quarantine(entry: QuarantineEntry): Promise<void>
  counts(): Promise<QueueCounts>
  /** Workers connected to the queue now. */
  workers(): Promise<number>
  /**
   * Registers the one listener told when Redis may have lost its jobs: the connection came back, or
   * the server's run id changed (a restarted Redis, maybe without its data). The dispatcher then adds
   * again the jobs it waits for (an add of a job that is there changes nothing).
   */
  onReset(listener: () => void): void
  close(): Promise<void>
}

/** How long a collected job id is remembered (so an event seen again adds no job). */
const COLLECTED_TTL_S = 7 * 24 * 3600
/** How long an off-chain call's finished job waits for its serve (which collects it within seconds). */
const OFF_CHAIN_KEEP_S = 3600
/** BullMQ's event stream is only a hint here (the sweep is the record), so it stays short. */
const EVENTS_MAX_LEN = 500

/**
 * Checks the Redis at `url` (reachable, Redis, noeviction) and opens the queue for dispatching.
 * @param options - URL, the deployment's model hash, the shared artifact folder.
 * @returns the queue handle; close() it when done.
 * @throws RpcError (exit 6) / UsageError (exit 2) from checkRedis, before anything is opened.
 * @example
 * import { openInferenceQueue } from './queue/openInferenceQueue.js'
 * const queue = await openInferenceQueue({ url: 'redis://10.0.0.5:6379/0', modelHash: deployment.modelHash })
 * queue.collect(async (outcome) => {
 *   if (outcome.kind === 'completed') await fulfil(outcome.requestId, outcome.output) // record, artifactBytes, aigcData...
 *   else if (outcome.kind === 'failed') log(`request ${outcome.requestId} failed: ${outcome.reason}`)
 *   else log(`worker ${outcome.refusal.worker.id} refused: its model is ${outcome.refusal.workerModelHash}`)
 * })
 * await queue.enqueueInference({ requestId: 7n, prompt: 'a red spiral', recipient: '0x…' }) // { jobId: 'request-7', status: 'added' }
 */
export async function openInferenceQueue(options: OpenInferenceQueueOptions): Promise<InferenceQueue> {
  const url = parseQueueUrl(options.url)
  await checkRedis(url)
  const { Queue, QueueEvents } = await import('bullmq')
  const connection = redisOptions(url)
  const log = options.onLog ?? (() => {})
  const queue: Queue<InferenceJobData> = new Queue<InferenceJobData>(QUEUE_NAME, {
    connection,
    prefix: QUEUE_PREFIX,
    streams: { events: { maxLen: EVENTS_MAX_LEN } },
  })
  watchConnection(queue, 'queue', log)
  const Redis = await loadRedis()
  const client = new Redis(connection)
  client.on('error', () => {}) // reported through the queue's own connection
  // Workers tell a job of another model (refused, the worker goes on) from a model of their own that
  // is not the dispatcher's (the worker stops) by the model this dispatcher serves.
  if (options.modelHash) await client.set(MODEL_KEY, options.modelHash)
  let resetListener: (() => void) | undefined
  let runId: string | undefined
  /** Redis's run id; a change means another server process, whose data may be gone. */
  const checkRunId = async () => {
    const id = /^run_id:(\S+)/m.exec(await client.info('server'))?.[1]
    if (id && runId && id !== runId) resetListener?.()
    runId = id ?? runId
  }
  let connections = 0
  client.on('ready', () => {
    if (connections++ > 0) resetListener?.()
    void checkRunId().catch(() => {})
  })
  const keyOf = (kind: string, id: string) => `${QUEUE_PREFIX}:${QUEUE_NAME}:imo-${kind}:${id}`

  let handler: ((outcome: InferenceOutcome) => void | Promise<void>) | undefined
  let events: QueueEvents | undefined
  let sweepTimer: NodeJS.Timeout | undefined
  let closed = false
  const inflight = new Set<string>()
  const seenRefusals = new Set<string>()
  /** Data of the jobs this process added and has not collected yet. */
  const known = new Map<string, InferenceJobData>()

  /**
   * Hands one finished job over. `live` is a completion heard on the event stream for a job this
   * process added: its data is known and its return value came with the event, so the handler runs
   * without another round trip to Redis (the sweep path reads the job and checks the collected mark).
   */
  const deliver = async (jobId: string, live?: { data: InferenceJobData; returnvalue: unknown }) => {
    if (!handler || closed || inflight.has(jobId)) return
    // An off-chain call waits in the serve process that added it (several may share the queue): only
    // that one collects it; a serve that does not follow the chain collects only its own calls.
    if ((options.ownJobsOnly || isOffChainRequest(requestIdOf(jobId))) && !known.has(jobId)) return
    inflight.add(jobId)
    const jobKey = `${QUEUE_PREFIX}:${QUEUE_NAME}:${jobId}`
    try {
      const requestId = requestIdOf(jobId)
      let data: InferenceJobData
      let returnvalue: unknown
      let tooLarge: number | undefined
      // The names BullMQ recorded (self-declared by the worker), and the size of the return value,
      // read before the value itself: a worker decides how large it is.
      const [[, processedBy], [, size]] = ((await client.pipeline().hget(jobKey, 'pb').hstrlen(jobKey, 'returnvalue').exec()) ??
        []) as [[unknown, string | null], [unknown, number]]
      if (live) {
        ;({ data, returnvalue } = live)
        // Parsed by BullMQ already (from its event stream): measured here, refused below when too large.
        const length = JSON.stringify(returnvalue ?? null).length
        if (length > RESULT_JSON_LIMIT) tooLarge = length
      } else if (size > RESULT_JSON_LIMIT) {
        if (await client.exists(keyOf('collected', jobId))) {
          await queue.remove(jobId)
          return
        }
        const text = await client.hget(jobKey, 'data')
        if (!text) return
        data = JSON.parse(text) as InferenceJobData
        tooLarge = size
      } else {
        const job = (await queue.getJob(jobId)) as Job<InferenceJobData> | undefined
        if (!job?.finishedOn) return
        data = job.data
        returnvalue = job.returnvalue
        if (job.failedReason !== undefined && job.returnvalue == null) {
          const notified = keyOf('notified', jobId)
          if ((await client.get(notified)) === String(job.finishedOn)) return
          const reason = job.failedReason
          await handler({
            kind: 'failed',
            requestId,
            jobId,
            reason,
            attemptsMade: attemptsOf(job),
            where: 'failed-set',
            meta: data.meta,
          })
          await client.set(notified, String(job.finishedOn), 'EX', COLLECTED_TTL_S)
          if (isOffChainRequest(requestId)) known.delete(jobId) // its caller got the failure; nobody retries it
          return
        }
        if (await client.exists(keyOf('collected', jobId))) {
          await job.remove()
          return
        }
      }
      known.delete(jobId)
      const claimed = (returnvalue as { worker?: { id?: unknown } } | null)?.worker?.id
      // Shown and kept as names only: visible ASCII, 200 characters at most. A result too large to read
      // goes by the name BullMQ recorded.
      const shown = (name: unknown) => (typeof name === 'string' ? name.replace(/[^\x21-\x7e]/g, '?').slice(0, 200) : '')
      const names: WorkerNames = {
        worker: shown(claimed) || shown(processedBy) || 'unnamed',
        ...(shown(processedBy) ? { processedBy: shown(processedBy) } : {}),
      }
      const attemptsMade = Number((returnvalue as { attempt?: number } | null)?.attempt) || 1
      let outcome: InferenceOutcome
      try {
        if (tooLarge !== undefined)
          throw new WorkerResultError(`the worker result is ${tooLarge} bytes, over the ${RESULT_JSON_LIMIT} bytes serve reads`, {
            forged: true,
          })
        const received = await receiveWorkerResult(returnvalue, jobId, {
          readRedis: async (key, maxBytes) => {
            // GETRANGE reads at most maxBytes + 1 bytes, whatever the worker stored: over the cap shows as too long.
            const bytes = await client.getrangeBuffer(key, 0, maxBytes)
            return bytes.byteLength === 0 ? undefined : new Uint8Array(bytes)
          },
          artifactDir: options.artifactDir,
        })
        outcome = {
          kind: 'completed',
          requestId,
          jobId,
          received,
          names,
          attemptsMade,
          latencyMs: Date.now() - data.enqueuedAt,
          meta: data.meta,
        }
      } catch (error) {
        if (!(error instanceof WorkerResultError)) throw error
        outcome = {
          kind: 'failed',
          requestId,
          jobId,
          reason: error.message,
          attemptsMade,
          where: 'rejected',
          forged: error.forged,
          names,
          meta: data.meta,
        }
      }
      await handler(outcome)
      await client.set(keyOf('collected', jobId), outcome.kind, 'EX', COLLECTED_TTL_S)
      const outputHash = (returnvalue as { record?: { outputHash?: unknown } } | null)?.record?.outputHash
      if (typeof outputHash === 'string' && /^0x[0-9a-f]{64}$/.test(outputHash)) await client.del(outputsKey(jobId, outputHash))
      await queue.remove(jobId)
    } catch (error) {
      if (!closed) log(`could not collect ${jobId}: ${(error as Error).message}; will retry`)
    } finally {
      inflight.delete(jobId)
    }
  }

  const deliverRefusals = async () => {
    if (!handler || closed) return
    for (const refusal of await readRefusals(client)) {
      const key = `${refusal.worker.id}@${refusal.at}`
      if (seenRefusals.has(key)) continue
      seenRefusals.add(key)
      await handler({ kind: 'refused', refusal })
    }
  }

  const sweep = async () => {
    try {
      for (const state of ['completed', 'failed'] as const) {
        // Ids only (oldest first): a job is read once, by deliver, if it is not being handed over already.
        for (const jobId of await queue.getRanges([state], 0, 999, true)) await deliver(jobId)
      }
      await deliverRefusals()
      await checkRunId()
    } catch (error) {
      if (!closed) log(`queue sweep failed: ${(error as Error).message}; will retry`)
    }
  }

  return {
    display: url.display,

    async enqueueInference(input) {
      const jobId = jobIdOf(input.requestId)
      const collectedKey = keyOf('collected', jobId)
      if (input.again) await client.del(collectedKey)
      // One round trip for both looks: was it collected before, is the job there now?
      const [collected, exists] = (
        (await client.pipeline().exists(collectedKey).exists(`${QUEUE_PREFIX}:${QUEUE_NAME}:${jobId}`).exec()) ?? []
      ).map(([error, value]) => {
        if (error) throw error
        return value === 1
      })
      if (collected) return { jobId, status: 'collected' }
      const modelHash = input.modelHash ?? options.modelHash
      if (!modelHash) throw new Error('enqueueInference needs a model hash (openInferenceQueue without modelHash)')
      const data: InferenceJobData = {
        requestId: String(BigInt(String(input.requestId))),
        prompt: input.prompt,
        recipient: input.recipient,
        modelHash,
        aigcDataMode: input.aigcDataMode ?? 'digest',
        enqueuedAt: Date.now(),
        ...(input.meta ? { meta: input.meta } : {}),
        ...(input.generation ? { generation: input.generation } : {}),
      }
      if (exists) return { jobId, status: 'exists' }
      // Adding a taken job id changes nothing in Redis (BullMQ keeps the existing job), so a race with
      // another add is harmless.
      known.set(jobId, data)
      await queue.add(JOB_NAME, data, {
        ...JOB_OPTIONS,
        // An off-chain call's job whose serve is gone (nobody else collects it) does not stay for ever.
        ...(isOffChainRequest(data.requestId)
          ? { removeOnComplete: { age: OFF_CHAIN_KEEP_S }, removeOnFail: { age: OFF_CHAIN_KEEP_S } }
          : {}),
        jobId,
      })
      return { jobId, status: 'added' }
    },

    collect(next) {
      if (handler) throw new Error('collect() takes one handler')
      handler = next
      events = new QueueEvents(QUEUE_NAME, { connection, prefix: QUEUE_PREFIX })
      watchConnection(events, 'queue events', log)
      events.on('completed', ({ jobId, returnvalue }) => {
        const data = known.get(jobId)
        void deliver(jobId, data ? { data, returnvalue } : undefined)
      })
      events.on('failed', ({ jobId }) => void deliver(jobId))
      events.on(REFUSAL_EVENT as 'error', () => void deliverRefusals())
      sweepTimer = setInterval(() => void sweep(), options.sweepIntervalMs ?? 5000)
      void sweep()
    },

    async listFailed() {
      const jobs = await queue.getFailed(0, -1)
      return jobs
        .filter((job): job is Job<InferenceJobData> => Boolean(job?.id))
        .map((job) => ({
          requestId: requestIdOf(job.id),
          jobId: job.id!,
          prompt: job.data.prompt,
          reason: job.failedReason,
          attemptsMade: attemptsOf(job),
          failedAt: job.finishedOn === undefined ? undefined : job.finishedOn / 1000, // unix seconds, as every *At (toJson prints ISO)
        }))
    },

    async stateOf(requestId) {
      return queue.getJobState(jobIdOf(requestId))
    },

    async retryFailed(requestId) {
      if (requestId === undefined) {
        const count = (await queue.getJobCounts('failed')).failed ?? 0
        await queue.retryJobs({ state: 'failed', count: 1000 })
        return count
      }
      const job = await queue.getJob(jobIdOf(requestId))
      if (!job || !(await job.isFailed())) return 0
      await job.retry('failed')
      return 1
    },

    listRefusals: () => readRefusals(client),
    listQuarantined: () => readQuarantine(client),
    quarantine: (entry) => recordQuarantine(client, entry),

    async counts() {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized')
      return {
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        completed: counts.completed ?? 0,
        failed: counts.failed ?? 0,
      }
    },

    workers: () => queue.getWorkersCount(),

    onReset(listener) {
      resetListener = listener
    },

    async close() {
      closed = true
      if (sweepTimer) clearInterval(sweepTimer)
      // Bounded: with Redis gone a close waits for a reconnection (serve --queue stopping, say).
      if (!(await settlesWithin(Promise.allSettled([events?.close(), queue.close()]), 2000)))
        await settlesWithin(Promise.allSettled([events?.disconnect(), queue.disconnect()]), 500)
      client.disconnect()
    },
  }
}

/**
 * Keeps a BullMQ object's connection errors from crashing the process (ioredis reconnects on its
 * own) and logs one line when the connection is lost and one when it is back.
 */
export function watchConnection(
  target: {
    on(event: 'error', listener: (error: Error) => void): unknown
    client: Promise<{ on(event: string, listener: () => void): unknown }>
  },
  what: string,
  log: (message: string) => void,
): void {
  let lost = false
  target.on('error', (error: Error) => {
    if (lost) return
    lost = true
    log(`${what}: lost Redis (${error.message.split('\n')[0]}); reconnecting`)
  })
  void target.client
    .then((client) =>
      client.on('ready', () => {
        if (!lost) return
        lost = false
        log(`${what}: Redis is back`)
      }),
    )
    .catch(() => {})
}
