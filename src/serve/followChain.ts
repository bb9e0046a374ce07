/**
 * serve's chain follower (the "follow" stage): head tracking, reorg detection and the backfill of the
 * collection's `Requested` logs up to the confirmed head, as Chainlink's node and Ponder's indexer
 * keep theirs. Each round reads the head block once and takes the hashes and the time it needs from
 * it; the stages downstream never read the head themselves.
 *
 * Reorgs: the newest block the follower knows (the last scanned one, or a watched block holding one of
 * serve's fulfilments, which may be newer) is checked each round. On a change the scan rewinds to the
 * last known block whose hash still matches (never below the deployment) and the round reports the
 * reorg, so the stages re-check what it may have touched.
 *
 * A head behind a known block whose blocks agree with what the follower knows is a lagging node (a
 * load-balanced RPC whose backends lag one another), not a reorg: the round scans nothing and says so.
 * Only when the head stays behind for STALE_HEAD_MS is the chain taken to be shorter (anvil's
 * evm_revert to an older state looks like this until the next block).
 */
import type { Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import type { RequestedEvent } from '../requests/readRequest.js'

/** Blocks a settled request stays watched for reorgs (and the cursor lags behind it). */
export const WATCH_DEPTH = 12n

/** How long the head may stay behind a known block before the chain is taken to be shorter. */
export const STALE_HEAD_MS = 5000

/** The head block as read at the start of a round. */
export interface Head {
  number: bigint
  hash: Hex
  parentHash: Hex
  timestamp: bigint
  /** performance.now() of the read. */
  readAt: number
}

export interface FollowRound {
  head: Head
  /** The blocks above `ancestor` changed since the last round (`top`: the newest known block then). */
  reorg?: { ancestor: bigint; top: bigint; rescanFrom: bigint }
  /** Requested logs newly confirmed, in chain order. */
  events: RequestedEvent[]
  /** The node's head is behind a block serve knows, with no sign of a reorg: nothing was scanned. */
  lagging?: boolean
}

export interface ChainFollower {
  /** Reads the head, checks for a reorg, scans the new confirmed blocks. */
  poll(): Promise<FollowRound>
  /** Watches a block holding one of serve's fulfilments, so a reorg that removes it is noticed. */
  watch(block: bigint, hash: Hex): void
  /** The last block scanned. */
  readonly processed: bigint
  /** The head of the last round (number 0 before the first). */
  readonly head: Head
  /** Whether the scan has reached the confirmed head. */
  caughtUp(): boolean
}

export interface FollowOptions {
  collection: Hex
  /** The first block to scan. */
  fromBlock: bigint
  /** Blocks a Requested event must be deep (1 = included). */
  confirmations: number
  /** The collection's deployment block: a rewind never goes below it. */
  floor: bigint
}

/**
 * Creates the follower of a collection's requests.
 * @example
 * import { createChainFollower } from './serve/followChain.js'
 * const follower = createChainFollower(ctx, { collection, fromBlock: 12n, confirmations: 1, floor: 12n })
 * const round = await follower.poll() // { head, events: [...], reorg?: { ancestor, top, rescanFrom } }
 */
export function createChainFollower(ctx: Pick<ChainContext, 'publicClient' | 'rpcUrl'>, options: FollowOptions): ChainFollower {
  const client = ctx.publicClient
  const rpc = async (action: string, error: unknown): Promise<never> => {
    const { toImoError } = await import('../chain/toImoError.js')
    throw toImoError(error, { rpcUrl: ctx.rpcUrl, action })
  }
  let scannedTo = options.fromBlock - 1n < -1n ? -1n : options.fromBlock - 1n
  const known = new Map<bigint, Hex>() // scanned or watched block -> hash, the newest 256
  let head: Head = { number: 0n, hash: '0x', parentHash: '0x', timestamp: 0n, readAt: 0 }
  let behindSince: number | undefined

  const remember = (number: bigint, hash: Hex) => {
    known.set(number, hash)
    if (known.size <= 256) return
    const oldest = [...known.keys()].sort((a, b) => (a < b ? -1 : 1))
    for (const number of oldest.slice(0, known.size - 256)) known.delete(number)
  }
  /** A block's hash: from the round's head block when it is the head or its parent, else read. */
  const hashOf = async (number: bigint): Promise<Hex | null> => {
    if (number === head.number) return head.hash
    if (number === head.number - 1n) return head.parentHash
    const block = await client.getBlock({ blockNumber: number }).catch(async (error: unknown) => {
      if ((error as { name?: string })?.name === 'BlockNotFoundError') return undefined
      return rpc('reading a block', error)
    })
    return block?.hash ?? null
  }

  /** The reorg of this round, if any; `lagging` when the head is merely behind. */
  const checkReorg = async (): Promise<{ reorg?: FollowRound['reorg']; lagging?: boolean }> => {
    const numbers = [...known.keys()].sort((a, b) => (a < b ? 1 : -1))
    const top = numbers[0]
    if (top === undefined) return {}
    if (top <= head.number && (await hashOf(top)) === known.get(top)) {
      behindSince = undefined
      return {}
    }
    let ancestor: bigint | undefined
    for (const number of numbers) {
      if (number > head.number) continue
      if ((await hashOf(number)) === known.get(number)) {
        ancestor = number
        break
      }
    }
    // Behind, and what the node has agrees: a lagging node, unless it stays behind.
    const agrees = ancestor !== undefined && ancestor === numbers.find((n) => n <= head.number)
    if (top > head.number && (agrees || numbers.every((n) => n > head.number))) {
      behindSince ??= performance.now()
      if (performance.now() - behindSince < STALE_HEAD_MS) return { lagging: true }
    }
    behindSince = undefined
    // Deeper than what the follower remembers: rewind the watch depth below it, never before the deployment.
    if (ancestor === undefined) ancestor = numbers[numbers.length - 1]! - WATCH_DEPTH - 1n
    if (ancestor < options.floor - 1n) ancestor = options.floor - 1n
    if (ancestor < -1n) ancestor = -1n
    for (const number of numbers) if (number > ancestor) known.delete(number)
    if (ancestor < scannedTo) scannedTo = ancestor
    return { reorg: { ancestor, top, rescanFrom: scannedTo + 1n } }
  }

  /** New Requested logs up to the confirmed head. */
  const scan = async (): Promise<RequestedEvent[]> => {
    const { decodeRequestedLogs } = await import('../requests/readRequest.js')
    const target = head.number - BigInt(options.confirmations) + 1n
    const found: RequestedEvent[] = []
    while (scannedTo < target) {
      const from = scannedTo + 1n
      const to = target - from > 4999n ? from + 4999n : target
      const hash = await hashOf(to)
      let logs: unknown
      try {
        logs = await client.getLogs({ address: options.collection, event: requestedEvent, fromBlock: from, toBlock: to } as never)
      } catch (error) {
        // A node refuses a range past its head: the head read at the start of the round is gone (a
        // reorg to a shorter chain) or this node lags the one that answered (a load-balanced RPC). The
        // round ends here; the next one reads the head again and its reorg check rewinds.
        const now = await client.getBlockNumber({ cacheTime: 0 }).catch(() => undefined)
        if (now !== undefined && now < to) return found
        return rpc('reading Requested logs', error)
      }
      found.push(...(await decodeRequestedLogs(logs as never)))
      if (hash) remember(to, hash)
      scannedTo = to
    }
    return found
  }

  return {
    async poll() {
      const block = await client
        .getBlock({ blockTag: 'latest' })
        .catch((error: unknown) => rpc('reading the latest block', error))
      head = {
        number: block.number,
        hash: block.hash,
        parentHash: block.parentHash,
        timestamp: block.timestamp,
        readAt: performance.now(),
      }
      const { reorg, lagging } = await checkReorg()
      if (lagging) return { head, events: [], lagging: true }
      const events = await scan()
      return { head, events, ...(reorg ? { reorg } : {}) }
    },
    watch(block, hash) {
      if (!known.has(block)) remember(block, hash)
    },
    get processed() {
      return scannedTo
    },
    get head() {
      return head
    },
    caughtUp: () => scannedTo >= head.number - BigInt(options.confirmations) + 1n,
  }
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
