/**
 * What only the network knows about the node, read in the background every few seconds (never while a
 * scrape or a health probe waits): the signer's balance and the gas price (is the signer funded for one
 * more fulfilment?), the collection's open escrow, and the inference source's health (Redis reachable,
 * jobs by state, workers connected). Each value keeps when it was read; a failed read keeps the last
 * value (its age grows) and counts as an RPC error.
 */
import type { Address } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import type { InferenceSource } from './inferenceSource.js'

/** A value with when it was read (performance.now()). */
export interface Fact<T> {
  value: T
  at: number
}

export interface NodeFacts {
  balanceWei?: Fact<bigint>
  gasPriceWei?: Fact<bigint>
  openEscrowWei?: Fact<bigint>
  /** The source's own report (a queue: Redis, jobs, workers). */
  queue?: {
    reachable: boolean
    /** When it last answered (performance.now()). */
    okAt?: number
    jobs?: Record<string, number>
    workers?: number
    errors: number
  }
}

/** How often the facts are read. */
export const FACTS_INTERVAL_MS = 5000
/** A read that takes longer is abandoned (the next one tries again). */
const READ_TIMEOUT_MS = 10_000

/**
 * Starts reading the facts now and every FACTS_INTERVAL_MS until stop().
 * @param ctx - the chain context (reads only).
 * @param options - the signer, the collection, the source, where the facts go, and a hook for failed reads.
 * @returns stop().
 * @example
 * const stop = watchNodeFacts(ctx, { signer, collection, source, facts: metrics.facts, onRpcError: () => metrics.rpcErrors.inc() })
 */
export function watchNodeFacts(
  ctx: Pick<ChainContext, 'publicClient' | 'rpcUrl'>,
  options: {
    signer: Address
    collection: Address
    /** None with --no-follow (the paid API alone runs its own inference). */
    source: InferenceSource | undefined
    facts: NodeFacts
    onRpcError(): void
    intervalMs?: number
  },
): () => void {
  const { facts } = options
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  const timed = <T>(promise: Promise<T>): Promise<T> =>
    Promise.race([
      promise,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), READ_TIMEOUT_MS).unref()),
    ])
  const chainFact = async <T>(read: () => Promise<T>, store: (fact: Fact<T>) => void) => {
    try {
      store({ value: await timed(read()), at: performance.now() })
    } catch {
      if (!stopped) options.onRpcError()
    }
  }
  const readAll = async () => {
    const { readRequestTerms } = await import('../requests/readRequest.js')
    await Promise.all([
      chainFact(
        () => ctx.publicClient.getBalance({ address: options.signer }),
        (fact) => {
          facts.balanceWei = fact
        },
      ),
      chainFact(
        () => ctx.publicClient.getGasPrice(),
        (fact) => {
          facts.gasPriceWei = fact
        },
      ),
      chainFact(
        async () => (await readRequestTerms(ctx, options.collection)).openEscrowWei,
        (fact) => {
          facts.openEscrowWei = fact
        },
      ),
      (async () => {
        const health = options.source?.health
        if (!health) return
        const report = await timed(health.call(options.source)).catch(() => undefined)
        const last = facts.queue
        if (report?.reachable) facts.queue = { ...report, okAt: performance.now() }
        else facts.queue = { ...last, reachable: false, errors: report?.errors ?? (last?.errors ?? 0) + 1 }
      })(),
    ])
  }
  const loop = async () => {
    await readAll().catch(() => {})
    if (!stopped) timer = setTimeout(loop, options.intervalMs ?? FACTS_INTERVAL_MS).unref()
  }
  void loop()
  return () => {
    stopped = true
    if (timer) clearTimeout(timer)
  }
}
