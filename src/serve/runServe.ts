/**
 * `imo serve` behind its command file (DESIGN section 8): follows the collection's `Requested` events,
 * waits the confirmations, gets each prompt's inference from an InferenceSource, and fulfils the
 * requests pipelined through mintRecords (recipient-bound attestation, `fulfill` instead of `mint`,
 * journal step `fulfill:<collection>:<request id>`).
 *
 * Safety, and why it holds:
 * - Never twice: the journal step id derives from the request id, so a restart resumes the very signed
 *   transaction (re-broadcast, receipt) instead of signing another; the contract refuses a second
 *   fulfilment anyway (RequestNotOpen).
 * - Never skipped: the cursor (serveCursor.ts) only moves past a block when all its requests are
 *   settled; after a restart every request from the cursor on is re-read from the chain.
 * - Reorgs: the hash of the last scanned block is checked each round; on a change the scan rewinds to
 *   the last block whose hash still matches, requests of the rewound blocks are forgotten (re-read if
 *   still there), and every recent request is re-checked on chain. A request that is gone is never
 *   fulfilled (status None); a fulfilment that vanished (request Open again) is sent again, the
 *   journal re-broadcasting the same signed transaction. Requests stay watched WATCH_DEPTH blocks.
 * - RPC trouble (exit 5/6/7 errors): logged, then retried with backoff (1 s doubling to 30 s).
 * - Before acting, every request's status, expiry and prompt are read from the chain, not the log.
 */
import type { Address, Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import type { Deployment } from '../deployment/deploymentFile.js'
import { ImoError } from '../errors.js'
import type { MintItem } from '../mint/mintRecords.js'
import type { InferenceSource } from './inferenceSource.js'
import type { ServeMetrics } from './serveMetrics.js'

/** Blocks a settled request stays watched for reorgs (and the cursor lags behind it). */
export const WATCH_DEPTH = 12n

/** One log line's worth: what happened to which request. */
export interface ServeEvent {
  event: 'start' | 'seen' | 'fulfilled' | 'skipped' | 'failed' | 'reorg' | 'rpc-error' | 'retry' | 'stop' | 'warning'
  requestId?: string
  message: string
  [key: string]: unknown
}

export interface ServeOptions {
  source: InferenceSource
  /** First block to scan (default: the cursor, else the collection's deployment block). */
  fromBlock?: bigint
  /** Blocks a Requested event must be deep before it is served (1 = included). */
  confirmations: number
  /** Where the cursor lives (default `.imo` in the working folder). */
  stateRoot?: string
  /** Pause between rounds (default 250 ms). */
  pollMs?: number
  /** Requests fulfilled in one pipelined batch at most (default 64). */
  batchSize?: number
  /** Requests expiring within this many seconds are skipped (default 5: a fulfilment would likely land too late). */
  expiryMarginSeconds?: number
  log(event: ServeEvent): void
  metrics?: ServeMetrics
  /** Return once nothing is left to do (the demo, tests); otherwise run until `signal` aborts. */
  untilIdle?: boolean
  signal?: AbortSignal
}

export interface ServeSummary {
  seen: number
  fulfilled: number
  skipped: number
  failed: number
  /** The cursor at the end: the next block to scan. */
  nextBlock: bigint
}

type Phase = 'new' | 'queued' | 'inferring' | 'ready' | 'sending' | 'settled'

interface Tracked {
  id: bigint
  blockNumber: bigint
  promptHash: Hex
  phase: Phase
  /** Block the request was settled at (fulfilment receipt, or when skipped), for the watch. */
  settledBlock?: bigint
  item?: MintItem
  recipient?: Address
  /** Not before this time (ms) for the next status check. */
  retryAt: number
  /** Send alone (after a batch that failed as a whole). */
  solo: boolean
}

/** Waits `ms`, or less when `signal` aborts; the abort listener goes with the wait (serve waits forever). */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })

/** Errors worth waiting out: RPC down (6), not confirmed in time (5), nonce trouble (7). */
function isTransient(error: unknown): boolean {
  if (error instanceof ImoError) return error.exitCode === 5 || error.exitCode === 6 || error.exitCode === 7
  const text = `${(error as Error)?.name} ${(error as Error)?.message}`
  return /HttpRequestError|TimeoutError|fetch failed|ECONNREFUSED|ECONNRESET|socket hang up|WebSocket/i.test(text)
}

/**
 * Runs the serve loop until `signal` aborts (or, with `untilIdle`, until nothing is left to do).
 * @param ctx - chain context with the attester signer and its journal.
 * @param deployment - the deployment whose collection is served.
 * @param options - inference source, confirmations, logging, metrics.
 * @returns counts and the cursor.
 * @throws UsageError when the signer is not an attester or the source's model is not the collection's.
 * @example
 * import { runServe } from './serve/runServe.js'
 * const summary = await runServe(ctx, deployment, { source, confirmations: 1, log: console.error, untilIdle: true })
 * summary.fulfilled // 3
 */
export async function runServe(ctx: ChainContext, deployment: Deployment, options: ServeOptions): Promise<ServeSummary> {
  const account = ctx.account
  const journal = ctx.journal
  if (!account || !journal) throw new ImoError('runServe needs a chain context with a signer and its journal')
  const { getAddress, hexToBytes } = await import('viem')
  const { aigcCollectionAbi } = await import('../../contracts-abi/index.js')
  const { readRequest, decodeRequestedLogs } = await import('../requests/readRequest.js')
  const { mintRecords } = await import('../mint/mintRecords.js')
  const { mapConcurrent } = await import('../util/mapConcurrent.js')
  const { toImoError } = await import('../chain/toImoError.js')
  const { cursorPath, readCursor, writeCursor } = await import('./serveCursor.js')
  const collection = getAddress(deployment.aigcCollection.address)
  const client = ctx.publicClient
  const log = options.log
  const metrics = options.metrics
  const pollMs = options.pollMs ?? 250
  const batchSize = options.batchSize ?? 64
  const margin = options.expiryMarginSeconds ?? 5
  const summary: ServeSummary = { seen: 0, fulfilled: 0, skipped: 0, failed: 0, nextBlock: 0n }
  const rpc = (action: string) => (error: unknown) => {
    throw toImoError(error, { rpcUrl: ctx.rpcUrl, action })
  }
  // Receipts of our own sends are polled often: the latency budget is a couple of block intervals.
  const sendCtx: ChainContext = { ...ctx, tx: { ...ctx.tx, pollingIntervalMs: Math.min(ctx.tx.pollingIntervalMs, pollMs) } }

  // Where to start: --from-block, else the cursor, else the collection's deployment block.
  const path = cursorPath(ctx.chainId, collection, options.stateRoot)
  const saved = readCursor(path)
  const deployedAt = BigInt(deployment.aigcCollection.blockNumber ?? '0')
  let scannedTo = (options.fromBlock ?? (saved ? BigInt(saved.nextBlock) : deployedAt)) - 1n
  if (scannedTo < -1n) scannedTo = -1n
  summary.nextBlock = scannedTo + 1n
  const hashes = new Map<bigint, Hex>() // scanned block -> hash, the last 256
  const tracked = new Map<bigint, Tracked>()
  const timestamps = new Map<bigint, number>()
  let head = 0n
  let backoffMs = 0
  let sending: Promise<void> | undefined
  let inferring: Promise<void> | undefined
  let fatal: unknown

  const settle = (
    t: Tracked,
    event: 'skipped' | 'fulfilled' | 'failed',
    message: string,
    extra: Record<string, unknown> = {},
  ) => {
    t.phase = 'settled'
    t.item = undefined
    t.settledBlock = head
    if (event === 'skipped') summary.skipped++
    if (event === 'failed') summary.failed++
    log({ event, requestId: String(t.id), message, ...extra })
  }
  const saveCursor = () => {
    let next = scannedTo + 1n
    for (const t of tracked.values()) if (t.blockNumber < next) next = t.blockNumber
    if (next < 0n) next = 0n
    if (next !== summary.nextBlock || !saved) writeCursor(path, { chainId: ctx.chainId, collection, nextBlock: next })
    summary.nextBlock = next
  }
  const blockTime = async (number: bigint): Promise<number | undefined> => {
    if (!timestamps.has(number)) {
      const block = await client.getBlock({ blockNumber: number }).catch(() => undefined)
      if (!block) return undefined
      if (timestamps.size > 512) timestamps.delete(timestamps.keys().next().value!)
      timestamps.set(number, Number(block.timestamp))
    }
    return timestamps.get(number)
  }

  /** A reorg below scannedTo: rewind to the last block whose hash still matches. */
  const checkReorg = async (): Promise<void> => {
    const known = hashes.get(scannedTo)
    if (known === undefined) return
    const block = scannedTo <= head ? await client.getBlock({ blockNumber: scannedTo }).catch(rpc('reading a block')) : undefined
    if (block && block.hash === known) return
    let ancestor = -1n
    const numbers = [...hashes.keys()].sort((a, b) => (a < b ? 1 : -1))
    for (const number of numbers) {
      if (number > head) continue
      const candidate = await client.getBlock({ blockNumber: number }).catch(rpc('reading a block'))
      if (candidate.hash === hashes.get(number)) {
        ancestor = number
        break
      }
    }
    if (ancestor < 0n) ancestor = (numbers[numbers.length - 1] ?? scannedTo) - WATCH_DEPTH - 1n
    for (const number of numbers) if (number > ancestor) hashes.delete(number)
    const from = scannedTo
    scannedTo = ancestor
    for (const t of tracked.values()) {
      if (t.blockNumber > ancestor && (t.phase === 'settled' || t.phase === 'new')) tracked.delete(t.id)
      else if (t.phase === 'settled') {
        t.phase = 'new'
        t.retryAt = 0
      }
    }
    log({
      event: 'reorg',
      message: `chain reorganised below block ${from}: rescanning from block ${ancestor + 1n}`,
      from: String(from),
    })
  }

  /** New Requested events up to the confirmed head. */
  const scan = async (): Promise<void> => {
    const target = head - BigInt(options.confirmations) + 1n
    while (scannedTo < target) {
      const from = scannedTo + 1n
      const to = target - from > 4999n ? from + 4999n : target
      const block = await client.getBlock({ blockNumber: to }).catch(rpc('reading a block'))
      const logs = await client
        .getLogs({ address: collection, event: requestedEvent, fromBlock: from, toBlock: to } as never)
        .catch(rpc('reading Requested logs'))
      const events = await decodeRequestedLogs(logs as never)
      for (const event of events) {
        if (event.removed || event.blockNumber === null) continue
        const known = tracked.get(event.requestId)
        if (known && known.promptHash === event.promptHash && known.blockNumber === event.blockNumber) continue
        if (known && known.phase !== 'settled' && known.phase !== 'new') continue // in flight: its re-check follows
        tracked.set(event.requestId, {
          id: event.requestId,
          blockNumber: event.blockNumber,
          promptHash: event.promptHash,
          phase: 'new',
          retryAt: 0,
          solo: false,
        })
        summary.seen++
        metrics?.seen.inc()
        log({
          event: 'seen',
          requestId: String(event.requestId),
          message: `request ${event.requestId} seen in block ${event.blockNumber}`,
          block: String(event.blockNumber),
        })
      }
      hashes.set(to, block.hash!)
      if (hashes.size > 256) hashes.delete([...hashes.keys()].sort((a, b) => (a < b ? -1 : 1))[0]!)
      scannedTo = to
    }
  }

  /** Reads each new request from the chain and decides: serve, skip, or settled already. */
  const check = async (): Promise<void> => {
    const now = Date.now()
    const due = [...tracked.values()].filter((t) => t.phase === 'new' && t.retryAt <= now)
    if (due.length === 0) return
    const chainNow = Number((await client.getBlock({ blockTag: 'latest' }).catch(rpc('reading the latest block'))).timestamp)
    const states = await mapConcurrent(due, 8, (t) => readRequest(ctx, collection, t.id))
    const busyPrompts = new Set(
      [...tracked.values()].filter((t) => ['queued', 'inferring', 'ready', 'sending'].includes(t.phase)).map((t) => t.promptHash),
    )
    const decoder = new TextDecoder('utf-8', { fatal: true })
    for (const [index, t] of due.entries()) {
      const request = states[index]!
      const id = String(t.id)
      if (request.status === 'none' || request.promptHash !== t.promptHash) {
        if (t.settledBlock === undefined) summary.skipped++
        metrics?.skipped.inc({ reason: 'gone' })
        t.phase = 'settled'
        t.settledBlock = head
        log({
          event: 'skipped',
          requestId: id,
          message: `request ${id} is no longer on chain (reorganised away): not served`,
          reason: 'gone',
        })
        continue
      }
      if (request.status === 'fulfilled') {
        const ours = journal.state(`fulfill:${collection.toLowerCase()}:${t.id}`).signed !== undefined
        if (!ours) {
          metrics?.skipped.inc({ reason: 'fulfilled-elsewhere' })
          settle(t, 'skipped', `request ${id} was fulfilled by someone else`, { reason: 'fulfilled-elsewhere' })
        } else t.phase = 'settled'
        t.settledBlock ??= head
        continue
      }
      if (request.status === 'refunded') {
        metrics?.refunded.inc()
        metrics?.skipped.inc({ reason: 'refunded' })
        settle(t, 'skipped', `request ${id} was refunded to its requester: not served`, { reason: 'refunded' })
        continue
      }
      if (chainNow + margin >= request.expiresAt) {
        metrics?.skipped.inc({ reason: 'expired' })
        settle(
          t,
          'skipped',
          `request ${id} expired (or expires within ${margin} s) at ${new Date(request.expiresAt * 1000).toISOString()}: not served; its requester can refund it`,
          { reason: 'expired' },
        )
        continue
      }
      if (busyPrompts.has(request.promptHash)) {
        t.retryAt = now + 1000 // another request of the same prompt is in flight; re-check after it
        continue
      }
      const refundable = (await client
        .readContract({ address: collection, abi: aigcCollectionAbi, functionName: 'isRefundable', args: [t.id] })
        .catch(rpc('reading isRefundable'))) as boolean
      if (refundable) {
        metrics?.skipped.inc({ reason: 'prompt-minted' })
        settle(t, 'skipped', `request ${id} cannot be served: its prompt is minted already; its requester can refund it now`, {
          reason: 'prompt-minted',
        })
        continue
      }
      let prompt: string
      try {
        prompt = decoder.decode(hexToBytes(request.prompt))
      } catch {
        metrics?.skipped.inc({ reason: 'not-text' })
        settle(t, 'skipped', `request ${id} cannot be served: its prompt is not UTF-8 text`, { reason: 'not-text' })
        continue
      }
      busyPrompts.add(request.promptHash)
      t.phase = 'queued'
      t.recipient = request.recipient
      queue.push({ t, prompt })
    }
  }

  // Inference runs beside the follow loop: one job at a time (the source decides its own parallelism),
  // at most one batch ahead of the sends. A result waiting to be sent holds its whole inference (the
  // output tensors and files to write, megabytes with the bundled model): unbounded, a burst of requests
  // grew serve's memory with the backlog (350 MiB after 100 requests, 500 MiB after 300).
  const queue: Array<{ t: Tracked; prompt: string }> = []
  const readyCount = () => {
    let count = 0
    for (const t of tracked.values()) if (t.phase === 'ready') count++
    return count
  }
  const pumpInference = async (): Promise<void> => {
    while (queue.length > 0 && !options.signal?.aborted && readyCount() < batchSize) {
      const { t, prompt } = queue.shift()!
      if (t.phase !== 'queued' || tracked.get(t.id) !== t) continue
      t.phase = 'inferring'
      try {
        const { item, inferenceMs } = await options.source.infer({ requestId: t.id, prompt, promptHash: t.promptHash })
        metrics?.inferenceSeconds.observe(inferenceMs / 1000)
        if (t.phase !== 'inferring') continue // reorganised away meanwhile
        t.item = { ...item, request: { id: t.id, recipient: t.recipient! } }
        t.phase = 'ready'
      } catch (error) {
        metrics?.failed.inc()
        settle(t, 'failed', `request ${t.id}: inference failed: ${(error as ImoError).shortMessage ?? (error as Error).message}`)
      }
    }
  }

  /** Fulfils the ready requests, pipelined (a request that failed in a batch goes alone next time). */
  const send = async (batch: Tracked[]): Promise<void> => {
    for (const t of batch) t.phase = 'sending'
    try {
      const result = await mintRecords(
        sendCtx,
        batch.map((t) => t.item!),
        { deployment },
      )
      for (const [index, outcome] of result.outcomes.entries()) {
        const t = batch[index]!
        if (outcome.status === 'existing' && !outcome.txHash) {
          t.phase = 'new' // minted by someone else meanwhile: the re-check says so
          t.retryAt = 0
          continue
        }
        const block = outcome.blockNumber ?? head
        const requestedAt = await blockTime(t.blockNumber)
        const latency = requestedAt !== undefined ? Date.now() / 1000 - requestedAt : undefined
        if (latency !== undefined) metrics?.endToEndSeconds.observe(latency)
        summary.fulfilled++
        metrics?.fulfilled.inc()
        settle(
          t,
          'fulfilled',
          `request ${t.id} fulfilled: token ${outcome.tokenIdHex} to ${t.recipient} (tx ${outcome.txHash ?? 'journalled'})`,
          {
            tokenId: outcome.tokenIdHex,
            recipient: t.recipient,
            tokenUri: outcome.tokenUri,
            ...(outcome.txHash ? { tx: outcome.txHash } : {}),
            block: String(block),
            status: outcome.status,
          },
        )
        t.settledBlock = block
      }
      backoffMs = 0
    } catch (error) {
      if (isTransient(error)) {
        if (error instanceof ImoError && error.exitCode === 7) await dropStale(batch)
        for (const t of batch) if (t.phase === 'sending') t.phase = 'ready'
        backoffMs = Math.min(Math.max(backoffMs * 2, 1000), 30_000)
        log({
          event: 'rpc-error',
          message: `sending failed, retrying in ${backoffMs / 1000} s: ${(error as ImoError).shortMessage ?? (error as Error).message}`,
        })
        return
      }
      if (error instanceof ImoError && (error.exitCode === 3 || error.exitCode === 4) && batch.length > 1) {
        // One bad request fails the whole batch's simulation: re-check each, then send them one by one.
        for (const t of batch) {
          t.phase = 'new'
          t.retryAt = 0
          t.solo = true
          t.item = undefined
        }
        log({
          event: 'retry',
          message: `a batch of ${batch.length} failed (${error.shortMessage}); re-checking and sending them one by one`,
        })
        return
      }
      if (error instanceof ImoError && error.exitCode !== 1) {
        for (const t of batch) {
          metrics?.failed.inc()
          settle(t, 'failed', `request ${t.id} not fulfilled: ${error.shortMessage}`)
        }
        return
      }
      throw error
    } finally {
      journal.lock() // sendSteps releases the signer's lock when done; serve holds it for its whole run
    }
  }

  /**
   * After a reorg a journalled fulfilment can lose its nonce to a newer transaction: it can never be
   * mined, so it is marked dropped (never re-used) and the request is signed afresh next time.
   */
  const dropStale = async (batch: Tracked[]): Promise<void> => {
    const mined = await client.getTransactionCount({ address: account.address, blockTag: 'latest' }).catch(() => undefined)
    if (mined === undefined) return
    for (const t of batch) {
      const id = `fulfill:${collection.toLowerCase()}:${t.id}`
      const state = journal.state(id)
      if (!state.signed || state.signed.nonce >= mined) continue
      const receipt = await client.getTransactionReceipt({ hash: state.signed.hash }).catch(() => undefined)
      if (receipt) continue
      journal.append({
        type: 'dropped',
        id,
        hash: state.signed.hash,
        reason: 'nonce taken after a reorg',
        at: new Date().toISOString(),
      })
      log({
        event: 'retry',
        requestId: String(t.id),
        message: `request ${t.id}: its journalled fulfilment lost its nonce in a reorg; signing it again`,
      })
    }
  }

  journal.lock()
  log({
    event: 'start',
    message: `serving requests to ${collection} on chain ${ctx.chainId} as ${account.address} from block ${scannedTo + 1n} (${options.confirmations} confirmation${options.confirmations === 1 ? '' : 's'})`,
    fromBlock: String(scannedTo + 1n),
  })
  try {
    while (!options.signal?.aborted) {
      if (fatal) throw fatal
      try {
        head = await client.getBlockNumber({ cacheTime: 0 }).catch(rpc('reading the block number'))
        await checkReorg()
        await scan()
        await check()
        for (const t of tracked.values())
          if (t.phase === 'settled' && t.settledBlock !== undefined && head - t.settledBlock >= WATCH_DEPTH) tracked.delete(t.id)
        saveCursor()
        metrics?.alive()
        if (backoffMs > 0 && !sending) backoffMs = 0
      } catch (error) {
        if (!isTransient(error)) throw error
        backoffMs = Math.min(Math.max(backoffMs * 2, 1000), 30_000)
        log({
          event: 'rpc-error',
          message: `${(error as ImoError).shortMessage ?? (error as Error).message}; retrying in ${backoffMs / 1000} s`,
        })
        await sleep(backoffMs, options.signal)
        continue
      }
      if (!inferring && queue.length > 0 && readyCount() < batchSize)
        inferring = pumpInference()
          .catch((error: unknown) => {
            fatal = error
          })
          .finally(() => {
            inferring = undefined
          })
      if (!sending) {
        const ready = [...tracked.values()].filter((t) => t.phase === 'ready').sort((a, b) => (a.id < b.id ? -1 : 1))
        const solo = ready.find((t) => t.solo)
        const batch = solo ? [solo] : ready.slice(0, batchSize)
        if (batch.length > 0)
          sending = send(batch)
            .catch((error: unknown) => {
              fatal = error
            })
            .finally(() => {
              sending = undefined
            })
      }
      const active = [...tracked.values()].some((t) => t.phase !== 'settled')
      if (options.untilIdle && !active && !sending && !inferring && scannedTo >= head - BigInt(options.confirmations) + 1n) break
      await sleep(backoffMs > 0 ? backoffMs : pollMs, options.signal)
    }
    await sending
    await inferring
    if (fatal) throw fatal
  } finally {
    saveCursor()
    journal.unlock()
  }
  log({
    event: 'stop',
    message: `stopped: ${summary.fulfilled} fulfilled, ${summary.skipped} skipped, ${summary.failed} failed; next block ${summary.nextBlock}`,
  })
  return summary
}

const requestedEvent = {
  type: 'event',
  name: 'Requested',
  inputs: [
    { name: 'requestId', type: 'uint256', indexed: true },
    { name: 'requester', type: 'address', indexed: true },
    { name: 'recipient', type: 'address', indexed: true },
    { name: 'promptHash', type: 'bytes32', indexed: false },
    { name: 'prompt', type: 'bytes', indexed: false },
    { name: 'fee', type: 'uint256', indexed: false },
    { name: 'expiresAt', type: 'uint256', indexed: false },
  ],
} as const
