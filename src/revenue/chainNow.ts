/**
 * "Now" as the chain sees it: the later of the latest block's timestamp and this machine's clock.
 * The block time alone lags by up to a block interval on live chains and stands still on an idle
 * anvil; the clock alone ignores anvil's `evm_increaseTime`. The next block's timestamp is at least
 * this value on both.
 */
import type { ChainContext } from '../chain/connect.js'

/**
 * Reads the chain's current time in unix seconds.
 * @param ctx - chain context.
 * @param blockNumber - take this block instead of the latest.
 * @returns max(latest block timestamp, local clock), in seconds.
 * @throws RpcError (exit 6) when the node cannot be reached.
 * @example
 * import { chainNow } from './chainNow.js'
 * await chainNow(ctx) // 1717243380
 */
export async function chainNow(ctx: Pick<ChainContext, 'publicClient' | 'rpcUrl'>, blockNumber?: bigint): Promise<number> {
  const { toImoError } = await import('../chain/toImoError.js')
  const block = await ctx.publicClient
    .getBlock(blockNumber !== undefined ? { blockNumber } : { blockTag: 'latest' })
    .catch((error: unknown) => {
      throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: 'reading the latest block' })
    })
  return Math.max(Number(block.timestamp), Math.floor(Date.now() / 1000))
}

/**
 * The pending block's timestamp: the earliest time a transaction sent now can carry (on a devnet
 * without new blocks, the latest block's second until its clock moves on). A node that serves no
 * pending block gives this machine's clock.
 * @example
 * import { pendingTimestamp } from './chainNow.js'
 * await pendingTimestamp(ctx) // 1717243381
 */
export async function pendingTimestamp(ctx: Pick<ChainContext, 'publicClient'>): Promise<number> {
  const clock = Math.floor(Date.now() / 1000)
  try {
    const block = await ctx.publicClient.getBlock({ blockTag: 'pending' })
    return block?.timestamp !== undefined ? Number(block.timestamp) : clock
  } catch {
    return clock // a node without a pending block (or a failing one: the reads that follow say so)
  }
}
