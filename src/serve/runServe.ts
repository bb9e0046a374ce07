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
 * - Reorgs: the hash of the newest block serve knows (the last scanned one, or the block of one of its
 *   fulfilments, which may be newer) is checked each round; on a change the scan rewinds to the last
 *   block whose hash still matches (never below the deployment), and every recent request, and every
 *   request of the rewound blocks that is not being sent, is re-checked on chain. A request that is
 *   gone is never fulfilled (status None: skipped as `gone`); a fulfilment that vanished (request Open
 *   again) is sent again, the journal re-broadcasting the same signed transaction; a fulfilment mined
 *   after its request vanished reverts, and is re-checked (gone) rather than failed. Requests stay
 *   watched WATCH_DEPTH blocks.
 * - RPC trouble (exit 5/6/7 errors): logged, then retried with backoff (1 s doubling to 30 s).
 * - Stop (signal aborted): what is in flight gets STOP_GRACE_MS to finish; a fulfilment still awaiting
 *   its receipt is journalled already and completed by the next run. The cursor is saved last.
 * - Before acting, every request's status, expiry and prompt are read from the chain, not the log.
 */
import type { Address, Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import type { Deployment } from '../deployment/deploymentFile.js'
import { ImoError } from '../errors.js'
import type { MintItem } from '../mint/mintRecords.js'
import { type InferenceSource, ParkedInferenceError } from './inferenceSource.js'
import type { ServeMetrics } from './serveMetrics.js'

/** Blocks a settled request stays watched for reorgs (and the cursor lags behind it). */
export const WATCH_DEPTH = 12n

/**
 * On stop, how long serve waits for what is in flight (a fulfilment awaiting its receipt, an
 * inference) before it returns: a signed fulfilment is journalled before broadcast, so the next run
 * resumes that very transaction; waiting for a receipt that may take minutes would only delay the
 * stop past the CLI's clean-up allowance (3 s), losing the summary.
 */
export const STOP_GRACE_MS = 1500

/** One log line's worth: what happened to which request. */
export interface ServeEvent {
  event:
    | 'start'
    | 'seen'
    | 'fulfilled'
    | 'skipped'
    | 'failed'
    | 'reorg'
    | 'rpc-error'
    | 'retry'
    | 'stop'
    | 'warning'
    /** `--queue`: Redis lost or back. */
    | 'queue'
    /** `--queue`: a worker refused work (its model is not the deployment's). */
    | 'refused'
    /** `--queue`: serve refused a worker's result (and ran the request itself). */
    | 'rejected'
    /** `--queue`: serve re-executed a worker's result (`result`: match or mismatch). */
    | 'audit'
    /** `--queue`: a worker's results are refused from now on. */
    | 'quarantined'
    /** `--http`: the paid API (a call settled, refused, failed). */
    | 'api'
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

/** `parked`: its queued job used up its attempts (failed set); it waits for `imo requests retry`. */
type Phase = 'new' | 'queued' | 'inferring' | 'parked' | 'ready' | 'sending' | 'settled'

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
  /** Why its last fulfilment failed (simulation or revert): it is re-checked, then failed unless gone. */
  lastError?: string
  /** How long its inference took, as the source measured it (logged with the fulfilment). */
  inferenceMs?: number
  /** When its result became ready (ms), for the local source's gathering of a batch. */
  readyAt?: number
  /** A `fulfilled` line was logged for it in this run (a reorg's re-check does not log it again). */
  reported?: boolean
}

/** Waits `ms`, or less when `signal` aborts; the abort listener goes with the wait (one per round would pile up). */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const wake = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', wake)
      resolve()
    }
    const timer = setTimeout(wake, ms)
    signal?.addEventListener('abort', wake, { once: true })
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
  const { readRequest, decodeRequestedLogs } = await import('../requests/readRequest.js')
  const { mintRecords } = await import('../mint/mintRecords.js')
  const { isTransactionAbsent } = await import('../chain/isTransactionAbsent.js')
  const { journalledSuccess } = await import('../chain/journalledSuccess.js')
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
  /**
   * The head block as read at the start of the round: its number, its hash and its parent's hash. The
   * reorg check, the scan and the expiry check read the hashes and the time they need from it rather
   * than one block read each (with the cuts in mintRecords and sendSteps, 14.9 -> 10.4 RPC calls per
   * request over 200 requests through the queue, one worker).
   */
  let latest: { number: bigint; hash: Hex; parentHash: Hex; timestamp: bigint } = {
    number: 0n,
    hash: '0x',
    parentHash: '0x',
    timestamp: 0n,
  }
  /** A block's hash: from the round's head block when it is the head or its parent, else read. */
  const hashOf = async (number: bigint): Promise<Hex | null> => {
    if (number === latest.number) return latest.hash
    if (number === latest.number - 1n) return latest.parentHash
    return (await client.getBlock({ blockNumber: number }).catch(rpc('reading a block'))).hash
  }
  let backoffMs = 0
  let sending: Promise<void> | undefined
  let fatal: unknown

  const settle = (
    t: Tracked,
    event: 'skipped' | 'fulfilled' | 'failed',
    message: string,
    extra: Record<string, unknown> = {},
  ) => {
    t.phase = 'settled'
    t.item = undefined
    t.settledBlock = latest.number
    if (event === 'skipped') summary.skipped++
    if (event === 'failed') summary.failed++
    log({ event, requestId: String(t.id), message, ...extra })
  }
  /** The cursor as the file holds it: written only when it moves (each write is an fsync). */
  let cursorOnDisk = saved ? BigInt(saved.nextBlock) : undefined
  const saveCursor = () => {
    let next = scannedTo + 1n
    for (const t of tracked.values()) if (t.blockNumber < next) next = t.blockNumber
    if (next < 0n) next = 0n
    if (next !== cursorOnDisk) {
      writeCursor(path, { chainId: ctx.chainId, collection, nextBlock: next })
      cursorOnDisk = next
    }
    summary.nextBlock = next
  }
  /** A block's hash, for the reorg check; the newest 256 are kept. */
  const remember = (number: bigint, hash: Hex) => {
    hashes.set(number, hash)
    if (hashes.size <= 256) return
    const oldest = [...hashes.keys()].sort((a, b) => (a < b ? -1 : 1))
    for (const number of oldest.slice(0, hashes.size - 256)) hashes.delete(number)
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

  /**
   * A reorg: the newest block serve knows (scanned, or holding one of its fulfilments) changed or is
   * gone. Rewinds the scan to the last known block whose hash still matches, and re-checks on chain
   * every settled request and every request of the rewound blocks that is not being sent (a request
   * that is gone is skipped as such; one whose fulfilment vanished is served again).
   */
  const checkReorg = async (): Promise<void> => {
    const numbers = [...hashes.keys()].sort((a, b) => (a < b ? 1 : -1))
    const top = numbers[0]
    if (top === undefined) return
    if (top <= latest.number && (await hashOf(top)) === hashes.get(top)) return
    let ancestor: bigint | undefined
    for (const number of numbers) {
      if (number > latest.number) continue
      if ((await hashOf(number)) === hashes.get(number)) {
        ancestor = number
        break
      }
    }
    // Deeper than what serve remembers: rewind the watch depth below it, never before the deployment.
    if (ancestor === undefined) ancestor = numbers[numbers.length - 1]! - WATCH_DEPTH - 1n
    if (ancestor < deployedAt - 1n) ancestor = deployedAt - 1n
    if (ancestor < -1n) ancestor = -1n
    for (const number of numbers) if (number > ancestor) hashes.delete(number)
    const from = scannedTo
    if (ancestor < scannedTo) scannedTo = ancestor
    for (const t of tracked.values()) {
      const rewound = t.blockNumber > ancestor && t.phase !== 'sending'
      if (t.phase === 'settled' || t.phase === 'new' || rewound) {
        t.phase = 'new'
        t.retryAt = 0
        t.item = undefined
      }
    }
    log({
      event: 'reorg',
      message: `chain reorganised below block ${top}: rescanning from block ${scannedTo + 1n}, re-checking recent requests`,
      from: String(from),
    })
  }

  /** New Requested events up to the confirmed head. */
  const scan = async (): Promise<void> => {
    const target = latest.number - BigInt(options.confirmations) + 1n
    while (scannedTo < target) {
      const from = scannedTo + 1n
      const to = target - from > 4999n ? from + 4999n : target
      const hash = await hashOf(to)
      let logs: unknown
      try {
        logs = await client.getLogs({ address: collection, event: requestedEvent, fromBlock: from, toBlock: to } as never)
      } catch (error) {
        // A node refuses a range past its head: the head read at the start of the round is gone (a
        // reorg to a shorter chain) or this node lags the one that answered (a load-balanced RPC). The
        // round ends here; the next one reads the head again and its reorg check rewinds. (It was a
        // fatal "the node rejected the request" when a revert landed between the two reads.)
        const now = await client.getBlockNumber({ cacheTime: 0 }).catch(() => undefined)
        if (now !== undefined && now < to) return
        return rpc('reading Requested logs')(error)
      }
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
      remember(to, hash!)
      scannedTo = to
    }
  }

  /** Reads each new request from the chain and decides: serve, skip, or settled already. */
  const check = async (): Promise<void> => {
    const now = Date.now()
    const due = [...tracked.values()].filter((t) => t.phase === 'new' && t.retryAt <= now)
    if (due.length === 0) return
    const chainNow = Number(latest.timestamp)
    // Status, prompt and refundability in one eth_call per request, 8 requests at a time (they were two
    // calls, and before that refundability was read one request after another).
    const states = await mapConcurrent(due, 8, (t) => readRequest(ctx, collection, t.id, { refundable: true }))
    // The request blocks' times, for the end-to-end latency metric, read now while the RPC answers
    // (cached). Only with --metrics: without it they were a block read per request for nothing.
    if (metrics) await mapConcurrent([...new Set(due.map((t) => t.blockNumber))], 8, blockTime)
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
        t.settledBlock = latest.number
        log({
          event: 'skipped',
          requestId: id,
          message: `request ${id} is no longer on chain (reorganised away): not served`,
          reason: 'gone',
        })
        if (request.status !== 'none') {
          // Its id now belongs to another request (ids are a counter; the reorg freed it). That one's
          // event may have been scanned while this one was in flight: track it here (from the old
          // block, which keeps the cursor before it).
          tracked.set(t.id, {
            id: t.id,
            blockNumber: t.blockNumber,
            promptHash: request.promptHash,
            phase: 'new',
            retryAt: 0,
            solo: false,
          })
          summary.seen++
          metrics?.seen.inc()
          log({ event: 'seen', requestId: id, message: `request ${id} seen again: another request took its id` })
        }
        continue
      }
      if (request.status === 'fulfilled') {
        const tx = await ourFulfilment(t)
        if (tx && t.reported) {
          t.phase = 'settled' // re-checked after a reorg: still ours, said already
          t.settledBlock ??= latest.number
        } else if (tx) {
          // Ours, found here rather than by the send that made it (a send interrupted by an error or a
          // stop, or an earlier run): reported like any other fulfilment.
          t.reported = true
          summary.fulfilled++
          metrics?.fulfilled.inc()
          settle(t, 'fulfilled', `request ${id} fulfilled (tx ${tx}, found on chain)`, {
            recipient: request.recipient,
            tx,
            status: 'existing',
          })
        } else {
          metrics?.skipped.inc({ reason: 'fulfilled-elsewhere' })
          settle(t, 'skipped', `request ${id} was fulfilled by someone else`, { reason: 'fulfilled-elsewhere' })
        }
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
      // Open, not expired and refundable: its prompt was minted (by another request, or meanwhile by a
      // mint, which then made its fulfilment's simulation revert): skipped, not failed.
      if (request.refundable) {
        metrics?.skipped.inc({ reason: 'prompt-minted' })
        settle(t, 'skipped', `request ${id} cannot be served: its prompt is minted already; its requester can refund it now`, {
          reason: 'prompt-minted',
        })
        continue
      }
      if (t.lastError !== undefined) {
        metrics?.failed.inc()
        settle(t, 'failed', `request ${id} not fulfilled: ${t.lastError}`)
        continue
      }
      if (busyPrompts.has(request.promptHash)) {
        t.retryAt = now + 1000 // another request of the same prompt is in flight; re-check after it
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

  // The loop waits pollMs between rounds, unless work it would start is ready: a finished send or a
  // result while nothing is sending wakes it at once (waiting out the round: 200 requests in 13.1 s,
  // woken: 10.9 s, bench/serve.ts). Never during a backoff.
  let wakeLoop: (() => void) | undefined
  const nudge = () => {
    if (backoffMs === 0) wakeLoop?.()
  }

  // Inference runs beside the follow loop: up to the source's capacity at once (the local source: one;
  // a queue: many jobs in flight, the workers decide the parallelism).
  // Results wait for the sends at most one batch ahead: a result waiting to be sent holds its whole
  // inference (output tensors, megabytes with the bundled model); unbounded, a burst of requests grew
  // serve's memory with the backlog (350 MiB after 100 requests, 500 MiB after 300).
  const queue: Array<{ t: Tracked; prompt: string }> = []
  const capacity = Math.max(1, options.source.capacity ?? 1)
  const running = new Set<Promise<void>>()
  const readyCount = () => {
    let count = 0
    for (const t of tracked.values()) if (t.phase === 'ready') count++
    return count
  }
  const inferOne = async (t: Tracked, prompt: string): Promise<void> => {
    t.phase = 'inferring'
    try {
      const { item, inferenceMs } = await options.source.infer({
        requestId: t.id,
        prompt,
        promptHash: t.promptHash,
        ...(t.recipient ? { recipient: t.recipient } : {}),
      })
      metrics?.inferenceSeconds.observe(inferenceMs / 1000)
      if (t.phase !== 'inferring' || tracked.get(t.id) !== t) return // reorganised away meanwhile
      t.inferenceMs = Math.round(inferenceMs * 10) / 10
      t.item = { ...item, request: { id: t.id, recipient: t.recipient! } }
      t.phase = 'ready'
      t.readyAt = Date.now()
      if (!sending) nudge()
    } catch (error) {
      if (options.signal?.aborted || t.phase !== 'inferring' || tracked.get(t.id) !== t) return
      metrics?.failed.inc()
      const reason = (error as ImoError).shortMessage ?? (error as Error).message
      if (error instanceof ParkedInferenceError) {
        // Kept (the cursor stays at its block) until a retry of its job brings a result.
        t.phase = 'parked'
        summary.failed++
        log({ event: 'failed', requestId: String(t.id), message: `request ${t.id}: inference failed: ${reason}`, parked: true })
        return
      }
      settle(t, 'failed', `request ${t.id}: inference failed: ${reason}`)
    }
  }
  /** Starts queued inferences while there is room; true when any is running. */
  const pumpInference = (): boolean => {
    const ahead = Math.max(batchSize, capacity)
    while (queue.length > 0 && running.size < capacity && readyCount() + running.size < ahead && !options.signal?.aborted) {
      const { t, prompt } = queue.shift()!
      if (t.phase !== 'queued' || tracked.get(t.id) !== t) continue
      const run: Promise<void> = inferOne(t, prompt)
        .catch((error: unknown) => {
          fatal = error
        })
        .finally(() => {
          running.delete(run)
          // The next one starts now, not at the next poll round (one inference per round was 3.7 requests/s).
          if (!fatal) pumpInference()
        })
      running.add(run)
    }
    return running.size > 0
  }
  options.source.onAvailable?.((id) => {
    const t = tracked.get(id)
    if (t?.phase !== 'parked') return
    t.phase = 'new' // re-checked on chain, then asked again: the source hands over the result it holds
    t.retryAt = 0
    log({ event: 'retry', requestId: String(id), message: `request ${id}: its retried job has a result; re-checking it` })
  })

  /** Fulfils the ready requests, pipelined (a request that failed in a batch goes alone next time). */
  const send = async (batch: Tracked[]): Promise<void> => {
    for (const t of batch) t.phase = 'sending'
    for (const t of batch) dropReverted(t)
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
        const block = outcome.blockNumber ?? latest.number
        const requestedAt = metrics ? await blockTime(t.blockNumber) : undefined
        if (requestedAt !== undefined) metrics?.endToEndSeconds.observe(Date.now() / 1000 - requestedAt)
        // Its block is watched like a scanned one: a reorg that removes the fulfilment is noticed even
        // when it happens before the next scan reaches that block.
        const receipt = journal.state(stepId(t)).receipt
        if (receipt && !hashes.has(BigInt(receipt.blockNumber))) remember(BigInt(receipt.blockNumber), receipt.blockHash)
        summary.fulfilled++
        metrics?.fulfilled.inc()
        t.reported = true
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
            ...(t.inferenceMs !== undefined ? { inferenceMs: t.inferenceMs } : {}),
          },
        )
        t.settledBlock = block
      }
      // The backoff is not reset here: receipts that came just before an outage say nothing of the
      // RPC now; the next round that gets through resets it.
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
      if (error instanceof ImoError && (error.exitCode === 3 || error.exitCode === 4)) {
        // One bad request fails the whole batch's simulation: re-check each, then send them one by one.
        // Alone, it is re-checked before it counts as failed: a request reorganised away is skipped as gone.
        for (const t of batch) {
          t.phase = 'new'
          t.retryAt = 0
          if (batch.length === 1) t.lastError = error.shortMessage
          t.solo = true
          t.item = undefined
        }
        if (batch.length > 1)
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
    }
  }

  const stepId = (t: Tracked) => `fulfill:${collection.toLowerCase()}:${t.id}`

  /** Our fulfilment of `t` when it succeeded on chain (undefined: not ours); a failed lookup is retried next round. */
  const ourFulfilment = (t: Tracked): Promise<Hex | undefined> =>
    journalledSuccess(client, journal.state(stepId(t))).catch(rpc('looking up our fulfilment'))

  /**
   * A journalled fulfilment that was mined and reverted (its request was reorganised away) no longer
   * counts: marked dropped, so the request id (maybe another request's now) is signed afresh, with its
   * own inputs, instead of the journal refusing a step recorded with other inputs.
   */
  const dropReverted = (t: Tracked): void => {
    const state = journal.state(stepId(t))
    if (!state.signed || state.receipt?.status !== 'reverted') return
    journal.append({
      type: 'dropped',
      id: stepId(t),
      hash: state.signed.hash,
      reason: 'reverted (request reorganised away or not open); signed afresh',
      at: new Date().toISOString(),
    })
  }

  /**
   * After a reorg a journalled fulfilment can lose its nonce to a newer transaction: it can never be
   * mined, so it is marked dropped (never re-used) and the request is signed afresh next time.
   */
  const dropStale = async (batch: Tracked[]): Promise<void> => {
    const mined = await client.getTransactionCount({ address: account.address, blockTag: 'latest' }).catch(() => undefined)
    if (mined === undefined) return
    for (const t of batch) {
      const id = stepId(t)
      const state = journal.state(id)
      if (!state.signed || state.signed.nonce >= mined) continue
      if (!(await isTransactionAbsent(client, state.signed.hash))) continue // mined after all, or unknown yet
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
        const block = await client.getBlock({ blockTag: 'latest' }).catch(rpc('reading the latest block'))
        latest = { number: block.number, hash: block.hash, parentHash: block.parentHash, timestamp: block.timestamp }
        await checkReorg()
        await scan()
        await check()
        const unwatched = [...tracked.values()].filter(
          (t) => t.phase === 'settled' && t.settledBlock !== undefined && latest.number - t.settledBlock >= WATCH_DEPTH,
        )
        for (const t of unwatched) tracked.delete(t.id)
        journal.forget(unwatched.map(stepId)) // no longer watched: their records stay in the file, not in memory
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
      const inferring = pumpInference()
      if (!sending) {
        const ready = [...tracked.values()].filter((t) => t.phase === 'ready').sort((a, b) => (a.id < b.id ? -1 : 1))
        const solo = ready.find((t) => t.solo)
        const batch = solo ? [solo] : ready.slice(0, batchSize)
        // The local source infers one request at a time: while the next one of a burst is being
        // computed, the ready ones wait for it (at most one poll interval), so requests that arrived
        // together are fulfilled in one batch, in one block, rather than one block apart on a chain
        // with block times (bench/serve.ts: a second request of a block waited a whole block).
        // Inference through a queue runs elsewhere and takes seconds: its results go at once.
        const oldest = Math.min(...batch.map((t) => t.readyAt ?? 0))
        const gathering = !solo && capacity === 1 && running.size > 0 && batch.length < batchSize && Date.now() - oldest < pollMs
        if (batch.length > 0 && !gathering)
          sending = send(batch)
            .catch((error: unknown) => {
              fatal = error
            })
            .finally(() => {
              sending = undefined
              nudge()
            })
      }
      const active = [...tracked.values()].some((t) => t.phase !== 'settled' && t.phase !== 'parked')
      if (
        options.untilIdle &&
        !active &&
        !sending &&
        !inferring &&
        scannedTo >= latest.number - BigInt(options.confirmations) + 1n
      )
        break
      await new Promise<void>((resolve) => {
        wakeLoop = resolve
        void sleep(backoffMs > 0 ? backoffMs : pollMs, options.signal).then(resolve)
      })
      wakeLoop = undefined
    }
    // A local inference ends soon; a queued one may wait for a worker: the job stays in the queue and
    // the next run collects it, so a stop does not wait for it.
    const inferences = capacity === 1 ? Promise.allSettled(running) : undefined
    if (options.signal?.aborted) {
      const grace = new Promise<void>((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref())
      await Promise.race([Promise.all([sending, inferences]), grace])
      if (sending)
        log({ event: 'stop', message: 'stopping with a fulfilment in flight: it is journalled, the next run completes it' })
    } else {
      await sending
      await inferences
    }
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
