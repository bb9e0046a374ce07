/**
 * Batched contract reads: one `eth_call` through viem's deployless Multicall3 (works on any EVM chain,
 * anvil included, without a multicall contract deployed), falling back to parallel single calls when
 * the node refuses the deployless call (e.g. chains without contract creation in eth_call).
 */
import type { Abi, Address } from 'viem'
import type { ChainContext } from '../chain/connect.js'

export interface ReadCall {
  address: Address
  abi: Abi
  functionName: string
  args?: readonly unknown[]
}

/**
 * A call builder for one contract, so each reader names only the function and its arguments.
 * @param address - the contract.
 * @param abi - its ABI.
 * @returns `(functionName, args?) => ReadCall`.
 * @example
 * import { callsTo } from './readMany.js'
 * const read = callsTo(token, imoTokenAbi)
 * read('balanceOf', [holder]) // { address: token, abi: imoTokenAbi, functionName: 'balanceOf', args: [holder] }
 */
export function callsTo(address: Address, abi: Abi): (functionName: string, args?: readonly unknown[]) => ReadCall {
  return (functionName, args) => ({ address, abi, functionName, ...(args ? { args } : {}) })
}

/**
 * Reads many view functions at once; throws on the first failing call.
 * @param ctx - chain context (publicClient and rpcUrl for errors).
 * @param calls - the calls, any contracts.
 * @param options - blockNumber: read every call at this block (one consistent view); blockTag: or at
 *   'pending' (what a transaction sent now would see).
 * @returns the results in the order of the calls.
 * @throws RpcError (exit 6) when the node cannot be reached; the decoded revert otherwise.
 * @example
 * import { readMany } from './readMany.js'
 * const [supply, pending] = await readMany(ctx, [
 *   { address: token, abi: imoTokenAbi, functionName: 'totalSupply' },
 *   { address: token, abi: imoTokenAbi, functionName: 'pendingRevenue' },
 * ]) // [1000000000000000000000n, 2000000000000000000n]
 */
export async function readMany(
  ctx: Pick<ChainContext, 'publicClient' | 'rpcUrl'>,
  calls: ReadCall[],
  options: { blockNumber?: bigint; blockTag?: 'latest' | 'pending' } = {},
): Promise<unknown[]> {
  if (calls.length === 0) return []
  const at =
    options.blockNumber !== undefined
      ? { blockNumber: options.blockNumber }
      : options.blockTag !== undefined
        ? { blockTag: options.blockTag }
        : {}
  const { toImoError, isConnectionError } = await import('../chain/toImoError.js')
  try {
    return (await ctx.publicClient.multicall({
      contracts: calls as Parameters<ChainContext['publicClient']['multicall']>[0]['contracts'],
      allowFailure: false,
      deployless: true,
      batchSize: 0,
      ...at,
    })) as unknown[]
  } catch (error) {
    if (isConnectionError(error)) throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: 'reading the contracts' })
  }
  try {
    return await Promise.all(
      calls.map((call) =>
        ctx.publicClient.readContract({
          ...call,
          ...at,
        } as Parameters<ChainContext['publicClient']['readContract']>[0]),
      ),
    )
  } catch (error) {
    throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: 'reading the contracts' })
  }
}
