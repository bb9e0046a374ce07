/**
 * One round of waiting: broadcast | included -> included | confirmed | reverted | replaced.
 *
 * Receipts of a pipelined batch are fetched side by side, and each block once per round. A receipt
 * read in an earlier round may have been reorganised away since: its block is re-read before it counts
 * (one read this round came from the node's canonical chain just now). With one confirmation a receipt
 * is enough (its block is the head or below it): the head is read only when more are asked for.
 *
 * A transaction not mined is replaced when its nonce is used and the node says for certain, twice a
 * round apart (ABSENT_CONFIRM_MS), that it has neither it nor its receipt: a node can count a mined
 * nonce before it serves the receipt. Otherwise it is broadcast again now and then (the identical
 * signed transaction). When the chain's nonce is below the lowest one awaited, the journal's
 * transactions for the nonces in between are broadcast again first (refillNonceGap: after a reorg
 * that removed steps settled earlier, nothing else would fill the gap).
 */
import type { Hex, TransactionReceipt } from 'viem'
import { mapConcurrent } from '../util/mapConcurrent.js'
import { broadcastStep } from './broadcastStep.js'
import { confirmStep } from './confirmStep.js'
import { isTransactionAbsent } from './isTransactionAbsent.js'
import { refillNonceGap } from './refillNonceGap.js'
import type { EngineRun, StepRun } from './stepRun.js'
import { toImoError } from './toImoError.js'

/** How long a transaction must stay absent, with its nonce used, before it counts as replaced. */
const ABSENT_CONFIRM_MS = 1000
/** Re-broadcast a transaction the node has not acknowledged after this long (ms)... */
const REBROADCAST_UNKNOWN_MS = 3000
/** ...and one it acknowledged after this long. */
const REBROADCAST_KNOWN_MS = 30_000
/** A transaction that was never acknowledged is checked for replacement after this long. */
const CHECK_UNKNOWN_MS = 5000

/**
 * @param engine - the run (send client, journal, tx settings).
 * @param waiting - the runs still awaited (signed, broadcast or included).
 * @param onSettled - called as each run settles (confirmed, reverted or replaced).
 * @returns the runs still awaited after this round.
 * @example
 * let waiting = runs.filter(awaiting)
 * while (waiting.length > 0) waiting = await pollReceipts(engine, waiting, report)
 */
export async function pollReceipts(engine: EngineRun, waiting: StepRun[], onSettled: () => void): Promise<StepRun[]> {
  const { ctx, client } = engine
  const confirmations = BigInt(ctx.tx.confirmations)
  let head: bigint | undefined
  if (confirmations > 1n)
    try {
      head = await client.getBlockNumber({ cacheTime: 0 })
    } catch (error) {
      engine.lastRpcError = toImoError(error, { rpcUrl: ctx.rpcUrl })
    }
  const deepEnough = (receipt: TransactionReceipt) =>
    confirmations <= 1n || (head !== undefined && head - receipt.blockNumber + 1n >= confirmations)
  // The signer's mined nonce, read at most once per round however many steps are still waiting.
  let nonceThisRound: Promise<number | undefined> | undefined
  const latestNonce = () => (nonceThisRound ??= engine.latestNonce().catch(() => undefined))
  const earlier = new Set(waiting.filter((run) => run.receipt))
  const receipts = await mapConcurrent(waiting, 8, async (run) => {
    if (run.receipt) return run.receipt
    try {
      return (await client.getTransactionReceipt({ hash: run.signed!.hash })) ?? undefined
    } catch (error) {
      const name = (error as { name?: string })?.name
      if (name !== 'TransactionReceiptNotFoundError') engine.lastRpcError = toImoError(error, { rpcUrl: ctx.rpcUrl })
      return undefined
    }
  })
  const blocks = new Map<bigint, Promise<{ hash: Hex | null } | undefined>>()
  const blockAt = (number: bigint) => {
    if (!blocks.has(number))
      blocks.set(
        number,
        client.getBlock({ blockNumber: number }).catch(() => undefined),
      )
    return blocks.get(number)!
  }
  const still: StepRun[] = []
  for (const [index, run] of waiting.entries()) {
    const receipt = receipts[index]
    if (receipt && deepEnough(receipt)) {
      const block = earlier.has(run) ? await blockAt(receipt.blockNumber) : undefined
      if (block && block.hash !== receipt.blockHash) {
        // Reorganised away: awaited again, and broadcast again at once (the reorg may have dropped it).
        run.receipt = undefined
        run.phase = 'broadcast'
        run.lastBroadcast = 0
        still.push(run)
        continue
      }
      confirmStep(engine, run, receipt)
      onSettled()
      continue
    }
    if (receipt) {
      run.receipt = receipt
      run.phase = 'included'
    } else if (await checkUnmined(engine, run, latestNonce)) {
      onSettled()
      continue
    }
    still.push(run)
  }
  await fillGapBelow(engine, still, latestNonce)
  return still
}

/** The runs still unmined wait behind a gap in the signer's nonces: the journal fills it (refillNonceGap). */
async function fillGapBelow(engine: EngineRun, still: StepRun[], latestNonce: () => Promise<number | undefined>): Promise<void> {
  const unmined = still.filter((run) => !run.receipt)
  // Only once one has waited a while (a nonce read per round is not spent on what is about to be mined).
  if (!unmined.some((run) => Date.now() - run.lastBroadcast > REBROADCAST_UNKNOWN_MS)) return
  if (Date.now() - (engine.lastRefill ?? 0) < REBROADCAST_UNKNOWN_MS) return
  const mined = await latestNonce()
  if (mined === undefined) return
  engine.lastRefill = Date.now()
  const lowest = Math.min(...unmined.map((run) => run.signed!.nonce))
  await refillNonceGap(engine, lowest, mined, new Set(unmined.map((run) => run.signed!.hash)))
}

/**
 * A run without a receipt: replaced (true), or broadcast again when it is due.
 */
async function checkUnmined(engine: EngineRun, run: StepRun, latestNonce: () => Promise<number | undefined>): Promise<boolean> {
  const signed = run.signed!
  const known = run.phase === 'broadcast'
  if (known || Date.now() - run.lastBroadcast > CHECK_UNKNOWN_MS) {
    const nonceNow = await latestNonce()
    if (nonceNow !== undefined && nonceNow > signed.nonce && (await isTransactionAbsent(engine.client, signed.hash))) {
      // Replaced, if the node still says so a round later: the nonce read came after this round's
      // receipt read, and a node can count a mined nonce before it serves the receipt (a fulfilment
      // misread as replaced was sent again and then found the request fulfilled).
      if (run.absentSince !== undefined && Date.now() - run.absentSince >= ABSENT_CONFIRM_MS) {
        run.phase = 'replaced'
        return true
      }
      run.absentSince ??= Date.now()
    } else run.absentSince = undefined
  }
  if (Date.now() - run.lastBroadcast > (known ? REBROADCAST_KNOWN_MS : REBROADCAST_UNKNOWN_MS)) await broadcastStep(engine, run)
  return false
}
