/**
 * `/healthz` of `imo serve`: healthy only when the node can do its job now. Each check reads serve's
 * memory and the facts read in the background (nodeFacts.ts), so a probe never waits on the network:
 * - rpc: serve read the chain's head within HEALTH_STALE_MS (a frozen or unreachable RPC fails it);
 * - signer: its balance covers one more fulfilment's gas at the current gas price;
 * - with `--queue`: Redis answered within HEALTH_STALE_MS, and at least one worker is connected
 *   (a worker with another model refuses its first job and leaves, so a connected one is a serving one).
 * A check that could not run yet (no balance read so far) fails: unknown is not healthy.
 */
import type { NodeFacts } from './nodeFacts.js'

/** serve's state as a scrape reads it (from memory). */
export interface NodeState {
  /** The last head read: its number and when (performance.now()); undefined before the first. */
  head?: { number: bigint; readAt: number }
  /** The last block scanned for requests. */
  processed: bigint
  /** Open requests (seen, not settled) per stage. */
  stages: Record<'check' | 'infer' | 'parked' | 'ready' | 'sending', number>
  /** performance.now() when serve saw the oldest open request. */
  oldestSeenAt?: number
  /** Open requests that expire within EXPIRY_WARNING_SECONDS of chain time. */
  expiringSoon: number
}

/** Gas of a fulfilment with a digest aigcData, rounded up from `npm run gas` (fulfill row). */
export const FULFIL_GAS_ESTIMATE = 250_000n

/** A head read (or a Redis answer) older than this fails the check. */
export const HEALTH_STALE_MS = 10_000

export interface HealthReport {
  ok: boolean
  /** One line per failing check, e.g. `rpc: no head read for 14 s`. */
  problems: string[]
}

/**
 * Evaluates the checks.
 * @param state - serve's state (the last head read).
 * @param facts - the background reads.
 * @param options - whether inference goes through a queue; `now` (performance.now()).
 * @example
 * checkHealth(state, facts, { queue: false }) // { ok: true, problems: [] }
 */
export function checkHealth(state: NodeState, facts: NodeFacts, options: { queue: boolean; now?: number }): HealthReport {
  const now = options.now ?? performance.now()
  const ago = (at: number) => `${Math.round((now - at) / 1000)} s`
  const problems: string[] = []
  if (!state.head) problems.push('rpc: no head read yet')
  else if (now - state.head.readAt > HEALTH_STALE_MS) problems.push(`rpc: no head read for ${ago(state.head.readAt)}`)
  const balance = facts.balanceWei?.value
  const gasPrice = facts.gasPriceWei?.value
  if (balance === undefined || gasPrice === undefined) problems.push('signer: its balance has not been read yet')
  else if (balance < gasPrice * FULFIL_GAS_ESTIMATE)
    problems.push(
      `signer: its balance (${balance} wei) does not cover one fulfilment's gas (about ${gasPrice * FULFIL_GAS_ESTIMATE} wei)`,
    )
  if (options.queue) {
    const queue = facts.queue
    if (!queue?.okAt) problems.push('redis: not reached yet')
    else if (!queue.reachable || now - queue.okAt > HEALTH_STALE_MS) problems.push(`redis: no answer for ${ago(queue.okAt)}`)
    else if (!queue.workers) problems.push('queue: no worker is connected')
  }
  return { ok: problems.length === 0, problems }
}
