/**
 * The wiring of serve's stages: what each stage's output becomes in the next one. Requests flow
 *
 *   follow (followChain.ts) -> decide (decideRequests.ts) -> infer (inferStage.ts)
 *     -> check (checkResult.ts) -> fulfil (fulfilStage.ts) -> settle (settleStage.ts)
 *
 * and go back to decide whenever the chain may have changed under them (a reorg, a batch that failed
 * as a whole, a parked job's retry). Each stage keeps its own requests; `live` holds every request
 * seen and not settled (for the cursor, idleness and metrics). runServe.ts drives the rounds.
 *
 * The infer and check stages know work by key and expectation, not by request id: an off-chain caller
 * (a paid HTTP API) can run its prompts through them and sign its own attestation instead of fulfilling.
 */
import type { Address, Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import type { Journal, ReceiptRecord } from '../chain/journal.js'
import type { Deployment } from '../deployment/deploymentFile.js'
import type { AigcDataMode } from '../inference/erc7007.js'
import type { MintOutcome } from '../mint/mintRecords.js'
import type { RequestedEvent } from '../requests/readRequest.js'
import type { ChainKey } from './chainKey.js'
import { checkResult } from './checkResult.js'
import { createDecideStage, type DecideStage, type Decision, decideRequest, type Pending } from './decideRequests.js'
import { type ChainFollower, createChainFollower, type FollowRound, type Head, WATCH_DEPTH } from './followChain.js'
import { createFulfilStage, type FulfilStage, type Ready } from './fulfilStage.js'
import type { InferenceOutcome, InferenceSource } from './inferenceSource.js'
import { createInferStage, type InferStage } from './inferStage.js'
import { fulfilStepId, type ServedRequest, toServedRequest } from './servedRequest.js'
import type { ServeEvent, ServeSummary } from './serveEvent.js'
import type { NodeState } from './serveHealth.js'
import { EXPIRY_WARNING_SECONDS, type ServeMetrics } from './serveMetrics.js'
import { createSettleStage, type Outcome, type SettleStage } from './settleStage.js'

export interface NodeOptions {
  deployment: Deployment
  collection: Address
  chain: ChainKey
  journal: Journal
  source: InferenceSource
  fromBlock: bigint
  /** Keys of requests an earlier run reported (the cursor's list). */
  reported: Set<string>
  confirmations: number
  pollMs: number
  batchSize: number
  marginSeconds: number
  aigcDataMode: AigcDataMode
  log(event: ServeEvent): void
  metrics?: ServeMetrics
  summary: ServeSummary
  stopped(): boolean
  /** Wakes the loop (a batch ended, a result is ready). */
  wake(): void
  /** An RPC failure while sending: the loop backs off. */
  transient(error: unknown): void
  fatal(error: unknown): void
  /** A fulfilment's output folder (for the retention of outputs). */
  retain?(outDir: string): void
}

/** The stages and what they share. */
interface Wiring {
  ctx: ChainContext
  options: NodeOptions
  live: Map<string, ServedRequest>
  /** Keys whose inference runs while a reorg touched their block: checked again before sending. */
  recheckAfterInference: Set<string>
  stepIdOf(request: ServedRequest): string
  follower: ChainFollower
  settle: SettleStage
  decide: DecideStage
  infer: InferStage
  fulfil: FulfilStage
}

/**
 * Builds the stages and the routes between them.
 * @example
 * const node = createServeNode(ctx, options)
 * const round = await node.follower.poll()
 * for (const event of round.events) node.accept(event)
 * await node.decideDue(round.head)
 */
export function createServeNode(ctx: ChainContext, options: NodeOptions) {
  const { collection, metrics } = options
  const w = {
    ctx,
    options,
    live: new Map<string, ServedRequest>(),
    recheckAfterInference: new Set<string>(),
    stepIdOf: (request: ServedRequest) => fulfilStepId(collection, options.chain.short, request.key),
    follower: createChainFollower(ctx, {
      collection,
      fromBlock: options.fromBlock,
      confirmations: options.confirmations,
      floor: BigInt(options.deployment.aigcCollection.blockNumber ?? '0'),
    }),
    settle: createSettleStage({
      log: options.log,
      summary: options.summary,
      ...(metrics ? { metrics } : {}),
      watchDepth: WATCH_DEPTH,
      reported: options.reported,
    }),
    decide: createDecideStage(ctx, collection),
  } as Wiring
  const capacity = options.source.capacity ?? 1
  let watchedReceipts = new Set<Hex>()
  w.infer = createInferStage(
    options.source,
    { room: () => w.fulfil.readyCount + w.infer.running < Math.max(options.batchSize, capacity), stopped: options.stopped },
    {
      done: (key, outcome) => inferred(w, key, outcome),
      failed: (key, reason, parked) => inferenceFailed(w, key, reason, parked),
      available(key) {
        const request = w.live.get(key)
        if (!request) return
        w.decide.add({ request }) // re-checked on chain, then asked again: the source hands over the result it holds
        options.log({
          event: 'retry',
          requestId: String(request.id),
          message: `request ${request.id}: its retried job has a result; re-checking it`,
        })
      },
      fatal: options.fatal,
    },
  )
  // Receipts of serve's own sends are polled often: the latency budget is a couple of block intervals.
  const sendCtx = { ...ctx, tx: { ...ctx.tx, pollingIntervalMs: Math.min(ctx.tx.pollingIntervalMs, options.pollMs) } }
  w.fulfil = createFulfilStage(
    sendCtx,
    {
      deployment: options.deployment,
      journal: options.journal,
      stepIdOf: w.stepIdOf,
      batchSize: options.batchSize,
      gather: capacity === 1,
      pollMs: options.pollMs,
    },
    {
      fulfilled: (ready, outcome, receipt) => fulfilled(w, ready, outcome, receipt),
      recheck: (ready, { lastError, solo }) =>
        w.decide.add({
          request: ready.request,
          solo,
          ...(lastError !== undefined ? { lastError } : { result: resultOf(ready) }),
        }),
      failed: (ready, message) => finish(w, ready.request, { event: 'failed', message }, w.follower.head.number),
      transient: options.transient,
      log: options.log,
      ended: options.wake,
    },
    options.fatal,
  )
  return {
    follower: w.follower,
    fulfil: w.fulfil,
    infer: w.infer,
    accept: (event: RequestedEvent) => accept(w, event),
    /** Reads the head, checks for a reorg (also of the blocks of the batch in flight), scans new blocks. */
    follow(): Promise<FollowRound> {
      // Each receipt's block once per batch: after a reorg removed it, its journal record stays as it was.
      const current = w.fulfil.journalledBlocks()
      for (const { block, hash } of current) if (!watchedReceipts.has(hash)) w.follower.watch(block, hash)
      watchedReceipts = new Set(current.map((receipt) => receipt.hash))
      return w.follower.poll()
    },
    decideDue: (head: Head) => decideDue(w, head),
    reorganised: (reorg: NonNullable<FollowRound['reorg']>) => reorganised(w, reorg),
    /** Requests that left the watch window: their journal records leave memory (the file keeps them). */
    release(head: bigint): ServedRequest[] {
      const gone = w.settle.release(head)
      options.journal.forget(gone.map((entry) => w.stepIdOf(entry.request)))
      return gone.map((entry) => entry.request)
    },
    /** Once the follower caught up: the cursor's reported keys that the rescan did not find are gone. */
    forgetUnfound: () => w.settle.forgetUnknown((key) => w.live.has(key)),
    reportedKeys: () => w.settle.reportedKeys(),
    nextBlock: () => nextBlock(w),
    state: () => nodeState(w),
    /** Nothing left to do but parked jobs: every seen request settled or parked, nothing in flight. */
    idle(): boolean {
      const parked = new Set(w.infer.parked())
      for (const key of w.live.keys()) if (!parked.has(key)) return false
      return !w.fulfil.sending && w.infer.running === 0 && w.follower.caughtUp()
    },
    /** Request ids whose queued job used up its attempts. */
    parked: () => w.infer.parked().map((key) => String(w.live.get(key)?.id ?? key)),
  }
}

export type ServeNode = ReturnType<typeof createServeNode>

const resultOf = (ready: Ready) => ({
  item: ready.item,
  ...(ready.inferenceMs !== undefined ? { inferenceMs: ready.inferenceMs } : {}),
})

/**
 * Settles a request: quietly when the same outcome was reported before (a re-check after a reorg or a
 * restart); logged but not counted again when another outcome was.
 */
function finish(w: Wiring, request: ServedRequest, outcome: Outcome, block: bigint, reportedAs?: Pending['reportedAs']): void {
  w.live.delete(request.key)
  const same = reportedAs === 'restored' || reportedAs === outcome.event
  // Found as it was reported: its outcome dates from then, so its watch runs from its own block (else
  // every restart would watch it WATCH_DEPTH blocks more, and the cursor of a node run from cron with
  // `--until-idle` would never pass it).
  const at = same && block > request.blockNumber && outcome.event !== 'fulfilled' ? request.blockNumber : block
  w.settle.settle(request, outcome, at, { log: !same, count: reportedAs === undefined })
}

/** A confirmed Requested log: a new request, or one serve knows (rescanned after a reorg or a restart). */
function accept(w: Wiring, event: RequestedEvent): void {
  const request = toServedRequest(event, performance.now())
  if (!request) return
  const known = w.live.get(request.key)
  if (known) {
    // Re-included after a reorg, maybe in another block: the cursor must not pass its new block.
    known.blockNumber = request.blockNumber
    known.transactionHash = request.transactionHash
    return
  }
  if (w.settle.has(request.key)) return
  w.live.set(request.key, request)
  const restored = w.settle.reported(request.key)
  if (!restored) {
    w.options.summary.seen++
    w.options.metrics?.seen.inc()
    w.options.log({
      event: 'seen',
      requestId: String(request.id),
      message: `request ${request.id} seen in block ${request.blockNumber}`,
      blockNumber: String(request.blockNumber),
    })
  }
  w.decide.add({ request, ...(restored ? { reportedAs: 'restored' as const } : {}) })
}

/** Checks the due requests on chain and acts on each decision. */
async function decideDue(w: Wiring, head: Head): Promise<void> {
  const checked = await w.decide.readDue(Date.now())
  if (checked.length === 0) return
  const busy = new Set<string>()
  for (const key of [...w.infer.active(), ...w.fulfil.keys()]) {
    const request = w.live.get(key)
    if (request) busy.add(request.promptHash.toLowerCase())
  }
  for (const { pending, onChain } of checked) {
    if (w.decide.get(pending.request.key) !== pending) continue // moved meanwhile (a send ended, a reorg)
    const decision = decideRequest(pending, onChain, {
      chainNow: Number(head.timestamp),
      marginSeconds: w.options.marginSeconds,
      busy: (promptHash) => busy.has(promptHash.toLowerCase()),
    })
    await apply(w, pending, decision, head)
    if (decision.kind === 'serve') busy.add(pending.request.promptHash.toLowerCase())
  }
}

/** Acts on one decision. */
async function apply(w: Wiring, pending: Pending, decision: Decision, head: Head): Promise<void> {
  const { request, reportedAs } = pending
  if (decision.kind === 'later') {
    pending.retryAt = Date.now() + decision.retryMs
    return
  }
  w.decide.remove(request.key)
  if (decision.kind === 'serve') {
    if (pending.result) {
      w.fulfil.add({ request, ...pending.result, readyAt: Date.now(), solo: Boolean(pending.solo) })
      return
    }
    const job = { requestId: request.id, prompt: decision.prompt, promptHash: request.promptHash, recipient: request.recipient }
    w.infer.enqueue({ key: request.key, job })
    return
  }
  if (decision.kind === 'skip') {
    finish(w, request, { event: 'skipped', reason: decision.reason, message: decision.message }, head.number, reportedAs)
    return
  }
  if (decision.kind === 'fail') {
    finish(w, request, { event: 'failed', message: decision.message }, head.number, reportedAs)
    return
  }
  const who = await fulfillerOf(w, request)
  const id = String(request.id)
  // Ours, found here rather than by the send that made it (a send interrupted by an error or a stop,
  // an earlier run, or another folder's journal with the same key): reported like any other fulfilment.
  const outcome: Outcome = who.ours
    ? {
        event: 'fulfilled',
        message: `request ${id} fulfilled (tx ${who.tx}, found on chain)`,
        extra: { recipient: request.recipient, txHash: who.tx, blockNumber: String(who.block), status: 'existing' },
      }
    : {
        event: 'skipped',
        reason: 'fulfilled-elsewhere',
        message: `request ${id} was fulfilled by another signer${who.from ? ` (${who.from})` : ''}`,
        ...(who.from ? { extra: { by: who.from } } : {}),
      }
  finish(w, request, outcome, who.ours ? who.block : head.number, reportedAs)
}

/**
 * Whose fulfilment is on chain, and in which block: ours when this journal holds its receipt (no RPC),
 * else when the chain says its sender is serve's signer (the journal that made it may be another
 * folder's: `imo demo --keep` fulfils from its own).
 */
async function fulfillerOf(
  w: Wiring,
  request: ServedRequest,
): Promise<{ ours: true; tx: Hex; block: bigint } | { ours: false; from?: Address }> {
  const { findFulfilment } = await import('../requests/findFulfilment.js')
  const { toImoError } = await import('../chain/toImoError.js')
  const { signed, receipt } = w.options.journal.state(w.stepIdOf(request))
  if (signed && receipt?.status === 'success') return { ours: true, tx: signed.hash, block: BigInt(receipt.blockNumber) }
  const found = await findFulfilment(w.ctx, w.options.collection, request.id, {
    fromBlock: request.blockNumber,
    sender: true,
  }).catch((error: unknown) => {
    throw toImoError(error, { rpcUrl: w.ctx.rpcUrl, action: 'looking up a fulfilment' })
  })
  if (found?.from && found.from.toLowerCase() === w.ctx.account!.address.toLowerCase())
    return { ours: true, tx: found.txHash, block: found.blockNumber }
  return { ours: false, ...(found?.from ? { from: found.from } : {}) }
}

/** A result: checked against what serve knows, then ready to send (or checked on chain again first). */
function inferred(w: Wiring, key: string, outcome: InferenceOutcome): void {
  w.options.metrics?.inferenceSeconds.observe(outcome.inferenceMs / 1000)
  const request = w.live.get(key)
  if (!request) return
  const item = { ...outcome.item, request: { id: request.id, recipient: request.recipient, stepId: w.stepIdOf(request) } }
  const rejected = checkResult(item, {
    modelHash: w.options.deployment.modelHash as Hex,
    prompt: Buffer.from(request.prompt.slice(2), 'hex'),
    aigcDataMode: w.options.aigcDataMode,
  })
  if (rejected) {
    finish(
      w,
      request,
      { event: 'failed', message: `request ${request.id}: the result was rejected, nothing signed: ${rejected}` },
      w.follower.head.number,
    )
    return
  }
  const inferenceMs = Math.round(outcome.inferenceMs * 10) / 10
  if (w.recheckAfterInference.delete(key)) w.decide.add({ request, result: { item, inferenceMs } })
  else w.fulfil.add({ request, item, inferenceMs, readyAt: Date.now(), solo: false })
  if (!w.fulfil.sending) w.options.wake()
}

function inferenceFailed(w: Wiring, key: string, reason: string, parked: boolean): void {
  const request = w.live.get(key)
  if (!request) return
  const message = `request ${request.id}: inference failed: ${reason}`
  if (!parked) {
    finish(w, request, { event: 'failed', message }, w.follower.head.number)
    return
  }
  // Kept (the cursor stays at its block) until a retry of its job brings a result.
  w.options.summary.failed++
  w.options.metrics?.failed.inc()
  w.options.log({ event: 'failed', requestId: String(request.id), message, parked: true })
}

/** A fulfilment confirmed: watched (its block too), measured, logged once, counted once. */
function fulfilled(w: Wiring, ready: Ready, outcome: MintOutcome, receipt: ReceiptRecord | undefined): void {
  const { request } = ready
  const { metrics } = w.options
  const block = outcome.blockNumber ?? w.follower.head.number
  // Its block is watched like a scanned one: a reorg that removes the fulfilment is noticed even when
  // it happens before the next scan reaches that block.
  if (receipt) w.follower.watch(BigInt(receipt.blockNumber), receipt.blockHash)
  metrics?.endToEndSeconds.observe((performance.now() - request.seenAt) / 1000)
  if (outcome.outDir) w.options.retain?.(outcome.outDir)
  if (receipt && outcome.status !== 'existing') {
    metrics?.gasUsed.inc(Number(receipt.gasUsed))
    metrics?.gasSpentWei.inc(Number(BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice ?? '0')))
  }
  const extra = {
    tokenIdHex: outcome.tokenIdHex,
    recipient: request.recipient,
    tokenUri: outcome.tokenUri,
    ...(outcome.txHash ? { txHash: outcome.txHash } : {}),
    blockNumber: String(block),
    status: outcome.status,
    ...(ready.inferenceMs !== undefined ? { inferenceMs: ready.inferenceMs } : {}),
  }
  const message = `request ${request.id} fulfilled: token ${outcome.tokenIdHex} to ${request.recipient} (tx ${outcome.txHash ?? 'journalled'})`
  w.live.delete(request.key)
  w.settle.settle(request, { event: 'fulfilled', message, extra }, block)
}

/**
 * A reorg: every settled request of the watch window and every request of the rewound blocks goes back
 * to a check; the fulfilments it may have removed are broadcast again at once, in nonce order.
 */
async function reorganised(w: Wiring, reorg: NonNullable<FollowRound['reorg']>): Promise<void> {
  w.options.log({
    event: 'reorg',
    message: `chain reorganised below block ${reorg.top}: rescanning from block ${reorg.rescanFrom}, re-checking recent requests`,
    from: String(reorg.rescanFrom - 1n),
  })
  const watched = [...w.settle.values()]
  await w.fulfil.resendAfterReorg(reorg.ancestor)
  for (const entry of watched) {
    w.settle.take(entry.request.key)
    w.live.set(entry.request.key, entry.request)
    // A fulfilment in the rewound blocks that is found on chain again happened again (in another
    // block): logged, not counted. Anything else found as it was reported is settled quietly.
    const moved = entry.event === 'fulfilled' && entry.block > reorg.ancestor
    w.decide.add({ request: entry.request, reportedAs: moved ? 'moved' : entry.event })
  }
  for (const key of [...w.fulfil.keys()]) {
    const request = w.live.get(key)
    if (!request || request.blockNumber <= reorg.ancestor) continue
    const ready = w.fulfil.take(key) // not one being sent: its send ends with a re-check if it must
    if (ready) w.decide.add({ request, solo: ready.solo, result: resultOf(ready) })
  }
  for (const key of w.infer.active()) if ((w.live.get(key)?.blockNumber ?? -1n) > reorg.ancestor) w.recheckAfterInference.add(key)
  // A parked request of the rewound blocks may be gone: checked again (asked again, it parks again).
  for (const key of w.infer.parked()) {
    const request = w.live.get(key)
    if (!request || request.blockNumber <= reorg.ancestor) continue
    w.infer.cancel(key)
    w.decide.add({ request })
  }
  for (const pending of w.decide.values()) pending.retryAt = 0
}

/** The next block the cursor may name: no request before it is open or watched. */
function nextBlock(w: Wiring): bigint {
  let next = w.follower.processed + 1n
  for (const request of w.live.values()) if (request.blockNumber < next) next = request.blockNumber
  const watched = w.settle.lowestBlock()
  if (watched !== undefined && watched < next) next = watched
  return next < 0n ? 0n : next
}

/** serve's state for a scrape (memory only). */
function nodeState(w: Wiring): NodeState {
  const head = w.follower.head
  let oldestSeenAt: number | undefined
  let expiringSoon = 0
  for (const request of w.live.values()) {
    if (oldestSeenAt === undefined || request.seenAt < oldestSeenAt) oldestSeenAt = request.seenAt
    if (head.readAt > 0 && request.expiresAt - Number(head.timestamp) < EXPIRY_WARNING_SECONDS) expiringSoon++
  }
  const { decide, infer, fulfil } = w
  return {
    ...(head.readAt > 0 ? { head: { number: head.number, readAt: head.readAt } } : {}),
    processed: w.follower.processed,
    stages: {
      check: decide.size,
      infer: infer.queued + infer.running,
      parked: infer.parked().length,
      ready: fulfil.readyCount,
      sending: fulfil.sendingCount,
    },
    ...(oldestSeenAt !== undefined ? { oldestSeenAt } : {}),
    expiringSoon,
  }
}
