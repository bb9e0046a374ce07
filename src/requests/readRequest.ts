/**
 * Typed readers for the collection's paid requests (contracts/AigcCollection.sol, docs/formats.md
 * "Paid requests"): one request with its prompt, the current terms, and the `Requested` /
 * `Fulfilled` / `Refunded` logs decoded into plain objects. Reads go through readMany (one eth_call).
 */
import type { Abi, Address, Hex, Log } from 'viem'
import type { ChainContext } from '../chain/connect.js'

/** The collection's RequestStatus enum, by its uint8 value. */
export const REQUEST_STATUSES = ['none', 'open', 'fulfilled', 'refunded'] as const
export type RequestStatus = (typeof REQUEST_STATUSES)[number]

/** A paid request as `getRequest` + `requestPrompt` return it. */
export interface PaidRequest {
  id: bigint
  requester: Address
  recipient: Address
  /** Escrowed fee, wei. */
  feeWei: bigint
  /** Unix seconds: fulfillable before, refundable from then on. */
  expiresAt: number
  callbackGasLimit: number
  status: RequestStatus
  promptHash: Hex
  /** The prompt bytes (0x when the id is unknown). */
  prompt: Hex
  /** The token the request mints: uint256(promptHash). */
  tokenId: bigint
  /** `isRefundable(id)` at the same block; read only when asked (`refundable: true`). */
  refundable?: boolean
}

/** The collection's current request terms. */
export interface RequestTerms {
  feeWei: bigint
  timeoutSeconds: number
  /** Number of requests so far; ids run 1..requestCount. */
  requestCount: bigint
  /** Sum of the Open requests' fees (the collection's balance). */
  openEscrowWei: bigint
}

/** A `Requested` log, decoded. */
export interface RequestedEvent {
  requestId: bigint
  requester: Address
  recipient: Address
  promptHash: Hex
  prompt: Hex
  fee: bigint
  expiresAt: number
  blockNumber: bigint | null
  transactionHash: Hex | null
  logIndex: number | null
  /** True when the node reports the log as removed by a reorg. */
  removed: boolean
}

type RawRequest = {
  requester: Address
  expiresAt: number | bigint
  callbackGasLimit: number | bigint
  status: number
  recipient: Address
  fee: bigint
  promptHash: Hex
}

/**
 * Reads request `id` and its prompt (and, when asked, whether it is refundable) in one eth_call.
 * @param ctx - a chain context (read-only is enough).
 * @param collection - the AigcCollection.
 * @param id - the request id.
 * @param options - blockNumber: read at this block; refundable: also read `isRefundable(id)` (serve
 *   asks it of every request it checks: one eth_call instead of two).
 * @returns the request; `status: 'none'` when no request has this id.
 * @example
 * import { readRequest } from './requests/readRequest.js'
 * const r = await readRequest(ctx, collection, 1n)
 * r.status // 'open'
 */
export async function readRequest(
  ctx: Pick<ChainContext, 'publicClient' | 'rpcUrl'>,
  collection: Address,
  id: bigint,
  options: { blockNumber?: bigint; refundable?: boolean } = {},
): Promise<PaidRequest> {
  const { aigcCollectionAbi } = await import('../../contracts-abi/index.js')
  const { callsTo, readMany } = await import('../revenue/readMany.js')
  const read = callsTo(collection, aigcCollectionAbi as Abi)
  const calls = [read('getRequest', [id]), read('requestPrompt', [id])]
  if (options.refundable) calls.push(read('isRefundable', [id]))
  const [raw, prompt, refundable] = (await readMany(ctx, calls, {
    ...(options.blockNumber !== undefined ? { blockNumber: options.blockNumber } : {}),
  })) as [RawRequest, Hex, boolean | undefined]
  return {
    id,
    requester: raw.requester,
    recipient: raw.recipient,
    feeWei: raw.fee,
    expiresAt: Number(raw.expiresAt),
    callbackGasLimit: Number(raw.callbackGasLimit),
    status: REQUEST_STATUSES[raw.status] ?? 'none',
    promptHash: raw.promptHash,
    prompt,
    tokenId: BigInt(raw.promptHash),
    ...(refundable !== undefined ? { refundable } : {}),
  }
}

/**
 * Reads the request fee, timeout, request count and open escrow in one eth_call.
 * @example
 * import { readRequestTerms } from './requests/readRequest.js'
 * (await readRequestTerms(ctx, collection)).feeWei // 1000000000000000n
 */
export async function readRequestTerms(
  ctx: Pick<ChainContext, 'publicClient' | 'rpcUrl'>,
  collection: Address,
  options: { blockNumber?: bigint } = {},
): Promise<RequestTerms> {
  const { aigcCollectionAbi } = await import('../../contracts-abi/index.js')
  const { callsTo, readMany } = await import('../revenue/readMany.js')
  const read = callsTo(collection, aigcCollectionAbi as Abi)
  const [fee, timeout, count, escrow] = (await readMany(
    ctx,
    [read('requestFee'), read('requestTimeout'), read('requestCount'), read('openEscrow')],
    options,
  )) as [bigint, bigint, bigint, bigint]
  return { feeWei: fee, timeoutSeconds: Number(timeout), requestCount: count, openEscrowWei: escrow }
}

/**
 * Decodes the collection's `Requested` logs (others are skipped), e.g. from `eth_getLogs`.
 * @example
 * import { decodeRequestedLogs } from './requests/readRequest.js'
 * decodeRequestedLogs(logs)[0].requestId // 1n
 */
export async function decodeRequestedLogs(logs: Log[]): Promise<RequestedEvent[]> {
  const { parseEventLogs } = await import('viem')
  const { aigcCollectionAbi } = await import('../../contracts-abi/index.js')
  return parseEventLogs({ abi: aigcCollectionAbi, eventName: 'Requested', logs, strict: true }).map((log) => ({
    requestId: log.args.requestId,
    requester: log.args.requester,
    recipient: log.args.recipient,
    promptHash: log.args.promptHash,
    prompt: log.args.prompt,
    fee: log.args.fee,
    expiresAt: Number(log.args.expiresAt),
    blockNumber: log.blockNumber,
    transactionHash: log.transactionHash,
    logIndex: log.logIndex,
    removed: log.removed,
  }))
}
