/**
 * Workers that refuse work: a worker whose model does not hash to the job's (the deployment's) model
 * hash puts the job back untouched, records why in Redis (one entry per worker, kept a week), tells
 * the dispatcher through BullMQ's event stream, and stops taking jobs.
 */
import type { Redis } from 'ioredis'
import { QUEUE_NAME, QUEUE_PREFIX } from './inferenceJob.js'
import type { WorkerIdentity } from './workerResult.js'

/** Why a worker refused work. */
export interface Refusal {
  worker: WorkerIdentity
  /** The hash of the model the worker loaded. */
  workerModelHash: string
  /** The hash the job (or the worker's --deployment) asked for. */
  expectedModelHash: string
  /** The job it put back, when it refused a job (absent when it refused at start-up). */
  jobId?: string
  /** When, ms since the epoch. */
  at: number
}

/** The custom event name in BullMQ's event stream. */
export const REFUSAL_EVENT = 'imo-refused'
const REFUSALS_KEY = `${QUEUE_PREFIX}:${QUEUE_NAME}:imo-refusals`
const REFUSALS_TTL_S = 7 * 24 * 3600

/**
 * Records a refusal (HSET by worker id) and publishes it on the queue's event stream.
 * @example
 * await recordRefusal(client, { worker, workerModelHash: model.modelHash, expectedModelHash: job.data.modelHash, jobId: job.id, at: Date.now() })
 */
export async function recordRefusal(client: Redis, refusal: Refusal): Promise<void> {
  await client.hset(REFUSALS_KEY, refusal.worker.id, JSON.stringify(refusal))
  await client.expire(REFUSALS_KEY, REFUSALS_TTL_S)
  await client.xadd(
    `${QUEUE_PREFIX}:${QUEUE_NAME}:events`,
    'MAXLEN',
    '~',
    '500',
    '*',
    'event',
    REFUSAL_EVENT,
    'workerId',
    refusal.worker.id,
  )
}

/**
 * The refusals recorded in the last week, oldest first.
 * @example
 * for (const r of await readRefusals(client)) console.log(r.worker.id, r.workerModelHash)
 */
export async function readRefusals(client: Redis): Promise<Refusal[]> {
  const entries = await client.hgetall(REFUSALS_KEY)
  const refusals: Refusal[] = []
  for (const text of Object.values(entries)) {
    try {
      refusals.push(JSON.parse(text) as Refusal)
    } catch {
      // not ours: skip
    }
  }
  return refusals.sort((a, b) => a.at - b.at)
}
