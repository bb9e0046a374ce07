/**
 * One paid request as serve's stages pass it along, and the key that names it. The key is the request
 * id with what decides its fulfilment, the prompt hash and the recipient: a reorg that hands an id to
 * another request changes the key, so every stage (and the journal, whose fulfil step id derives from
 * the key) sees a new request, never the old one's state. A request re-included unchanged keeps its
 * key, and with it its journalled fulfilment (the same calldata, so the same signed transaction).
 */
import type { Address, Hex } from 'viem'
import type { RequestedEvent } from '../requests/readRequest.js'

/** A `Requested` event serve follows, with when serve saw it. */
export interface ServedRequest {
  /** `<id>:<promptHash>:<recipient>`, lower case (requestKey). */
  key: string
  id: bigint
  promptHash: Hex
  recipient: Address
  /** The prompt bytes as the log carries them. */
  prompt: Hex
  /** Unix seconds, as the log says (the stages re-read it from the chain before acting). */
  expiresAt: number
  blockNumber: bigint
  transactionHash: Hex
  /** performance.now() when serve first saw its log (after the confirmations): latency runs from here. */
  seenAt: number
}

/**
 * The key of a request: its id, prompt hash and recipient.
 * @example
 * requestKey(7n, '0x5f3a…', '0x7099…') // '7:0x5f3a…:0x7099…'
 */
export function requestKey(id: bigint, promptHash: Hex, recipient: Address): string {
  return `${id}:${promptHash.toLowerCase()}:${recipient.toLowerCase()}`
}

/**
 * A decoded `Requested` log as a ServedRequest (undefined for a removed or pending log).
 * @example
 * const request = toServedRequest(event, performance.now())
 */
export function toServedRequest(event: RequestedEvent, seenAt: number): ServedRequest | undefined {
  if (event.removed || event.blockNumber === null || event.transactionHash === null) return undefined
  return {
    key: requestKey(event.requestId, event.promptHash, event.recipient),
    id: event.requestId,
    promptHash: event.promptHash,
    recipient: event.recipient,
    prompt: event.prompt,
    expiresAt: event.expiresAt,
    blockNumber: event.blockNumber,
    transactionHash: event.transactionHash,
    seenAt,
  }
}

/**
 * The journal step id of a request's fulfilment: `fulfill:<collection>@<chain>:<request key>`, where
 * `<chain>` names the chain the deployment lives on (chainKey.ts). A request that changed in a reorg is
 * a new step; a re-created local chain with the same addresses does not resume the old chain's steps.
 * @example
 * fulfilStepId('0x5FbD…', 'a1b2c3d4e5f60718', '7:0x5f3a…:0x7099…') // 'fulfill:0x5fbd…@a1b2c3d4e5f60718:7:0x5f3a…:0x7099…'
 */
export function fulfilStepId(collection: Address, chain: string, key: string): string {
  return `fulfill:${collection.toLowerCase()}@${chain}:${key}`
}
