/**
 * The paid-request part of `imo status`: the collection's request fee and timeout, and its open
 * requests (how many, the escrow they hold, the oldest one's expiry), read at one block. The terms and
 * the escrow are one eth_call; the open count comes from `getRequest` over every id, a few hundred ids
 * per eth_call (the contract keeps no open counter), skipped above `maxScan` requests.
 */
import type { Abi, Address } from 'viem'
import type { ChainContext } from '../chain/connect.js'

/** Request ids read per eth_call when counting the open ones. */
const SCAN_CHUNK = 500n

export interface RequestsStatus {
  feeWei: bigint
  timeoutSeconds: number
  /** Requests made so far (ids 1..total). */
  total: bigint
  /** Sum of the open requests' fees (the collection's `openEscrow`, its balance). */
  openEscrowWei: bigint
  /** Open requests; null when not counted (see `note`). */
  open: number | null
  /** Open requests past their expiry: refundable by their requesters. */
  expired: number | null
  /** The open request with the lowest id (the oldest), or null when none is open or not counted. */
  oldestOpen: { id: bigint; expiresAt: number } | null
  /** Why `open` is null. */
  note?: string
}

export interface ReadRequestsStatusOptions {
  /** Read at this block (default: latest). */
  blockNumber?: bigint
  /** The chain's now (unix seconds) that `expired` is judged at. */
  now: number
  /** Count open requests only when there are at most this many requests (default 20,000). */
  maxScan?: bigint
}

/**
 * Reads the request terms and the open requests.
 * @param ctx - chain context (read-only is enough).
 * @param collection - the AigcCollection.
 * @param options - the block and the chain's now; the scan limit.
 * @returns fee, timeout, total, open count, escrow, the oldest open request's expiry.
 * @throws RpcError (exit 6) when the node cannot be reached.
 * @example
 * import { readRequestsStatus } from './requests/readRequestsStatus.js'
 * const r = await readRequestsStatus(ctx, collection, { blockNumber, now })
 * r.open // 2
 * r.oldestOpen // { id: 3n, expiresAt: 1767225600 }
 */
export async function readRequestsStatus(
  ctx: Pick<ChainContext, 'publicClient' | 'rpcUrl'>,
  collection: Address,
  options: ReadRequestsStatusOptions,
): Promise<RequestsStatus> {
  const { aigcCollectionAbi } = await import('../../contracts-abi/index.js')
  const { callsTo, readMany } = await import('../revenue/readMany.js')
  const { readRequestTerms, REQUEST_STATUSES } = await import('./readRequest.js')
  const at = options.blockNumber !== undefined ? { blockNumber: options.blockNumber } : {}
  const terms = await readRequestTerms(ctx, collection, at)
  const base = {
    feeWei: terms.feeWei,
    timeoutSeconds: terms.timeoutSeconds,
    total: terms.requestCount,
    openEscrowWei: terms.openEscrowWei,
  }
  const maxScan = options.maxScan ?? 20_000n
  if (terms.requestCount > maxScan)
    return {
      ...base,
      open: null,
      expired: null,
      oldestOpen: null,
      note: `not counted: ${terms.requestCount} requests (more than ${maxScan}); imo requests --open lists them`,
    }
  const read = callsTo(collection, aigcCollectionAbi as Abi)
  let open = 0
  let expired = 0
  let oldestOpen: RequestsStatus['oldestOpen'] = null
  for (let first = 1n; first <= terms.requestCount; first += SCAN_CHUNK) {
    const last = first + SCAN_CHUNK - 1n < terms.requestCount ? first + SCAN_CHUNK - 1n : terms.requestCount
    const ids: bigint[] = []
    for (let id = first; id <= last; id++) ids.push(id)
    const requests = (await readMany(
      ctx,
      ids.map((id) => read('getRequest', [id])),
      at,
    )) as Array<{ status: number; expiresAt: number | bigint }>
    for (const [index, request] of requests.entries()) {
      if (REQUEST_STATUSES[request.status] !== 'open') continue
      open++
      const expiresAt = Number(request.expiresAt)
      if (options.now >= expiresAt) expired++
      oldestOpen ??= { id: ids[index]!, expiresAt }
    }
  }
  return { ...base, open, expired, oldestOpen }
}
