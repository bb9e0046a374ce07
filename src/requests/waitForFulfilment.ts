/**
 * `imo request --wait`: polls a request until it is fulfilled (or refunded), or the time is up.
 */
import type { Address, Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import { NotConfirmedError } from '../errors.js'

export interface Fulfilment {
  status: 'fulfilled' | 'refunded'
  requestId: bigint
  tokenId: bigint
  tokenIdHex: Hex
  /** The token's URI (the artifact's metadata), when fulfilled. */
  tokenUri?: string
  /** The fulfilling transaction, when its `Fulfilled` log was found. */
  txHash?: Hex
  blockNumber?: bigint
}

/**
 * Waits for request `requestId` to leave the Open state.
 * @param ctx - a read-only chain context.
 * @param collection - the AigcCollection.
 * @param requestId - the request.
 * @param options - timeoutMs; fromBlock (the request's block) to find the `Fulfilled` log from; poll interval.
 * @returns the fulfilment (or refund).
 * @throws NotConfirmedError (exit 5) when still open at the deadline, naming the id for `imo refund`.
 * @example
 * import { waitForFulfilment } from './requests/waitForFulfilment.js'
 * (await waitForFulfilment(ctx, collection, 1n, { timeoutMs: 120_000 })).tokenUri // 'ipfs://…'
 */
export async function waitForFulfilment(
  ctx: Pick<ChainContext, 'publicClient' | 'rpcUrl'>,
  collection: Address,
  requestId: bigint,
  options: { timeoutMs: number; fromBlock?: bigint; pollMs?: number; expiresAt?: number },
): Promise<Fulfilment> {
  const { toHex } = await import('viem')
  const { aigcCollectionAbi } = await import('../../contracts-abi/index.js')
  const { readRequest } = await import('./readRequest.js')
  const { findFulfilment } = await import('./findFulfilment.js')
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    const request = await readRequest(ctx, collection, requestId).catch(() => undefined)
    if (request && (request.status === 'fulfilled' || request.status === 'refunded')) {
      const base = { requestId, tokenId: request.tokenId, tokenIdHex: toHex(request.tokenId, { size: 32 }) }
      if (request.status === 'refunded') return { ...base, status: 'refunded' }
      const tokenUri = (await ctx.publicClient
        .readContract({ address: collection, abi: aigcCollectionAbi, functionName: 'tokenURI', args: [request.tokenId] })
        .catch(() => undefined)) as string | undefined
      const found = await findFulfilment(ctx, collection, requestId, {
        ...(options.fromBlock !== undefined ? { fromBlock: options.fromBlock } : {}),
      }).catch(() => undefined)
      return {
        ...base,
        status: 'fulfilled',
        ...(tokenUri !== undefined ? { tokenUri } : {}),
        ...(found ? { txHash: found.txHash, blockNumber: found.blockNumber } : {}),
      }
    }
    if (Date.now() >= deadline) {
      const expires = options.expiresAt ? ` (refundable from ${new Date(options.expiresAt * 1000).toISOString()})` : ''
      throw new NotConfirmedError(
        `request ${requestId} was not fulfilled within ${Math.round(options.timeoutMs / 1000)} s${expires}; its fee stays escrowed`,
        {
          hint: `wait longer with \`imo request … --wait --timeout SECONDS\` (re-running it reuses request ${requestId}), or after it expires: imo refund ${requestId}`,
        },
      )
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000))
  }
}
