/**
 * Whether a collection's token exists, with its owner and accepted aigcData hash: the look-up behind the
 * minted-prompt check and a replaced mint's "done anyway" test.
 */
import type { Address, Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'

/** A minted token's owner and the keccak256 of the aigcData it accepted. */
export interface TokenState {
  owner: Address
  dataHash: Hex
}

/**
 * @param ctx - chain context.
 * @param collection - the ERC-7007 collection.
 * @param abi - its ABI (ownerOf, aigcDataHash).
 * @param tokenId - the token id (keccak256 of the prompt).
 * @returns its owner and data hash, or undefined when it is not minted (ownerOf reverts).
 * @throws the chain error (as an ImoError) for anything but a revert.
 * @example
 * const state = await readTokenState(ctx, collection, aigcCollectionAbi, BigInt(keccak256(promptBytes)))
 * if (state) console.log(`minted, owned by ${state.owner}`)
 */
export async function readTokenState(
  ctx: ChainContext,
  collection: Address,
  abi: readonly unknown[],
  tokenId: bigint,
): Promise<TokenState | undefined> {
  const { toImoError } = await import('../chain/toImoError.js')
  let owner: Address
  try {
    owner = (await ctx.publicClient.readContract({
      address: collection,
      abi: abi as never,
      functionName: 'ownerOf' as never,
      args: [tokenId] as never,
    })) as Address
  } catch (error) {
    if (isRevert(error)) return undefined
    throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: 'reading the token owner' })
  }
  const dataHash = (await ctx.publicClient
    .readContract({ address: collection, abi: abi as never, functionName: 'aigcDataHash' as never, args: [tokenId] as never })
    .catch((error: unknown) => {
      throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: 'reading the token data hash' })
    })) as Hex
  return { owner, dataHash }
}

function isRevert(error: unknown): boolean {
  let current: unknown = error
  for (let i = 0; current && i < 20; i++) {
    const name = (current as { name?: string }).name
    if (name === 'ContractFunctionRevertedError' || name === 'ExecutionRevertedError') return true
    current = (current as { cause?: unknown }).cause
  }
  return false
}
