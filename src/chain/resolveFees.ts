/**
 * The fees a run signs with: --gas-price (legacy), or EIP-1559 from the latest block's base fee (twice
 * it, plus the priority fee) unless --max-fee-per-gas / --max-priority-fee-per-gas say otherwise.
 */
import { UsageError } from '../errors.js'
import type { ChainContext } from './connect.js'
import { toImoError } from './toImoError.js'

export interface Fees {
  type: 'eip1559' | 'legacy'
  maxFeePerGas?: bigint
  maxPriorityFeePerGas?: bigint
  gasPrice?: bigint
  /** The per-gas price used for cost bounds. */
  perGas: bigint
}

/**
 * Reads (or takes from the flags) the fees to sign with.
 * @param ctx - chain context (its tx settings and send client).
 * @returns the fee fields and the per-gas price for cost bounds.
 * @throws UsageError (2) for --max-fee-per-gas on a chain without a base fee; RpcError (6).
 * @example
 * const fees = await resolveFees(ctx) // { type: 'eip1559', maxFeePerGas: 2000000000n, maxPriorityFeePerGas: 1000000000n, perGas: 2000000000n }
 */
export async function resolveFees(ctx: ChainContext): Promise<Fees> {
  const client = ctx.sendClient
  try {
    if (ctx.tx.gasPrice !== undefined) return { type: 'legacy', gasPrice: ctx.tx.gasPrice, perGas: ctx.tx.gasPrice }
    const block = await client.getBlock({ blockTag: 'latest' })
    if (block.baseFeePerGas === null || block.baseFeePerGas === undefined) {
      if (ctx.tx.maxFeePerGas !== undefined || ctx.tx.maxPriorityFeePerGas !== undefined)
        throw new UsageError(`chain ${ctx.chainId} has no EIP-1559 base fee: use --gas-price instead of --max-fee-per-gas`)
      const gasPrice = await client.getGasPrice()
      return { type: 'legacy', gasPrice, perGas: gasPrice }
    }
    let priority = ctx.tx.maxPriorityFeePerGas
    if (priority === undefined) {
      try {
        priority = await client.estimateMaxPriorityFeePerGas()
      } catch {
        priority = 1_000_000_000n
      }
    }
    const maxFee = ctx.tx.maxFeePerGas ?? block.baseFeePerGas * 2n + priority
    if (priority > maxFee) priority = maxFee
    return { type: 'eip1559', maxFeePerGas: maxFee, maxPriorityFeePerGas: priority, perGas: maxFee }
  } catch (error) {
    throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: 'reading fees' })
  }
}
