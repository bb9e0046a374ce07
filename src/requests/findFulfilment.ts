/**
 * Who fulfilled a request, from the chain alone: its `Fulfilled` log (the newest, from the request's
 * block on) and that transaction's sender. `imo serve` tells its own fulfilments from others' by the
 * sender, not by its journal, which may be another folder's (`imo demo --keep` fulfils with the same key
 * from its own journal); `imo request --wait` reports the transaction.
 */
import type { Address, Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'

export interface FoundFulfilment {
  txHash: Hex
  blockNumber: bigint
  /** The transaction's sender (read only when asked). */
  from?: Address
}

/**
 * Finds request `requestId`'s `Fulfilled` log.
 * @param ctx - a read-only chain context.
 * @param collection - the AigcCollection.
 * @param requestId - the request.
 * @param options - fromBlock: the request's block (default 0); sender: also read the transaction's sender.
 * @returns the fulfilment, or undefined when no log was found.
 * @throws what the RPC throws (the caller converts it).
 * @example
 * import { findFulfilment } from './requests/findFulfilment.js'
 * (await findFulfilment(ctx, collection, 7n, { fromBlock: 120n, sender: true }))?.from // '0xf39F…'
 */
export async function findFulfilment(
  ctx: Pick<ChainContext, 'publicClient'>,
  collection: Address,
  requestId: bigint,
  options: { fromBlock?: bigint; sender?: boolean } = {},
): Promise<FoundFulfilment | undefined> {
  const { aigcCollectionAbi } = await import('../../contracts-abi/index.js')
  const logs = await ctx.publicClient.getContractEvents({
    address: collection,
    abi: aigcCollectionAbi,
    eventName: 'Fulfilled',
    args: { requestId },
    fromBlock: options.fromBlock ?? 0n,
  })
  const log = logs[logs.length - 1]
  if (!log?.transactionHash || log.blockNumber === null) return undefined
  const found: FoundFulfilment = { txHash: log.transactionHash, blockNumber: log.blockNumber }
  if (options.sender) found.from = (await ctx.publicClient.getTransaction({ hash: log.transactionHash })).from
  return found
}
