/**
 * Which chain serve's state belongs to. A chain id does not say it: a local chain re-created with the
 * same id and the same deployment addresses (`imo demo --keep` again, a restarted devnet) is another
 * chain, and a cursor or journal steps from the old one must not be resumed on it. The hash of the
 * block that holds the collection's deployment does say it (the genesis block's when the deployment
 * records no block): a reorg deep enough to change it would have removed the deployment itself.
 */
import type { Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import type { Deployment } from '../deployment/deploymentFile.js'

export interface ChainKey {
  /** The collection's deployment block (0: the deployment records none, the genesis block stands in). */
  block: bigint
  hash: Hex
  /** The first 16 hex digits of the hash, for step ids. */
  short: string
}

/**
 * Reads the hash of the collection's deployment block.
 * @throws RpcError (exit 6) when the node cannot be read; UsageError (exit 2) when it has no such block.
 * @example
 * const chain = await readChainKey(ctx, deployment) // { block: 12n, hash: '0x…', short: 'a1b2c3d4e5f60718' }
 */
export async function readChainKey(
  ctx: Pick<ChainContext, 'publicClient' | 'rpcUrl'>,
  deployment: Deployment,
): Promise<ChainKey> {
  const { toImoError } = await import('../chain/toImoError.js')
  const { UsageError } = await import('../errors.js')
  const block = BigInt(deployment.aigcCollection.blockNumber ?? '0')
  const read = await ctx.publicClient.getBlock({ blockNumber: block }).catch((error: unknown) => {
    if ((error as { name?: string })?.name === 'BlockNotFoundError') return undefined
    throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: `reading block ${block}, where the collection was deployed` })
  })
  if (!read?.hash)
    throw new UsageError(
      `the node has no block ${block}, where the deployment file says the collection ${deployment.aigcCollection.address} was deployed: the deployment is not on this chain`,
      { hint: 'check --rpc-url, or deploy again on this chain (imo deploy)' },
    )
  return { block, hash: read.hash, short: read.hash.slice(2, 18) }
}
