/**
 * The "settle" stage: where every request ends (fulfilled, skipped for a reason, failed). It logs the
 * one line of the outcome and counts it (the summary and the metrics), then keeps the request watched
 * for WATCH_DEPTH blocks: a reorg in that window sends it back to a check. A request whose outcome was
 * logged already (before a reorg, or by an earlier run: the cursor lists them) is settled quietly when
 * a re-check finds the same outcome, so restarts and reorgs neither repeat lines nor re-count.
 */

import type { SkipReason } from './decideRequests.js'
import type { ServedRequest } from './servedRequest.js'
import type { ServeEvent, ServeSummary } from './serveEvent.js'
import type { ServeMetrics } from './serveMetrics.js'

export type Outcome =
  | { event: 'fulfilled'; message: string; extra?: Record<string, unknown> }
  | { event: 'skipped'; reason: SkipReason; message: string; extra?: Record<string, unknown> }
  | { event: 'failed'; message: string; extra?: Record<string, unknown> }

/** A settled request in the watch window. */
export interface Watched {
  request: ServedRequest
  /** The block it settled at (its fulfilment's block, or the head when skipped). */
  block: bigint
  event: Outcome['event']
}

export interface SettleStage {
  /**
   * Settles a request at `block` and watches it: logs the outcome unless `log` is false (the same
   * outcome was reported before), counts it unless `count` is false (an earlier run counted it) or this
   * run counted the request already (a fulfilment re-sent after a reorg is one request).
   */
  settle(request: ServedRequest, outcome: Outcome, block: bigint, options?: { log?: boolean; count?: boolean }): void
  /** Whether the outcome of `key` was logged (in this run or, per the cursor, an earlier one). */
  reported(key: string): boolean
  /** Whether `key` is settled and watched. */
  has(key: string): boolean
  /** Stops watching `key` (a reorg sends it back to a check; it stays reported). */
  take(key: string): Watched | undefined
  /** Every watched request. */
  values(): IterableIterator<Watched>
  /** The requests that left the watch window at `head` (no longer watched nor listed as reported). */
  release(head: bigint): Watched[]
  /** Keys of the reported requests (for the cursor). */
  reportedKeys(): IterableIterator<string>
  /**
   * Forgets reported keys that `known` does not know: the cursor's list from an earlier run holds
   * requests the rescan finds again (their blocks are at or after the cursor); once the follower has
   * caught up, one it did not find is gone.
   */
  forgetUnknown(known: (key: string) => boolean): void
  /** The lowest request block among the watched (undefined when none). */
  lowestBlock(): bigint | undefined
}

/**
 * Creates the stage.
 * @param options - the log, the summary and metrics to count in, the watch depth, and the keys an
 *   earlier run reported (from the cursor).
 * @example
 * const settle = createSettleStage({ log, summary, metrics, watchDepth: 12n, reported: start.reported })
 * settle.settle(request, { event: 'skipped', reason: 'expired', message }, head.number)
 */
export function createSettleStage(options: {
  log(event: ServeEvent): void
  summary: ServeSummary
  metrics?: ServeMetrics
  watchDepth: bigint
  reported: Set<string>
}): SettleStage {
  const { summary, metrics } = options
  const watched = new Map<string, Watched>()
  const reported = new Set(options.reported)
  /** Keys this run counted an outcome of. */
  const counted = new Set<string>()
  const count = (key: string, outcome: Outcome) => {
    if (counted.has(key)) return
    counted.add(key)
    if (outcome.event === 'fulfilled') {
      summary.fulfilled++
      metrics?.fulfilled.inc()
    } else if (outcome.event === 'failed') {
      summary.failed++
      metrics?.failed.inc()
    } else {
      summary.skipped++
      metrics?.skipped.inc({ reason: outcome.reason })
      if (outcome.reason === 'refunded') metrics?.refunded.inc()
    }
  }
  return {
    settle(request, outcome, block, settleOptions = {}) {
      watched.set(request.key, { request, block, event: outcome.event })
      reported.add(request.key)
      if (settleOptions.count !== false) count(request.key, outcome)
      if (settleOptions.log === false) return
      options.log({
        event: outcome.event,
        requestId: String(request.id),
        message: outcome.message,
        ...(outcome.event === 'skipped' ? { reason: outcome.reason } : {}),
        ...outcome.extra,
      })
    },
    reported: (key) => reported.has(key),
    has: (key) => watched.has(key),
    take(key) {
      const found = watched.get(key)
      watched.delete(key)
      return found
    },
    values: () => watched.values(),
    release(head) {
      const gone: Watched[] = []
      for (const entry of watched.values()) if (head - entry.block >= options.watchDepth) gone.push(entry)
      for (const entry of gone) {
        watched.delete(entry.request.key)
        reported.delete(entry.request.key)
        counted.delete(entry.request.key)
      }
      return gone
    },
    reportedKeys: () => reported.values(),
    forgetUnknown(known) {
      for (const key of reported) if (!watched.has(key) && !known(key)) reported.delete(key)
    },
    lowestBlock() {
      let lowest: bigint | undefined
      for (const entry of watched.values())
        if (lowest === undefined || entry.request.blockNumber < lowest) lowest = entry.request.blockNumber
      return lowest
    },
  }
}
