/**
 * mintRecords' second stage: each item's token id (`uint256(keccak256(prompt))`), and which prompts are
 * minted already. Two items with one prompt are refused (each prompt mints one token); a prompt minted
 * with the same aigcData is `existing` (nothing to send); with other aigcData, nothing is sent at all
 * (MintConflictError, exit 3: the chain would revert with PromptAlreadyMinted).
 */
import { type Address, keccak256, toHex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import { ExitCode, ImoError, UsageError } from '../errors.js'
import { mapConcurrent } from '../util/mapConcurrent.js'
import { describeRecord } from './describeRecord.js'
import type { MintItem } from './mintTypes.js'
import { readTokenState, type TokenState } from './readTokenState.js'

/** A prompt minted before with other aigcData (exit 3: the chain would revert, nothing was sent). */
export class MintConflictError extends ImoError {
  override name = 'MintConflictError'
  constructor(message: string, options: { hint?: string; details?: string } = {}) {
    super(message, { ...options, exitCode: ExitCode.SimulationReverted })
  }
}

/** Per item, in order: its token id, and its token when minted already with the same aigcData. */
export interface MintedPrompts {
  tokenIds: bigint[]
  existing: Array<TokenState | undefined>
}

/**
 * @param ctx - chain context.
 * @param collection - the collection.
 * @param items - the records to mint.
 * @param onProgress - progress text.
 * @returns the token ids and the tokens that exist.
 * @throws UsageError (2) for a repeated prompt; MintConflictError (3) for a prompt minted with other data.
 * @example
 * const { tokenIds, existing } = await findMintedPrompts(ctx, collection, items)
 * existing[0] // undefined: not minted yet
 */
export async function findMintedPrompts(
  ctx: ChainContext,
  collection: Address,
  items: MintItem[],
  onProgress: (text: string) => void = () => {},
): Promise<MintedPrompts> {
  const { aigcCollectionAbi } = await import('../../contracts-abi/index.js')
  const tokenIds = items.map((item) => BigInt(keccak256(item.promptBytes)))
  const seen = new Map<bigint, number>()
  for (const [index, id] of tokenIds.entries()) {
    const first = seen.get(id)
    if (first !== undefined)
      throw new UsageError(
        `prompts ${first + 1} and ${index + 1} are the same (${describeRecord(items[index]!.record)}): each prompt mints one token`,
      )
    seen.set(id, index)
  }
  onProgress('checking for minted prompts')
  // A request's fulfilment is not looked up: serve has just read the request open and its prompt not
  // minted (isRefundable, in the same eth_call), and a token minted since makes the simulation revert,
  // which serve re-checks (one eth_call per fulfilment saved).
  const existing = await mapConcurrent(tokenIds, 8, async (id, index) =>
    items[index]!.request ? undefined : readTokenState(ctx, collection, aigcCollectionAbi, id),
  )
  const conflicts = items
    .map((item, index) => ({ item, index, state: existing[index] }))
    .filter(({ item, state }) => state && state.dataHash.toLowerCase() !== keccak256(item.aigcData).toLowerCase())
  if (conflicts.length > 0) {
    const { item, index, state } = conflicts[0]!
    throw new MintConflictError(
      `${describeRecord(item.record)} is already minted as token ${toHex(tokenIds[index]!, { size: 32 })} with other aigcData (on chain ${state!.dataHash}, this inference ${keccak256(item.aigcData)}); nothing was sent`,
      {
        hint: 'a prompt mints one token: change the prompt, or verify the existing token with `imo verify --token`',
        ...(conflicts.length > 1 ? { details: `${conflicts.length} prompts conflict` } : {}),
      },
    )
  }
  return { tokenIds, existing }
}
