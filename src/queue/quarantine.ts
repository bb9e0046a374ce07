/**
 * Workers whose results serve found wrong (a forged answer, or outputs an audit's re-execution did not
 * reproduce). serve refuses every later result that names a quarantined worker and runs those
 * requests itself; the list is kept in serve's memory for the run and in Redis (a hash, kept a week)
 * for `imo requests --queue`, `imo status --queue` and the next run.
 *
 * What a worker identity is: the name a worker gives itself (`<host>:<pid>`, in its result and as
 * BullMQ's `processedBy`). Nothing in Redis proves it: a worker that lies can take another name (or
 * an honest worker's, to have it quarantined: that costs throughput, never a wrong signature) and can
 * delete the Redis copy, since workers write to the same Redis. So the quarantine saves work and shows
 * the operator which process to stop; what keeps forgeries from being signed does not depend on it:
 * every result is re-derived and a share of them re-executed whoever sent it (queueInference.ts).
 */
import type { Redis } from 'ioredis'
import { QUEUE_NAME, QUEUE_PREFIX } from './inferenceJob.js'

/** One quarantined worker. */
export interface QuarantineEntry {
  /** The worker's name as its result gave it. */
  worker: string
  /** The name BullMQ recorded for the process that took the job (also self-declared), when known. */
  processedBy?: string
  /** The request whose result was found wrong. */
  requestId: string
  /** Why, one line. */
  reason: string
  /** When, ms since the epoch. */
  at: number
}

const QUARANTINE_KEY = `${QUEUE_PREFIX}:${QUEUE_NAME}:imo-quarantine`
const QUARANTINE_TTL_S = 7 * 24 * 3600

/**
 * Records a quarantine in Redis (HSET by worker name).
 * @example
 * await recordQuarantine(client, { worker: 'box:4242', requestId: '7', reason: 'its inputHash is not …', at: Date.now() })
 */
export async function recordQuarantine(client: Redis, entry: QuarantineEntry): Promise<void> {
  await client.hset(QUARANTINE_KEY, entry.worker, JSON.stringify(entry))
  await client.expire(QUARANTINE_KEY, QUARANTINE_TTL_S)
}

/**
 * The quarantined workers of the last week, oldest first (entries that do not parse are skipped).
 * @example
 * for (const q of await readQuarantine(client)) console.log(q.worker, q.reason)
 */
export async function readQuarantine(client: Redis): Promise<QuarantineEntry[]> {
  const entries: QuarantineEntry[] = []
  for (const text of Object.values(await client.hgetall(QUARANTINE_KEY))) {
    try {
      const entry = JSON.parse(text) as QuarantineEntry
      if (typeof entry?.worker === 'string' && typeof entry.reason === 'string' && typeof entry.at === 'number')
        entries.push(entry)
    } catch {
      // not ours: skip
    }
  }
  return entries.sort((a, b) => a.at - b.at)
}

/**
 * serve's own list for the run: loaded from Redis at start, added to on each finding; a name found in
 * it (as the result's worker or as BullMQ's processedBy) is quarantined.
 * @example
 * const list = quarantineList(await readQuarantine(client))
 * list.find({ worker: 'box:4242' }) // the entry, or undefined
 */
export function quarantineList(initial: readonly QuarantineEntry[] = []) {
  const byName = new Map<string, QuarantineEntry>()
  const add = (entry: QuarantineEntry) => {
    byName.set(entry.worker, entry)
    if (entry.processedBy) byName.set(entry.processedBy, entry)
  }
  for (const entry of initial) add(entry)
  return {
    add,
    find(names: { worker: string; processedBy?: string | undefined }): QuarantineEntry | undefined {
      return byName.get(names.worker) ?? (names.processedBy ? byName.get(names.processedBy) : undefined)
    },
    entries: (): QuarantineEntry[] => [...new Set(byName.values())],
  }
}
