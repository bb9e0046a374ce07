/**
 * The "fulfil" stage: checked results wait here until they go out, pipelined in batches through the
 * transaction engine (mintRecords: a recipient-bound attestation and `fulfill` for each, sendSteps
 * for the journal, nonces and receipts). One batch is in flight at a time; the outcome of each request
 * goes to its handler: fulfilled, back to a check (a batch that failed as a whole, a prompt minted
 * meanwhile), failed, or a transient error (the batch waits for the next try).
 *
 * Step ids derive from the request key (servedRequest.ts): a crash resumes the very signed
 * transaction; a request changed by a reorg is a new step. A journalled fulfilment that can no longer
 * be mined (mined and reverted, or its nonce taken after a reorg) is marked dropped, so the request is
 * signed afresh rather than refused as "recorded with other inputs".
 *
 * After a reorg, every journalled fulfilment the reorg may have removed is broadcast again at once, in
 * nonce order (src/chain/resendAfterReorg.ts): a batch waiting for the receipt of its second transaction would
 * otherwise wait forever for a first one that the reorg took out of the chain and out of the pool.
 */
import type { Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import type { Journal, ReceiptRecord } from '../chain/journal.js'
import type { Deployment } from '../deployment/deploymentFile.js'
import { ImoError } from '../errors.js'
import type { MintItem, MintOutcome } from '../mint/mintRecords.js'
import type { ServedRequest } from './servedRequest.js'
import type { ServeEvent } from './serveEvent.js'

/** A checked result waiting to be sent. */
export interface Ready {
  request: ServedRequest
  /** The result, with its `request` (id and recipient) set. */
  item: MintItem
  inferenceMs?: number
  /** When it became ready (Date.now()), for the local source's gathering of a batch. */
  readyAt: number
  /** Send it alone (after a batch that failed as a whole). */
  solo: boolean
}

export interface FulfilHandlers {
  fulfilled(ready: Ready, outcome: MintOutcome, receipt: ReceiptRecord | undefined): void
  /** Back to a check; `lastError` when it failed alone (it is then failed unless settled on chain). */
  recheck(ready: Ready, options: { lastError?: string; solo: boolean }): void
  failed(ready: Ready, message: string): void
  /** An RPC or nonce error: the batch is ready again; the caller backs off. */
  transient(error: unknown): void
  log(event: ServeEvent): void
  /** A batch ended (the loop may start the next at once). */
  ended(): void
}

export interface FulfilOptions {
  deployment: Deployment
  journal: Journal
  stepIdOf(request: ServedRequest): string
  /** Requests in one batch at most. */
  batchSize: number
  /** Hold ready results while the next one of a burst is inferred (a source that infers one at a time). */
  gather: boolean
  pollMs: number
}

export interface FulfilStage {
  add(ready: Ready): void
  /** Takes a ready result back (not one being sent). */
  take(key: string): Ready | undefined
  /** Whether `key` is ready or being sent. */
  has(key: string): boolean
  keys(): IterableIterator<string>
  readonly readyCount: number
  /** The fulfilments of the batch in flight. */
  readonly sendingCount: number
  /**
   * The blocks of the batch's receipts journalled so far (deep enough, while the batch waits for the
   * others): watched, so a reorg that removes them is noticed before the batch ends.
   */
  journalledBlocks(): Array<{ block: bigint; hash: Hex }>
  /** Starts a batch when one is due (none in flight); `inferring`: whether the source is running. */
  start(inferring: boolean): void
  /** The batch in flight, if any (it never rejects: a bug goes to `fatal`). */
  readonly sending: Promise<void> | undefined
  /** Broadcasts again, in nonce order, the journalled transactions a reorg below `ancestor` removed (the engine's resendAfterReorg). */
  resendAfterReorg(ancestor: bigint): Promise<void>
}

/**
 * Creates the stage.
 * @param ctx - chain context with the attester signer and its journal (receipts polled at the poll interval).
 * @example
 * const fulfil = createFulfilStage(ctx, { deployment, journal, stepIdOf, batchSize: 64, gather: true, pollMs: 250 }, handlers, onFatal)
 * fulfil.add({ request, item, readyAt: Date.now(), solo: false })
 * fulfil.start(false)
 */
export function createFulfilStage(
  ctx: ChainContext,
  options: FulfilOptions,
  handlers: FulfilHandlers,
  fatal: (error: unknown) => void,
): FulfilStage {
  const { journal } = options
  const ready = new Map<string, Ready>()
  let batch: Ready[] = []
  let sending: Promise<void> | undefined

  const send = async (items: Ready[]): Promise<void> => {
    for (const entry of items) dropReverted(journal, options.stepIdOf(entry.request))
    const { mintRecords } = await import('../mint/mintRecords.js')
    try {
      const result = await mintRecords(
        ctx,
        items.map((entry) => entry.item),
        { deployment: options.deployment },
      )
      for (const [index, outcome] of result.outcomes.entries()) {
        const entry = items[index]!
        // Minted by someone else meanwhile: the re-check says so.
        if (outcome.status === 'existing' && !outcome.txHash) handlers.recheck(entry, { solo: false })
        else handlers.fulfilled(entry, outcome, journal.state(options.stepIdOf(entry.request)).receipt)
      }
    } catch (error) {
      if (error instanceof ImoError && error.exitCode === 7)
        await dropStale(
          ctx,
          journal,
          items.map((entry) => entry.request),
          options.stepIdOf,
          handlers.log,
        )
      failBatch(items, error)
    }
  }

  /** A batch that did not go through: wait and retry, re-check, or fail. */
  const failBatch = (items: Ready[], error: unknown): void => {
    if (transientError(error)) {
      for (const entry of items) ready.set(entry.request.key, entry)
      handlers.transient(error)
      return
    }
    if (error instanceof ImoError && (error.exitCode === 3 || error.exitCode === 4)) {
      // One bad request fails the whole batch's simulation: re-check each, then send them one by one.
      // Alone, it is re-checked before it counts as failed: a request reorganised away is skipped as gone.
      for (const entry of items)
        handlers.recheck(entry, { solo: true, ...(items.length === 1 ? { lastError: error.shortMessage } : {}) })
      if (items.length > 1)
        handlers.log({
          event: 'retry',
          message: `a batch of ${items.length} failed (${error.shortMessage}); re-checking and sending them one by one`,
        })
      return
    }
    if (error instanceof ImoError && error.exitCode !== 1) {
      for (const entry of items) handlers.failed(entry, `request ${entry.request.id} not fulfilled: ${error.shortMessage}`)
      return
    }
    throw error
  }

  const stage: FulfilStage = {
    add(entry) {
      ready.set(entry.request.key, entry)
    },
    take(key) {
      const entry = ready.get(key)
      ready.delete(key)
      return entry
    },
    has: (key) => ready.has(key) || batch.some((entry) => entry.request.key === key),
    keys: () => new Set([...ready.keys(), ...batch.map((entry) => entry.request.key)]).values(),
    get readyCount() {
      return ready.size
    },
    get sendingCount() {
      return batch.length
    },
    journalledBlocks: () =>
      batch.flatMap((entry) => {
        const receipt = journal.state(options.stepIdOf(entry.request)).receipt
        return receipt ? [{ block: BigInt(receipt.blockNumber), hash: receipt.blockHash }] : []
      }),
    get sending() {
      return sending
    },
    start(inferring) {
      if (sending || ready.size === 0) return
      const waiting = [...ready.values()].sort((a, b) => (a.request.id < b.request.id ? -1 : a.request.id > b.request.id ? 1 : 0))
      const solo = waiting.find((entry) => entry.solo)
      const next = solo ? [solo] : waiting.slice(0, options.batchSize)
      // A source that infers one request at a time: while the next one of a burst is being computed,
      // the ready ones wait for it (at most one poll interval), so requests that arrived together are
      // fulfilled in one batch, in one block, rather than one block apart on a chain with block times
      // (bench/serve.ts). Inference through a queue runs elsewhere and takes seconds: results go at once.
      const oldest = Math.min(...next.map((entry) => entry.readyAt))
      if (!solo && options.gather && inferring && next.length < options.batchSize && Date.now() - oldest < options.pollMs) return
      for (const entry of next) ready.delete(entry.request.key)
      batch = next
      sending = (async () => {
        try {
          await send(next)
        } catch (error) {
          fatal(error)
        } finally {
          batch = []
          sending = undefined
          handlers.ended()
        }
      })()
    },
    resendAfterReorg: (ancestor) => resendFulfilments(ctx, ancestor, handlers.log),
  }
  return stage
}

/**
 * A journalled fulfilment that was mined and reverted (its request was reorganised away) no longer
 * counts: marked dropped, so the request is signed afresh with its own inputs.
 */
function dropReverted(journal: Journal, id: string): void {
  const state = journal.state(id)
  if (!state.signed || state.receipt?.status !== 'reverted') return
  journal.append({
    type: 'dropped',
    id,
    hash: state.signed.hash,
    reason: 'reverted (request reorganised away or not open); signed afresh',
    at: new Date().toISOString(),
  })
}

/**
 * After a reorg a journalled fulfilment can lose its nonce to a newer transaction: it can never be
 * mined, so it is marked dropped (never re-used) and the request is signed afresh next time.
 */
async function dropStale(
  ctx: ChainContext,
  journal: Journal,
  requests: ServedRequest[],
  stepIdOf: (request: ServedRequest) => string,
  log: (event: ServeEvent) => void,
): Promise<void> {
  const { isTransactionAbsent } = await import('../chain/isTransactionAbsent.js')
  const address = ctx.account!.address
  const mined = await ctx.publicClient.getTransactionCount({ address, blockTag: 'latest' }).catch(() => undefined)
  if (mined === undefined) return
  for (const request of requests) {
    const id = stepIdOf(request)
    const state = journal.state(id)
    if (!state.signed || state.signed.nonce >= mined) continue
    if (!(await isTransactionAbsent(ctx.publicClient, state.signed.hash))) continue // mined after all, or unknown yet
    journal.append({
      type: 'dropped',
      id,
      hash: state.signed.hash,
      reason: 'nonce taken after a reorg',
      at: new Date().toISOString(),
    })
    log({
      event: 'retry',
      requestId: String(request.id),
      message: `request ${request.id}: its journalled fulfilment lost its nonce in a reorg; signing it again`,
    })
  }
}

/**
 * After a reorg at `ancestor`, the engine broadcasts again, in nonce order, every journalled transaction
 * of the signer the chain no longer holds (src/chain/resendAfterReorg.ts). Best effort: a node that
 * cannot be read now leaves it to the receipt wait and dropStale.
 */
async function resendFulfilments(ctx: ChainContext, ancestor: bigint, log: (event: ServeEvent) => void): Promise<void> {
  const { resendAfterReorg } = await import('../chain/resendAfterReorg.js')
  try {
    const { resent } = await resendAfterReorg(ctx, { fromBlock: ancestor + 1n })
    if (resent.length > 0)
      log({
        event: 'retry',
        message: `re-sent ${resent.length} journalled transaction${resent.length === 1 ? '' : 's'} the reorg removed, in nonce order`,
      })
  } catch (error) {
    log({
      event: 'rpc-error',
      message: `could not re-send the transactions the reorg removed (${(error as Error).message}); their receipt wait sorts them out`,
    })
  }
}

/**
 * Errors worth waiting out: RPC down (6), not confirmed in time (5), nonce trouble (7), and transport
 * failures that were not converted.
 * @example
 * transientError(new RpcError('cannot reach http://127.0.0.1:8545')) // true
 */
export function transientError(error: unknown): boolean {
  if (error instanceof ImoError) return error.exitCode === 5 || error.exitCode === 6 || error.exitCode === 7
  const text = `${(error as Error)?.name} ${(error as Error)?.message}`
  return /HttpRequestError|TimeoutError|fetch failed|ECONNREFUSED|ECONNRESET|socket hang up|WebSocket/i.test(text)
}
