/**
 * `imo requests`: the collection's paid requests, newest first, read in batches of `getRequest` +
 * `requestPrompt` calls (one eth_call per batch), with each open one's refundability at the chain's now.
 */
import type { Address } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import type { PaidRequest, RequestTerms } from './readRequest.js'

export interface ListedRequest extends Omit<PaidRequest, 'prompt'> {
  /** The prompt as text (UTF-8, replacement characters for invalid bytes). */
  prompt: string
  /** Open and past its expiry: `imo refund` pays it back (a minted prompt makes it refundable too). */
  expired: boolean
}

export interface ListRequestsOptions {
  /** Only open requests. */
  open?: boolean
  /** Only requests made by this address. */
  requester?: Address
  /** At most this many (newest first; default 1,000). */
  limit?: number
}

export interface RequestList {
  collection: Address
  terms: RequestTerms
  /** The chain's now (unix seconds) that `expired` was judged at. */
  now: number
  requests: ListedRequest[]
}

/**
 * Lists requests, newest first.
 * @example
 * import { listRequests } from './requests/listRequests.js'
 * const { requests } = await listRequests(ctx, collection, { open: true })
 * requests[0].status // 'open'
 */
export async function listRequests(
  ctx: Pick<ChainContext, 'publicClient' | 'rpcUrl'>,
  collection: Address,
  options: ListRequestsOptions = {},
): Promise<RequestList> {
  const { hexToBytes } = await import('viem')
  const { readRequest, readRequestTerms } = await import('./readRequest.js')
  const { chainNow } = await import('../revenue/chainNow.js')
  const { mapConcurrent } = await import('../util/mapConcurrent.js')
  const blockNumber = await ctx.publicClient.getBlockNumber({ cacheTime: 0 })
  const [terms, now] = await Promise.all([readRequestTerms(ctx, collection, { blockNumber }), chainNow(ctx, blockNumber)])
  const limit = options.limit ?? 1000
  const ids: bigint[] = []
  for (let id = terms.requestCount; id >= 1n && ids.length < limit; id--) ids.push(id)
  const read = await mapConcurrent(ids, 8, (id) => readRequest(ctx, collection, id, { blockNumber }))
  const decoder = new TextDecoder()
  const requests = read
    .filter(
      (r) =>
        (!options.open || r.status === 'open') &&
        (!options.requester || r.requester.toLowerCase() === options.requester.toLowerCase()),
    )
    .map((r) => ({ ...r, prompt: decoder.decode(hexToBytes(r.prompt)), expired: r.status === 'open' && now >= r.expiresAt }))
  return { collection, terms, now, requests }
}
