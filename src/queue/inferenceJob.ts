/**
 * What travels through Redis between the dispatcher (`imo serve --queue`) and `imo worker`: the
 * queue's name, the job id of a request, the job's data, and the settings every job is added with.
 * Nothing here is secret: a job holds a prompt, a recipient and hashes; a worker never sees a key.
 */
import type { JobsOptions } from 'bullmq'
import { UsageError } from '../errors.js'
import type { GenerationFlags } from '../generate/generationSettings.js'
import type { AigcDataMode } from '../inference/erc7007.js'
import type { Bytes32 } from '../tensor/encodeTensors.js'

/**
 * The BullMQ queue of inference jobs. One deployment per Redis database (`redis://HOST:PORT/DB`):
 * give each deployment its own DB number. Keys are `imo:inference:*`.
 */
export const QUEUE_NAME = 'inference'
export const QUEUE_PREFIX = 'imo'

/** A job of the queue: one paid request to run the deployment's model on. */
export interface InferenceJobData {
  /** The request id on the collection, a decimal string (uint256). */
  requestId: string
  prompt: string
  /** The token's recipient (the attestation is bound to it; the worker only carries it along). */
  recipient: string
  /** The deployment's model hash: a worker whose model hashes otherwise refuses the job. */
  modelHash: Bytes32
  aigcDataMode: AigcDataMode
  /** When the dispatcher added the job (ms since the epoch), for latency figures. */
  enqueuedAt: number
  /** Anything else the dispatcher wants back with the result (chain id, collection, block...). */
  meta?: Record<string, string | number | boolean | null>
  /** An off-chain call's generation flags (max_tokens...); absent: the model's own settings. */
  generation?: GenerationFlags
}

/** Where the dispatcher (`imo serve --queue`) records the model hash it serves, for the workers. */
export const MODEL_KEY = `${QUEUE_PREFIX}:${QUEUE_NAME}:imo-model`

/** The BullMQ job name of every job (one kind). */
export const JOB_NAME = 'infer'

/**
 * Attempts before a job goes to the failed set (a thrown error or a worker that stalled counts), and
 * the exponential backoff between them: 2 s, 4 s, ...
 */
export const JOB_ATTEMPTS = 3
export const JOB_BACKOFF_MS = 2000

/**
 * A worker renews its lock on a job every lock / 2 (LOCK_MS unless `imo worker --lock-ms`); a job
 * whose lock lapsed (its worker was killed, or its event loop blocked for the whole lock: onnxruntime
 * blocks it for each model run) is found by a STALLED_CHECK_MS sweep of any live worker and handed to
 * another worker. A stall uses one of the job's JOB_ATTEMPTS like an error does: a worker refuses to
 * start a job that was started JOB_ATTEMPTS times already (the job fails, reporting its attempts).
 * BullMQ's own limit (MAX_STALLED) stays above that, since BullMQ fails a job that stalls once too often
 * at once, whatever attempts it has left, and counts it as one attempt.
 */
export const LOCK_MS = 10_000
/** The shortest lock `--lock-ms` takes (it is renewed every half of it). */
export const MIN_LOCK_MS = 1_000
/** The longest lock `--lock-ms` takes: one hour (a killed worker's job waits that long to move). */
export const MAX_LOCK_MS = 3_600_000
export const STALLED_CHECK_MS = 5_000
export const MAX_STALLED = JOB_ATTEMPTS

/**
 * The attempts a job used: runs that ended (attemptsMade) or started and stalled (attemptsStarted),
 * at most JOB_ATTEMPTS (a start refused because the attempts were used up is not one).
 * @example
 * attemptsOf({ attemptsMade: 1, attemptsStarted: 4 }) // 3: stalled three times, then refused
 */
export function attemptsOf(job: { attemptsMade: number; attemptsStarted?: number }): number {
  return Math.max(job.attemptsMade, Math.min(job.attemptsStarted ?? 0, JOB_ATTEMPTS))
}

/**
 * Off-chain calls (the paid HTTP API) take request ids from 2^255 up, a range no collection's request
 * counter reaches: they share the sources, the queue's job ids and the checks with chain requests, and a
 * random 128-bit id keeps the calls of several serve processes on one queue apart.
 */
export const OFF_CHAIN_IDS = 1n << 255n

/**
 * A fresh request id for an off-chain call.
 * @example
 * isOffChainRequest(offChainRequestId()) // true
 */
export function offChainRequestId(): bigint {
  const random = BigInt(`0x${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex')}`)
  return OFF_CHAIN_IDS + random
}

/**
 * Whether a request id is an off-chain call's (offChainRequestId).
 * @example
 * isOffChainRequest(7n) // false
 */
export function isOffChainRequest(requestId: bigint | string): boolean {
  return /^\d{1,78}$/.test(String(requestId)) && BigInt(requestId) >= OFF_CHAIN_IDS
}

/** Options of every job: one attempt budget, kept in Redis until the dispatcher collects it. */
export const JOB_OPTIONS: JobsOptions = {
  attempts: JOB_ATTEMPTS,
  backoff: { type: 'exponential', delay: JOB_BACKOFF_MS },
  removeOnComplete: false,
  removeOnFail: false,
}

/**
 * The BullMQ job id of a request: `request-<id>`. BullMQ refuses custom ids that are integers (they
 * would collide with its own counter), so the request id gets a prefix; an event seen twice is still
 * one job.
 * @example
 * jobIdOf(7n) // 'request-7'
 */
export function jobIdOf(requestId: bigint | number | string): string {
  const text = String(requestId)
  if (!/^\d{1,78}$/.test(text)) throw new UsageError(`request id ${JSON.stringify(text)} is not a whole number`)
  return `request-${BigInt(text)}`
}

/**
 * The request id of a job id made by jobIdOf, as a decimal string.
 * @example
 * requestIdOf('request-7') // '7'
 */
export function requestIdOf(jobId: string | undefined): string {
  return (jobId ?? '').replace(/^request-/, '')
}
