/**
 * What `imo requests --open --queue URL` and `imo status --queue URL` show of the inference queue: job
 * counts, the failed set (jobs that used up their attempts, waiting for `imo requests retry`), the
 * workers that refused work and the workers serve quarantined. Reads only.
 */
import { escapeControl } from '../cli/escapeControl.js'
import { type FailedInference, openInferenceQueue, type QueueCounts } from './openInferenceQueue.js'
import type { QuarantineEntry } from './quarantine.js'
import type { Refusal } from './refusals.js'

export interface QueueState {
  /** The URL, password hidden. */
  queue: string
  counts: QueueCounts
  failed: FailedInference[]
  /** Redis keeps `at` in ms; shown as ISO 8601 UTC under `refusedAt` / `quarantinedAt` (docs/json.md). */
  refusals: Array<Omit<Refusal, 'at'> & { refusedAt: string }>
  /** Workers whose results serve found wrong: their results are refused (quarantine.ts). */
  quarantined: Array<Omit<QuarantineEntry, 'at'> & { quarantinedAt: string }>
}

/**
 * Checks the Redis and reads the queue's state.
 * @throws RpcError (6) / UsageError (2) when the Redis cannot be used (checkRedis).
 * @example
 * import { readQueueState } from './queue/readQueueState.js'
 * const state = await readQueueState('redis://10.0.0.5:6379/0')
 * state.failed[0] // { requestId: '12', reason: '…', attemptsMade: 3, … }
 */
export async function readQueueState(url: string): Promise<QueueState> {
  const queue = await openInferenceQueue({ url })
  try {
    const [counts, failed, refusals, quarantined] = await Promise.all([
      queue.counts(),
      queue.listFailed(),
      queue.listRefusals(),
      queue.listQuarantined(),
    ])
    return {
      queue: queue.display,
      counts,
      failed,
      refusals: refusals.map(({ at, ...refusal }) => ({ ...refusal, refusedAt: safeDate(at) })),
      quarantined: quarantined.map(({ at, ...entry }) => ({ ...entry, quarantinedAt: safeDate(at) })),
    }
  } finally {
    await queue.close()
  }
}

/**
 * Moves a failed job (or, without an id, every failed job) back to the queue: a worker runs it again
 * and the dispatcher (`imo serve --queue`) fulfils the request when it completes.
 * @returns how many jobs went back.
 * @example
 * await retryFailedJobs('redis://10.0.0.5:6379/0', 12n) // 1
 */
export async function retryFailedJobs(url: string, requestId?: bigint): Promise<{ queue: string; retried: number }> {
  const queue = await openInferenceQueue({ url })
  try {
    return { queue: queue.display, retried: await queue.retryFailed(requestId) }
  } finally {
    await queue.close()
  }
}

/** A time from Redis as ISO text; a value that is no time is shown escaped instead of throwing. */
function safeDate(at: unknown): string {
  const date = new Date(at as number)
  return Number.isNaN(date.getTime()) ? escapeControl(String(at)) : date.toISOString()
}

/**
 * The queue's state as text lines (for the human output of requests and status).
 * @example
 * renderQueueState(state) // 'queue redis://10.0.0.5:6379/0: 3 waiting, 2 active, 0 delayed, 1 failed\n  failed request 12 …'
 */
export function renderQueueState(state: QueueState): string {
  const c = state.counts
  const lines = [
    `queue ${state.queue}: ${c.waiting} waiting, ${c.active} active, ${c.delayed} delayed, ${c.completed} awaiting collection, ${c.failed} failed`,
  ]
  // Everything below was written to Redis by workers (or anyone who can write to it): escaped, one line each.
  const safe = (value: unknown) => escapeControl(String(value))
  for (const f of state.failed)
    lines.push(
      `  failed  request ${safe(f.requestId)} after ${f.attemptsMade} attempt${f.attemptsMade === 1 ? '' : 's'}: ${safe(f.reason)} (imo requests retry ${safe(f.requestId)})`,
    )
  for (const r of state.refusals)
    lines.push(
      `  refused worker ${safe(r.worker.id)} at ${r.refusedAt}: its model hashes to ${safe(r.workerModelHash)}, not ${safe(r.expectedModelHash)}`,
    )
  for (const q of state.quarantined)
    lines.push(
      `  quarantined worker ${q.worker}${q.processedBy && q.processedBy !== q.worker ? ` (BullMQ: ${q.processedBy})` : ''} since ${q.quarantinedAt}, request ${q.requestId}: ${q.reason}`,
    )
  return lines.join('\n')
}
