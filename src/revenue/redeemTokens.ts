/**
 * Burns IMO tokens for their share of the redemption pool and of the redemption part of the revenue
 * received since the last snapshot (`burn`, as the EIP-7641 reference), after showing the payout and
 * asking to confirm. Burning the whole remaining supply pays all the pending revenue.
 *
 * Step id: `redeem:<token>:<amount>:s<snapshot id>#<n>[@key:<KEY>]`, with the rules of every value-moving
 * command (src/revenue/repeatGuard.ts): an open burn of the same amount in the signer's journal
 * (interrupted before its receipt was recorded) is resumed; with `--key K` one burn per key (a re-run
 * reports it, nothing sent); without a key a finished burn of the same amount in the same snapshot
 * period is not repeated without a terminal (exit 2) or a new key. Every new burn is also confirmed
 * (terminal) or needs --yes.
 */
import type { Address, Hex } from 'viem'
import { imoTokenAbi } from '../../contracts-abi/index.js'
import type { ChainContext } from '../chain/connect.js'
import { ImoError, UsageError } from '../errors.js'

export interface RedeemPlan {
  token: Address
  holder: Address
  symbol: string
  /** Tokens to burn, in base units (18 decimals). */
  amountWei: bigint
  /** The holder's token balance and the total supply, in base units. */
  tokenBalanceWei: bigint
  totalSupplyWei: bigint
  /** What the burn pays now (redeemableOnBurn). */
  payoutWei: bigint
  redemptionPoolWei: bigint
  pendingRevenueWei: bigint
  /** What the burn pays in each ERC-20 revenue currency of the token (in its smallest unit), besides payoutWei. */
  currencyPayouts: Array<{ currency: { address: Address; symbol: string; decimals: number }; payoutWei: bigint }>
  /** Burning the whole supply also pays the pending revenue. */
  wholeSupply: boolean
  /** The snapshot period (latest snapshot id) the plan was made in. */
  snapshotId: number
}

export interface RedeemResult extends RedeemPlan {
  status: 'sent' | 'resumed' | 'already-confirmed' | 'dry-run' | 'cancelled'
  stepId: string
  txHash?: Hex
  blockNumber?: bigint
  gas: bigint
  costWei?: bigint
}

/**
 * Reads what burning `amount` tokens pays `holder` now.
 * @param ctx - chain context.
 * @param token - the IMO token.
 * @param holder - who burns.
 * @param amount - tokens in base units.
 * @returns the plan.
 * @throws UsageError (2) when the amount is more than the holder's balance.
 * @example
 * import { planRedeem } from './redeemTokens.js'
 * (await planRedeem(ctx, token, holder, 100n * 10n ** 18n)).payoutWei // 400000000000000000n
 */
export async function planRedeem(
  ctx: Pick<ChainContext, 'publicClient' | 'rpcUrl' | 'nativeSymbol'>,
  token: Address,
  holder: Address,
  amount: bigint,
): Promise<RedeemPlan> {
  const { callsTo, readMany } = await import('./readMany.js')
  const { formatNative } = await import('../chain/format.js')
  const read = callsTo(token, imoTokenAbi)
  const [symbol, balance, totalSupply, payoutWei, redemptionPoolWei, pendingRevenueWei, snapshotId] = (await readMany(ctx, [
    read('symbol'),
    read('balanceOf', [holder]),
    read('totalSupply'),
    read('redeemableOnBurn', [amount]),
    read('redemptionPool'),
    read('pendingRevenue'),
    read('currentSnapshotId'),
  ])) as [string, bigint, bigint, bigint, bigint, bigint, bigint]
  const { currencyJson, readRevenueCurrencies } = await import('./resolveCurrency.js')
  const erc20s = (await readRevenueCurrencies(ctx, token)).filter((c) => !c.native)
  const amounts = (await readMany(
    ctx,
    erc20s.map((c) => read('redeemableOnBurn', [amount, c.address])),
  )) as bigint[]
  const currencyPayouts = erc20s.map((c, i) => ({ currency: currencyJson(c), payoutWei: amounts[i]! }))
  if (amount > balance)
    throw new UsageError(
      `AMOUNT ${formatNative(amount, symbol)} is more than the ${formatNative(balance, symbol)} that ${holder} holds`,
    )
  return {
    token,
    holder,
    symbol,
    amountWei: amount,
    tokenBalanceWei: balance,
    totalSupplyWei: totalSupply,
    payoutWei,
    redemptionPoolWei,
    pendingRevenueWei,
    currencyPayouts,
    wholeSupply: amount >= totalSupply,
    snapshotId: Number(snapshotId),
  }
}

/**
 * Burns `amount` tokens of the signer for the redemption payout (after a confirmation), or resumes an
 * interrupted burn of the same amount.
 * @param ctx - chain context with a signer.
 * @param token - the IMO token.
 * @param amount - tokens in base units, > 0.
 * @param options - yes: skip the confirmation (required without a terminal); onPlan: called with the plan
 *   before asking (to show it).
 * @returns the plan and the outcome (payout from the Redeemed event when sent).
 * @throws UsageError (2) for more than the balance; InputNeededError (2) without --yes and no terminal; chain errors.
 * @example
 * import { redeemTokens } from './redeemTokens.js'
 * const result = await redeemTokens(ctx, token, 100n * 10n ** 18n, { yes: true })
 * result.payoutWei // 400000000000000000n
 */
export async function redeemTokens(
  ctx: ChainContext,
  token: Address,
  amount: bigint,
  options: { yes?: boolean; onPlan?(plan: RedeemPlan): void } = {},
): Promise<RedeemResult> {
  if (amount <= 0n) throw new UsageError('AMOUNT must be greater than zero')
  const account = ctx.account
  if (!account) throw new ImoError('redeemTokens needs a chain context with a signer')
  const { formatNative } = await import('../chain/format.js')
  const { findKeyedStep, findOpenStep, keySuffix, listSteps } = await import('./journalSteps.js')
  const { guardRepeat, keyedStepId } = await import('./repeatGuard.js')
  const { sendStep, summarizeOutcome } = await import('../chain/sendStep.js')
  const { encodeFunctionData, parseEventLogs } = await import('viem')
  const tokenPrefix = `redeem:${token.toLowerCase()}:`
  const prefix = `${tokenPrefix}${amount}:`
  const key = ctx.tx.key
  const earlierKeyed = ctx.journal && key ? findKeyedStep(ctx.journal, tokenPrefix, key) : undefined
  const open = ctx.journal ? findOpenStep(ctx.journal, prefix) : undefined
  let plan: RedeemPlan
  let stepId: string
  let resumed = false
  if (earlierKeyed || open) {
    // The plan's reads include the symbol: one batched read, not a separate one for the note.
    plan = await planRedeem(ctx, token, account.address, 0n)
    plan.amountWei = amount
    const { note } = await import('../cli/ui.js')
    if (earlierKeyed) {
      const keyedAmount = BigInt(earlierKeyed.id.split(':')[2]!)
      stepId = keyedStepId(earlierKeyed, keyedAmount === amount, `a burn of ${formatNative(keyedAmount, plan.symbol)}`, key!)!
      note(`--key ${key}: the burn of ${formatNative(amount, plan.symbol)} made under this key is reported; nothing new is sent`)
    } else {
      stepId = open!.id
      note(
        `resuming the interrupted burn of ${formatNative(amount, plan.symbol)} recorded in the journal${open!.txHash ? ` (${open!.txHash})` : ''}`,
      )
    }
    resumed = true
  } else {
    plan = await planRedeem(ctx, token, account.address, amount)
    options.onPlan?.(plan)
    const period = `${prefix}s${plan.snapshotId}#`
    const earlier = ctx.journal ? listSteps(ctx.journal, period) : []
    stepId = ctx.tx.dryRun ? `${period}dry-run` : `${period}${earlier.length + 1}${key ? keySuffix(key) : ''}`
    if (!ctx.tx.dryRun) {
      const { formatCurrency } = await import('./resolveCurrency.js')
      const payout = [
        formatNative(plan.payoutWei, ctx.nativeSymbol),
        ...plan.currencyPayouts.filter((p) => p.payoutWei > 0n).map((p) => formatCurrency(p.payoutWei, p.currency)),
      ].join(' + ')
      const burn = `burning ${formatNative(amount, plan.symbol)} for ${payout}`
      const again =
        key ||
        (await guardRepeat(
          earlier,
          `${account.address} already burned ${formatNative(amount, plan.symbol)} in this snapshot period`,
          `Burn ${formatNative(amount, plan.symbol)} again?`,
        ))
      if (!again) return { ...plan, status: 'cancelled', stepId, gas: 0n }
      const { confirmAction } = await import('./confirmAction.js')
      const ok = await confirmAction(
        `Burn ${formatNative(amount, plan.symbol)} for ${payout} from the redemption pool? It cannot be undone.`,
        { skip: Boolean(options.yes), flag: '--yes', what: burn },
      )
      if (!ok) return { ...plan, status: 'cancelled', stepId, gas: 0n }
    }
  }
  const outcome = await sendStep(ctx, {
    id: stepId,
    label: `burn ${formatNative(amount, plan.symbol)}`,
    to: token,
    data: encodeFunctionData({ abi: imoTokenAbi, functionName: 'burn', args: [amount] }),
    abi: imoTokenAbi,
  })
  const result: RedeemResult = {
    ...plan,
    ...summarizeOutcome(outcome),
    stepId,
  }
  // A burn reported from the journal (--key re-run) has no receipt in hand: fetch it for the payout.
  const receipt =
    outcome.receipt ??
    (resumed && outcome.txHash
      ? await ctx.publicClient.getTransactionReceipt({ hash: outcome.txHash }).catch(() => undefined)
      : undefined)
  if (receipt) {
    const [redeemed] = parseEventLogs({ abi: imoTokenAbi, logs: receipt.logs, eventName: 'Redeemed' })
    // Burning the whole supply in a snapshot's own second also pays that snapshot's pool, booked as a
    // claim (RevenueClaimed) beside the Redeemed payout: the holder received both.
    const claimed = parseEventLogs({ abi: imoTokenAbi, logs: receipt.logs, eventName: 'RevenueClaimed' })
    if (redeemed) result.payoutWei = claimed.reduce((sum, log) => sum + log.args.amount, redeemed.args.payout)
    // Each ERC-20's payout as paid (CurrencyRedeemed; PayoutCredited when the currency refused the transfer).
    const logs = parseEventLogs({ abi: imoTokenAbi, logs: receipt.logs }) as Array<{
      eventName: string
      args: Record<string, unknown>
    }>
    for (const payout of result.currencyPayouts) {
      const paid = logs.filter(
        (log) =>
          (log.eventName === 'CurrencyRedeemed' || log.eventName === 'CurrencyRevenueClaimed') &&
          String(log.args.currency).toLowerCase() === payout.currency.address.toLowerCase(),
      )
      if (redeemed) payout.payoutWei = paid.reduce((sum, log) => sum + ((log.args.payout ?? log.args.amount) as bigint), 0n)
    }
  }
  if (resumed && outcome.blockNumber !== undefined) {
    // The plan was read after the burn: whether it took the whole supply is told by the supply just before it.
    const { toImoError } = await import('../chain/toImoError.js')
    const supplyBefore = (await ctx.publicClient
      .readContract({ address: token, abi: imoTokenAbi, functionName: 'totalSupply', blockNumber: outcome.blockNumber - 1n })
      .catch((error: unknown) => {
        throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: 'reading the supply before the burn' })
      })) as bigint
    result.totalSupplyWei = supplyBefore
    result.wholeSupply = amount >= supplyBefore
  } else if (resumed) result.wholeSupply = amount >= plan.totalSupplyWei
  return result
}
