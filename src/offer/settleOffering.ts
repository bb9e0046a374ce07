/**
 * The end of an offering, each through the journal with a step id that names what it settles:
 * `finalize` (then, for the seller, the withdrawal of what is theirs: proceeds and revenue),
 * `refund` (finalizing first when the sale ended and nobody did), `withdraw` (the seller's ether,
 * collecting the sale's pending revenue first, or a buyer's tokens after a met soft cap), and
 * `claimRevenue` (anyone: moves the revenue of the sale's own tokens from the token into the sale
 * before the token's claim window expires it).
 */
import type { Address, Hex } from 'viem'
import { imoOfferingAbi } from '../../contracts-abi/index.js'
import type { ChainContext } from '../chain/connect.js'
import type { TxStep } from '../chain/sendStep.js'
import { ImoError, UsageError } from '../errors.js'
import type { OfferingState } from './readOffering.js'
import type { SettleAction } from './settleAction.js'

export type { SettleAction } from './settleAction.js'

export interface SettleResult {
  sale: Address
  symbol: string
  /** Every step sent (or simulated), in order. */
  steps: Array<{ action: SettleAction; status: string; txHash?: Hex; blockNumber?: bigint; gas: bigint }>
  /** Ether paid to the signer (refund or withdrawal), wei. */
  paidWei: bigint
  /** Tokens delivered to the signer, base units. */
  tokensWei: bigint
  /** Tokens returned to the seller at finalize. */
  returnedWei: bigint
  /** Revenue moved from the token into the sale (claimRevenue, or finalize), wei. */
  collectedWei: bigint
  softCapMet: boolean
  state: OfferingState
}

/**
 * Finalizes, refunds or withdraws as the signer.
 * @param ctx - chain context with a signer.
 * @param sale - the sale contract.
 * @param action - 'finalize' (the seller also withdraws), 'refund', 'withdraw' (seller: ether, the pending
 *   revenue collected first; buyer: tokens), or 'claimRevenue' (anyone; nothing sent when nothing is pending).
 * @returns the steps and what the signer received.
 * @throws UsageError (2) when there is nothing to do, in plain words (e.g. the sale ends in 3 h); chain errors.
 * @example
 * import { settleOffering } from './settleOffering.js'
 * const r = await settleOffering(ctx, sale, 'refund')
 * r.paidWei // 1000000000000000000n
 */
export async function settleOffering(
  ctx: ChainContext,
  sale: Address,
  action: 'finalize' | 'refund' | 'withdraw' | 'claimRevenue',
): Promise<SettleResult> {
  const account = ctx.account
  if (!account) throw new ImoError('settleOffering needs a signer')
  const viem = await import('viem')
  const { findOpenStep } = await import('../revenue/journalSteps.js')
  const step = (sale: Address, action: SettleAction, id: string, args: readonly unknown[] = []): TxStep => {
    const prefix = `offer-${action}:${sale.toLowerCase()}:`
    // A withdrawal interrupted before its receipt is resumed under its own id, not sent again under a new one.
    const open = action === 'withdraw' && ctx.journal ? findOpenStep(ctx.journal, prefix) : undefined
    return {
      id: open?.id ?? `${prefix}${id}`,
      label:
        action === 'deliver' ? 'take delivery of the tokens' : action === 'claimRevenue' ? "collect the sale's revenue" : action,
      to: sale,
      data: viem.encodeFunctionData({ abi: imoOfferingAbi, functionName: action, args } as Parameters<
        typeof viem.encodeFunctionData
      >[0]),
      abi: imoOfferingAbi,
    }
  }
  const { readOffering } = await import('./readOffering.js')
  const { sendStep } = await import('../chain/sendStep.js')
  const { formatWhen } = await import('../cli/time.js')
  const { formatNative } = await import('../chain/format.js')
  let state = await readOffering(ctx, sale, account.address)
  const result: SettleResult = {
    sale,
    symbol: state.symbol,
    steps: [],
    paidWei: 0n,
    tokensWei: 0n,
    returnedWei: 0n,
    collectedWei: 0n,
    softCapMet: state.softCapMet,
    state,
  }
  const run = async (action: SettleAction, s: TxStep) => {
    const outcome = await sendStep(ctx, s)
    result.steps.push({
      action,
      status: outcome.status,
      gas: outcome.gas,
      ...(outcome.txHash ? { txHash: outcome.txHash } : {}),
      ...(outcome.blockNumber !== undefined ? { blockNumber: outcome.blockNumber } : {}),
    })
    for (const log of outcome.receipt ? viem.parseEventLogs({ abi: imoOfferingAbi, logs: outcome.receipt.logs }) : []) {
      if (log.eventName === 'Finalized') result.returnedWei = log.args.returned
      if (log.eventName === 'Refunded') result.paidWei += log.args.amount
      if (log.eventName === 'Withdrawn') result.paidWei += log.args.amount
      if (log.eventName === 'Delivered') result.tokensWei += log.args.amount
      if (log.eventName === 'RevenueCollected') result.collectedWei += log.args.amount
    }
  }
  const finalizeIfNeeded = async (required: boolean) => {
    if (state.phase === 'finalized') {
      if (required && action === 'finalize') throw new UsageError(`the sale ${sale} is already finalized`)
      return
    }
    if (state.phase === 'not funded') throw new UsageError(`the sale ${sale} was never funded: nothing to settle`)
    if (state.phase === 'upcoming' || state.phase === 'open')
      throw new UsageError(
        `the sale is still open: it ends ${formatWhen(state.endsAt, state.now)} (or when all ${formatNative(state.amountWei, state.symbol)} are sold); nothing was sent`,
      )
    await run('finalize', step(sale, 'finalize', 'once'))
    if (!ctx.tx.dryRun) state = await readOffering(ctx, sale, account.address)
  }

  /**
   * The revenue the token holds for the sale, moved into it. The step id names the newest snapshot and
   * what the sale had collected so far: a re-run after a crash resumes the same transaction, and a
   * collection that stopped short (256 snapshots at most per call) is followed by a new one.
   */
  const collectRevenue = async () => {
    await run('claimRevenue', step(sale, 'claimRevenue', `snapshot-${state.snapshotId}-after-${state.revenueCollectedWei}`))
    if (!ctx.tx.dryRun) state = await readOffering(ctx, sale, account.address)
  }

  if (action === 'claimRevenue') {
    if (state.phase === 'not funded') throw new UsageError(`the sale ${sale} was never funded: it holds no tokens`)
    // Nothing pending is not an error: a scheduled run (cron) finds nothing most of the time.
    if (state.pendingRevenueWei > 0n) await collectRevenue()
  } else if (action === 'finalize') {
    await finalizeIfNeeded(true)
    if (state.account?.isSeller && state.withdrawableWei > 0n && !ctx.tx.dryRun)
      await run('withdraw', step(sale, 'withdraw', String(state.withdrawnWei)))
  } else if (action === 'refund') {
    if (state.softCapWei === 0n) throw new UsageError('the sale has no soft cap: purchases are final, there are no refunds')
    if (state.softCapMet && (state.phase === 'ended' || state.phase === 'finalized'))
      throw new UsageError(
        `the sale met its soft cap (${formatNative(state.raisedWei, 'ETH')} of ${formatNative(state.softCapWei, 'ETH')}): no refunds; take your tokens with imo offer withdraw`,
      )
    if ((state.account?.paidWei ?? 0n) === 0n)
      throw new UsageError(`${account.address} has nothing to refund from the sale ${sale}`)
    await finalizeIfNeeded(false)
    if (!ctx.tx.dryRun) await run('refund', step(sale, 'refund', account.address.toLowerCase()))
  } else {
    const owedTokens =
      state.phase === 'finalized' && state.softCapWei !== 0n && state.softCapMet ? (state.account?.tokensWei ?? 0n) : 0n
    const canWithdraw = state.account?.isSeller && state.withdrawableWei > 0n
    if (!canWithdraw && owedTokens === 0n) {
      if (state.account?.isSeller && state.softCapWei !== 0n && state.phase !== 'finalized')
        throw new UsageError(
          `the sale has a soft cap: the proceeds can be withdrawn after imo offer finalize (it ends ${formatWhen(state.endsAt, state.now)})`,
        )
      throw new UsageError(`nothing to withdraw from the sale ${sale} for ${account.address}`)
    }
    if (canWithdraw && state.pendingRevenueWei > 0n) await collectRevenue()
    if (canWithdraw) await run('withdraw', step(sale, 'withdraw', String(state.withdrawnWei)))
    if (owedTokens > 0n) await run('deliver', step(sale, 'deliver', account.address.toLowerCase(), [account.address]))
  }
  if (!ctx.tx.dryRun) result.state = await readOffering(ctx, sale, account.address)
  result.softCapMet = result.state.softCapMet
  return result
}
