/**
 * The "decide" stage: every request serve acts on is first read from the chain (status, prompt, expiry
 * and refundability in one eth_call) and classified: serve it, wait (another request of the same prompt
 * is in flight), fulfilled already (whose, the caller finds out), skip it for a stated reason, or fail
 * it (its last fulfilment failed and it is still open). The classification is data (decideRequest, a
 * pure function); the stage holds the requests waiting for a check and when each is due.
 */
import type { Address } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import type { MintItem } from '../mint/mintRecords.js'
import type { PaidRequest } from '../requests/readRequest.js'
import type { ServedRequest } from './servedRequest.js'

/** Why a request is not served (the metrics' `reason` label). */
export type SkipReason = 'gone' | 'refunded' | 'expired' | 'prompt-minted' | 'not-text' | 'fulfilled-elsewhere'

export type Decision =
  /** Open, not expired, its prompt not minted: run the model on `prompt` (or send the result it has). */
  | { kind: 'serve'; prompt: string }
  /** Another request of the same prompt is in flight: check again after it. */
  | { kind: 'later'; retryMs: number }
  /** Fulfilled on chain: the caller tells whose (its journal, else the fulfilment's sender). */
  | { kind: 'fulfilled' }
  | { kind: 'skip'; reason: SkipReason; message: string }
  | { kind: 'fail'; message: string }

/** A request waiting for its check, with what earlier stages left on it. */
export interface Pending {
  request: ServedRequest
  /** Not before this time (ms, Date.now()). */
  retryAt: number
  /** Its inference result, kept when a check sends it back (a reorg, a batch that failed as a whole). */
  result?: { item: MintItem; inferenceMs?: number }
  /** Why its last fulfilment failed (simulation or revert): failed unless the check finds it settled. */
  lastError?: string
  /** Send it alone next time (after a batch that failed as a whole). */
  solo?: boolean
  /**
   * Its outcome was logged before: that outcome, `restored` (an earlier run's, from the cursor), or
   * `moved` (its fulfilment was in blocks a reorg replaced). A check that finds the same outcome settles
   * it quietly; another outcome (or a fulfilment that moved) is logged, not counted again.
   */
  reportedAs?: 'fulfilled' | 'skipped' | 'failed' | 'restored' | 'moved'
}

/** The facts decideRequest needs besides the request. */
export interface DecideContext {
  /** The head block's time (unix seconds). */
  chainNow: number
  /** Requests expiring within this many seconds are skipped. */
  marginSeconds: number
  /** Whether another request of this prompt hash is being inferred or sent. */
  busy(promptHash: string): boolean
}

/**
 * Classifies one request from its state on chain.
 * @param pending - the request and what earlier stages left on it.
 * @param onChain - `readRequest(..., { refundable: true })` of its id.
 * @param context - the chain's time, the expiry margin, the prompts in flight.
 * @returns the decision.
 * @example
 * decideRequest(pending, await readRequest(ctx, collection, 7n, { refundable: true }), { chainNow, marginSeconds: 5, busy })
 * // { kind: 'serve', prompt: 'a red spiral' }
 */
export function decideRequest(pending: Pending, onChain: PaidRequest, context: DecideContext): Decision {
  const { request } = pending
  const id = String(request.id)
  const same =
    onChain.status !== 'none' &&
    onChain.promptHash.toLowerCase() === request.promptHash.toLowerCase() &&
    onChain.recipient.toLowerCase() === request.recipient.toLowerCase()
  // Gone, or its id belongs to another request now (ids are a counter; a reorg freed it): that one has
  // another key and comes from the follower's logs as a new request.
  if (!same)
    return { kind: 'skip', reason: 'gone', message: `request ${id} is no longer on chain (reorganised away): not served` }
  if (onChain.status === 'fulfilled') return { kind: 'fulfilled' }
  if (onChain.status === 'refunded')
    return { kind: 'skip', reason: 'refunded', message: `request ${id} was refunded to its requester: not served` }
  if (context.chainNow + context.marginSeconds >= onChain.expiresAt)
    return {
      kind: 'skip',
      reason: 'expired',
      message: `request ${id} expired (or expires within ${context.marginSeconds} s) at ${new Date(onChain.expiresAt * 1000).toISOString()}: not served; its requester can refund it`,
    }
  // Open, not expired and refundable: its prompt was minted (by another request, or meanwhile by a
  // mint, which then made its fulfilment's simulation revert): skipped, not failed.
  if (onChain.refundable)
    return {
      kind: 'skip',
      reason: 'prompt-minted',
      message: `request ${id} cannot be served: its prompt is minted already; its requester can refund it now`,
    }
  if (pending.lastError !== undefined) return { kind: 'fail', message: `request ${id} not fulfilled: ${pending.lastError}` }
  if (context.busy(request.promptHash)) return { kind: 'later', retryMs: 1000 }
  try {
    return {
      kind: 'serve',
      prompt: new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(onChain.prompt.slice(2), 'hex')),
    }
  } catch {
    return { kind: 'skip', reason: 'not-text', message: `request ${id} cannot be served: its prompt is not UTF-8 text` }
  }
}

export interface DecideStage {
  /** Queues a request for a check now (replacing what it held). */
  add(pending: Omit<Pending, 'retryAt'> & { retryAt?: number }): void
  has(key: string): boolean
  get(key: string): Pending | undefined
  remove(key: string): Pending | undefined
  /** Every request waiting for a check. */
  values(): IterableIterator<Pending>
  readonly size: number
  /** Reads the due requests from the chain (8 at a time); each with its state, in due order. */
  readDue(now: number): Promise<Array<{ pending: Pending; onChain: PaidRequest }>>
}

/**
 * Creates the stage's queue of requests to check.
 * @example
 * const decide = createDecideStage(ctx, collection)
 * decide.add({ request })
 * for (const { pending, onChain } of await decide.readDue(Date.now())) decideRequest(pending, onChain, context)
 */
export function createDecideStage(ctx: Pick<ChainContext, 'publicClient' | 'rpcUrl'>, collection: Address): DecideStage {
  const waiting = new Map<string, Pending>()
  return {
    add(pending) {
      waiting.set(pending.request.key, { ...pending, retryAt: pending.retryAt ?? 0 })
    },
    has: (key) => waiting.has(key),
    get: (key) => waiting.get(key),
    remove(key) {
      const pending = waiting.get(key)
      waiting.delete(key)
      return pending
    },
    values: () => waiting.values(),
    get size() {
      return waiting.size
    },
    async readDue(now) {
      const due = [...waiting.values()].filter((p) => p.retryAt <= now)
      if (due.length === 0) return []
      const { readRequest } = await import('../requests/readRequest.js')
      const { mapConcurrent } = await import('../util/mapConcurrent.js')
      // Status, prompt and refundability in one eth_call per request, 8 requests at a time.
      const states = await mapConcurrent(due, 8, (p) => readRequest(ctx, collection, p.request.id, { refundable: true }))
      return due.map((pending, index) => ({ pending, onChain: states[index]! }))
    },
  }
}
