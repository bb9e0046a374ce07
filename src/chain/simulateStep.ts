/**
 * planned -> simulated: a step is executed by the node (eth_estimateGas at 'pending'; eth_call says
 * why when it fails) before anything is signed, and the gas limit to sign with is settled.
 */
import { SimulationRevertedError, UsageError } from '../errors.js'
import type { ChainContext } from './connect.js'
import { describeRevert, isRevert } from './describeRevert.js'
import { type Fees, resolveFees } from './resolveFees.js'
import { toImoError } from './toImoError.js'
import type { TxStep } from './txStep.js'

/**
 * The intrinsic gas of a transaction (EIP-2028 calldata, EIP-3860 init code): no node accepts a gas
 * limit below it, whatever --force says.
 * @example
 * intrinsicGas({ to: '0x…', data: '0x' }) // 21000n
 */
export function intrinsicGas(step: Pick<TxStep, 'to' | 'data'>): bigint {
  const bytes = (step.data.length - 2) / 2
  let zeros = 0
  for (let i = 2; i < step.data.length; i += 2) if (step.data.slice(i, i + 2) === '00') zeros++
  let gas = 21_000n + BigInt(zeros) * 4n + BigInt(bytes - zeros) * 16n
  if (!step.to) gas += 32_000n + 2n * BigInt(Math.ceil(bytes / 32))
  return gas
}

/**
 * The gas limit to sign with: --gas-limit, else the estimate + 20 %. A --gas-limit below the
 * estimate would run out of gas on chain (a reverted transaction that still costs its fee), so it is
 * refused unless --force; below the intrinsic gas it is refused even then (no node would mine it).
 * @param ctx - chain context (its tx settings).
 * @param step - the step (label for the message, to and data for the intrinsic gas).
 * @param estimate - the node's gas estimate.
 * @returns the gas limit.
 * @throws UsageError (2) for a --gas-limit below the estimate without --force, or below the intrinsic gas.
 * @example
 * gasLimitFor(ctx, step, 52_000n) // 62400n (no --gas-limit)
 */
export function gasLimitFor(
  ctx: Pick<ChainContext, 'tx'>,
  step: Pick<TxStep, 'label' | 'to' | 'data'>,
  estimate: bigint,
): bigint {
  const limit = ctx.tx.gasLimit
  if (limit === undefined) return (estimate * 120n) / 100n
  const hint = 'raise --gas-limit or leave it out (the estimate + 20% is used); --force sends with it anyway'
  const floor = intrinsicGas(step)
  if (limit < floor)
    throw new UsageError(
      `--gas-limit ${limit} is below the intrinsic gas of "${step.label}" (${floor}): no node would mine it; nothing was sent`,
      { hint: 'raise --gas-limit or leave it out (the estimate + 20% is used)' },
    )
  if (limit < estimate && !ctx.tx.force)
    throw new UsageError(
      `--gas-limit ${limit} is below the ${estimate} gas the simulation of "${step.label}" needs: it would run out of gas and revert; nothing was sent`,
      { hint },
    )
  return limit
}

type EstimateGasArgs = Parameters<ChainContext['publicClient']['estimateGas']>[0]

/**
 * Simulates a step (eth_estimateGas at 'pending'; eth_call for the reason when it fails) without sending anything.
 * @param ctx - chain context (needs an account for `from`, else the zero address).
 * @param step - the step.
 * @returns the gas limit to use (estimate + 20 %, or --gas-limit) and the cost bound in wei.
 * @throws SimulationRevertedError (exit 3) with the decoded custom error.
 * @example
 * const { gas, costWei } = await simulateStep(ctx, step)
 */
export async function simulateStep(
  ctx: ChainContext,
  step: TxStep,
  fees?: Fees,
): Promise<{ gas: bigint; costWei: bigint; perGas: bigint }> {
  const from = ctx.account?.address
  const request = {
    ...(from ? { account: from } : {}),
    ...(step.to ? { to: step.to } : {}),
    data: step.data,
    ...(step.value ? { value: step.value } : {}),
  }
  // eth_estimateGas executes the transaction: it is the simulation (a revert fails it). At 'pending',
  // not 'latest': on an idle chain the latest block can be minutes old, so a call guarded by
  // block.timestamp (snapshot(), a request's expiry) would be judged at the wrong time.
  const estimate = await ctx.publicClient
    .estimateGas({ ...request, blockTag: 'pending' } as EstimateGasArgs)
    .catch(explainOrRetry)
  /**
   * A failed estimate: eth_call at 'pending' says why (some nodes' estimate errors carry no revert
   * data). Both calls were sent for every transaction before; the call now runs only on a failure. When
   * the call passes, the node refused the estimate itself (some take no block tag there): estimated
   * again without one, as before.
   */
  async function explainOrRetry(estimateError: unknown): Promise<bigint> {
    let error = estimateError
    const action = `simulating "${step.label}"`
    let converted = toImoError(error, { rpcUrl: ctx.rpcUrl, action })
    if (converted.exitCode !== 6 && converted.exitCode !== 8) {
      try {
        await ctx.publicClient.call({ ...request, blockTag: 'pending' })
        return await ctx.publicClient.estimateGas(request as EstimateGasArgs)
      } catch (retryError) {
        error = retryError
      }
      converted = toImoError(error, { rpcUrl: ctx.rpcUrl, action })
    }
    if (converted.exitCode === 6 || converted.exitCode === 8) throw converted
    if (isRevert(error) || converted.exitCode === 1) {
      const reason = (await describeRevert(error, step.abi)) ?? converted.shortMessage
      throw new SimulationRevertedError(`"${step.label}" would fail: ${reason}; nothing was sent`, {
        cause: error,
        details: (error as Error)?.message,
      })
    }
    throw converted
  }
  const gas = gasLimitFor(ctx, step, estimate)
  const resolved = fees ?? (await resolveFees(ctx))
  return { gas, costWei: gas * resolved.perGas + (step.value ?? 0n), perGas: resolved.perGas }
}
