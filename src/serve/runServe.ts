/**
 * `imo serve` behind its command file (README "Paid requests and `imo serve`", docs/serve.md): follows the collection's `Requested` events,
 * waits the confirmations, gets each prompt's inference from an InferenceSource, and fulfils the
 * requests pipelined through mintRecords (recipient-bound attestation, `fulfill` instead of `mint`).
 * The work is done by stages (serveNode.ts wires them: follow, decide, infer, check, fulfil, settle);
 * this file drives them in rounds and owns the cursor, the backoff and the stop.
 *
 * Safety, and why it holds:
 * - Never twice: a fulfilment's journal step id derives from the request's key (its id, prompt hash and
 *   recipient) and the chain (servedRequest.ts), so a restart resumes the very signed transaction
 *   instead of signing another; the contract refuses a second fulfilment anyway (RequestNotOpen).
 * - Never skipped: the cursor (serveCursor.ts) only moves past a block when all its requests are
 *   settled; after a restart every request from the cursor on is re-read from the chain.
 * - Reorgs (followChain.ts): requests that are gone are never fulfilled (skipped as `gone`), a
 *   fulfilment that vanished is sent again (the journal re-broadcasts the same signed transaction, and
 *   every journalled fulfilment the reorg removed is re-broadcast at once in nonce order); requests
 *   stay watched WATCH_DEPTH blocks.
 * - RPC trouble (exit 5/6/7 errors): logged, then retried with backoff (1 s doubling to 30 s).
 * - Stop (signal aborted): what is in flight gets STOP_GRACE_MS to finish; a fulfilment still awaiting
 *   its receipt is journalled already and completed by the next run. The cursor is saved last.
 * - Before acting, every request's status, expiry and prompt are read from the chain, not the log.
 *
 * The seam (an off-chain front end such as the paid HTTP API, issue 23): follow, decide, fulfil and
 * settle are about on-chain requests; infer and check are not. startServe hands out `Serving.stages`:
 * - infer: `stages.source.infer(job)`, the node's one InferenceSource (one model session, or the one
 *   queue, whose worker results pass checkQueuedResult.ts before infer() resolves). A job needs a
 *   unique `requestId` (the queue's job id and the output folder derive from it): give off-chain
 *   calls ids of their own range, never an on-chain request's. To share capacity with chain requests
 *   instead of calling the source beside them, run the work through an inferStage (keys, not ids).
 * - check: `stages.check(item, promptBytes)`, the same last check serveNode runs before signing.
 * - sign and send: `stages.ctx` holds the node's signer (`account`, for signAttestation) and its
 *   journal; sends go through the engine (mintRecords / sendSteps) with that ctx, in this process
 *   (the journal lock is per process: a second process with the key is refused).
 * - count: `stages.metrics` (one registry: its counters show on serve's /metrics) and `stages.log`.
 */
import type { ChainContext } from '../chain/connect.js'
import type { Deployment } from '../deployment/deploymentFile.js'
import { ImoError } from '../errors.js'
import type { AigcDataMode } from '../inference/erc7007.js'
import type { InferenceSource } from './inferenceSource.js'
import type { ServeEvent, ServeSummary } from './serveEvent.js'
import type { ServeMetrics } from './serveMetrics.js'

export { WATCH_DEPTH } from './followChain.js'
export type { ServeEvent, ServeSummary } from './serveEvent.js'

/**
 * On stop, how long serve waits for what is in flight (a fulfilment awaiting its receipt, an
 * inference) before it returns: a signed fulfilment is journalled before broadcast, so the next run
 * resumes that very transaction; waiting for a receipt that may take minutes would only delay the
 * stop past the CLI's clean-up allowance (3 s), losing the summary.
 */
export const STOP_GRACE_MS = 1500

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
  /** The aigcData mode results must have (default digest). */
  aigcDataMode?: AigcDataMode
  /** How many fulfilments keep their whole output folder (outputRetention.ts; default 1000). */
  keepOutputs?: number | 'all'
  log(event: ServeEvent): void
  metrics?: ServeMetrics
  /** Return once nothing is left to do (the demo, tests); otherwise run until `signal` aborts. */
  untilIdle?: boolean
  signal?: AbortSignal
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

/**
 * Runs the serve loop until `signal` aborts (or, with `untilIdle`, until nothing is left to do).
 * @param ctx - chain context with the attester signer and its journal.
 * @param deployment - the deployment whose collection is served.
 * @param options - inference source, confirmations, logging, metrics.
 * @returns counts, the cursor and the parked requests.
 * @throws UsageError for a cursor that cannot be used; RPC errors before the loop starts.
 * @example
 * import { runServe } from './serve/runServe.js'
 * const summary = await runServe(ctx, deployment, { source, confirmations: 1, log: console.error, untilIdle: true })
 * summary.fulfilled // 3
 */
export async function runServe(ctx: ChainContext, deployment: Deployment, options: ServeOptions): Promise<ServeSummary> {
  const journal = ctx.journal
  if (!ctx.account || !journal) throw new ImoError('runServe needs a chain context with a signer and its journal')
  const { getAddress } = await import('viem')
  const { createServeNode } = await import('./serveNode.js')
  const { transientError } = await import('./fulfilStage.js')
  const collection = getAddress(deployment.aigcCollection.address)
  const { log, metrics, signal } = options
  const pollMs = options.pollMs ?? 250
  const { chain, start, saveCursor: writeCursorAt, retention } = await openServeState(ctx, deployment, options)
  const summary: ServeSummary = { seen: 0, fulfilled: 0, skipped: 0, failed: 0, nextBlock: start.fromBlock, parked: [] }

  let backoffMs = 0
  let fatal: unknown
  let wakeLoop: (() => void) | undefined
  // The loop waits pollMs between rounds, unless work it would start is ready: a finished send or a
  // result while nothing is sending wakes it at once (waiting out the round: 200 requests in 13.1 s,
  // woken: 10.9 s, bench/serve.ts). Never during a backoff.
  const wake = () => {
    if (backoffMs === 0) wakeLoop?.()
  }
  const backOff = (error: unknown, format: (seconds: number, reason: string) => string) => {
    backoffMs = Math.min(Math.max(backoffMs * 2, 1000), 30_000)
    metrics?.rpcErrors.inc()
    log({ event: 'rpc-error', message: format(backoffMs / 1000, (error as ImoError).shortMessage ?? (error as Error).message) })
  }
  const node = createServeNode(ctx, {
    deployment,
    collection,
    chain,
    journal,
    source: options.source,
    fromBlock: start.fromBlock,
    reported: start.reported,
    confirmations: options.confirmations,
    pollMs,
    batchSize: options.batchSize ?? 64,
    marginSeconds: options.expiryMarginSeconds ?? 5,
    aigcDataMode: options.aigcDataMode ?? 'digest',
    log,
    ...(metrics ? { metrics } : {}),
    summary,
    stopped: () => Boolean(signal?.aborted),
    wake,
    // The backoff is not reset by a send that ends: receipts that came just before an outage say
    // nothing of the RPC now; the next round that gets through resets it.
    transient: (error) => backOff(error, (s, reason) => `sending failed, retrying in ${s} s: ${reason}`),
    fatal: (error) => {
      fatal ??= error
    },
    retain: (outDir) => retention.kept(outDir),
  })
  metrics?.bindState(node.state)
  const saveCursor = () => {
    summary.nextBlock = node.nextBlock()
    writeCursorAt(summary.nextBlock, node.reportedKeys())
  }
  let caughtUp = false

  journal.lock()
  log({
    event: 'start',
    message: `serving requests to ${collection} on chain ${ctx.chainId} as ${ctx.account.address} from block ${start.fromBlock} (${options.confirmations} confirmation${options.confirmations === 1 ? '' : 's'})`,
    fromBlock: String(start.fromBlock),
  })
  try {
    while (!signal?.aborted) {
      if (fatal) throw fatal
      try {
        const round = await node.follow()
        if (round.reorg) await node.reorganised(round.reorg)
        for (const event of round.events) node.accept(event)
        if (!caughtUp && node.follower.caughtUp()) {
          caughtUp = true
          node.forgetUnfound()
        }
        await node.decideDue(round.head)
        node.release(round.head.number)
        saveCursor()
        if (backoffMs > 0 && !node.fulfil.sending) backoffMs = 0
      } catch (error) {
        if (!transientError(error)) throw error
        backOff(error, (s, reason) => `${reason}; retrying in ${s} s`)
        await sleep(backoffMs, signal)
        continue
      }
      node.fulfil.start(node.infer.pump())
      if (options.untilIdle && node.idle()) break
      await new Promise<void>((resolve) => {
        wakeLoop = resolve
        void sleep(backoffMs > 0 ? backoffMs : pollMs, signal).then(resolve)
      })
      wakeLoop = undefined
    }
    await stopStages(node, options.source.capacity ?? 1, signal, log)
    if (fatal) throw fatal
  } finally {
    saveCursor()
    retention.flush()
    journal.unlock()
  }
  summary.parked = node.parked()
  log({
    event: 'stop',
    message: `stopped: ${summary.fulfilled} fulfilled, ${summary.skipped} skipped, ${summary.failed} failed; next block ${summary.nextBlock}`,
  })
  return summary
}

/**
 * serve's state on disk, tied to its chain: the chain's key, where to start (the cursor, checked against
 * the chain; what was found when it does not fit is logged), a writer of the cursor that writes only
 * when it moves (each write is an fsync), and the retention of the output folders.
 */
async function openServeState(ctx: ChainContext, deployment: Deployment, options: ServeOptions) {
  const { getAddress } = await import('viem')
  const { readChainKey } = await import('./chainKey.js')
  const { cursorPath, loadCursor, writeCursor } = await import('./serveCursor.js')
  const { describeForeignFulfilments } = await import('./foreignFulfilments.js')
  const { DEFAULT_KEEP_OUTPUTS, openOutputRetention, retentionPath } = await import('./outputRetention.js')
  const { toImoError } = await import('../chain/toImoError.js')
  const collection = getAddress(deployment.aigcCollection.address)
  const chain = await readChainKey(ctx, deployment)
  const head = await ctx.publicClient.getBlockNumber({ cacheTime: 0 }).catch((error: unknown) => {
    throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: 'reading the head block' })
  })
  const path = cursorPath(ctx.chainId, collection, options.stateRoot)
  const deployedAt = BigInt(deployment.aigcCollection.blockNumber ?? '0')
  const fromBlock = options.fromBlock !== undefined ? { fromBlock: options.fromBlock } : {}
  const start = loadCursor(path, { chain, head, deployedAt, ...fromBlock })
  if (start.warning) options.log({ event: 'warning', message: start.warning })
  const foreign = describeForeignFulfilments(ctx.journal!, collection, chain)
  if (foreign) options.log({ event: 'warning', message: foreign })
  let onDisk = ''
  return {
    chain,
    start,
    retention: openOutputRetention(retentionPath(path), options.keepOutputs ?? DEFAULT_KEEP_OUTPUTS),
    /** Writes the cursor when it moved. */
    saveCursor(nextBlock: bigint, reportedKeys: Iterable<string>) {
      const reported = [...reportedKeys]
      const text = `${nextBlock}|${reported.join(',')}`
      if (text === onDisk) return
      writeCursor(path, { chainId: ctx.chainId, collection, chain, nextBlock, reported })
      onDisk = text
    },
  }
}

/**
 * Waits for what is in flight: all of it when the loop ended by itself, STOP_GRACE_MS when stopped.
 * A local inference ends soon; a queued one may wait for a worker: the job stays in the queue and the
 * next run collects it, so a stop does not wait for it.
 */
async function stopStages(
  node: import('./serveNode.js').ServeNode,
  capacity: number,
  signal: AbortSignal | undefined,
  log: (event: ServeEvent) => void,
): Promise<void> {
  const inferences = capacity === 1 ? node.infer.idle() : undefined
  const sending = node.fulfil.sending
  if (!signal?.aborted) {
    await sending
    await inferences
    return
  }
  const grace = new Promise<void>((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref())
  await Promise.race([Promise.all([sending, inferences]), grace])
  if (node.fulfil.sending)
    log({ event: 'stop', message: 'stopping with a fulfilment in flight: it is journalled, the next run completes it' })
}
