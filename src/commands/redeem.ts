import { Command } from 'commander'
import { withExamples } from '../cli/help.js'
import { addOptionGroups, deploymentOptions, rpcOptions, signerOptions, txOptions } from '../cli/options.js'

/** `imo redeem AMOUNT`: burns tokens for their share of the redemption pool. */
export function redeemCommand(): Command {
  const command = new Command('redeem')
    .summary('burn tokens for their share of the redemption pool')
    .description(
      "burn AMOUNT of the signer's IMO tokens for their share of the redemption pool and of the redemption part of " +
        'the revenue received since the last snapshot, in every revenue currency of the token (burning the whole supply pays all the pending revenue). Shows the payout in each currency first; asks on a terminal, needs --yes otherwise. An interrupted ' +
        'burn is resumed on re-run, never sent twice.',
    )
    .argument('<AMOUNT>', 'tokens to burn, e.g. 100 or 0.5')
  addOptionGroups(command, rpcOptions, signerOptions, txOptions, deploymentOptions)
  command.action(async (amountText: string, _options, cmd: Command) => {
    const { parseAmount, formatNative } = await import('../chain/format.js')
    const amount = parseAmount(amountText, { name: 'AMOUNT' })
    const values = cmd.opts()
    const { connectDeployment } = await import('../cli/connectDeployment.js')
    const { redeemTokens } = await import('../revenue/redeemTokens.js')
    const { note, printResult } = await import('../cli/ui.js')
    const { ctx, deployment } = await connectDeployment(cmd, { signer: true })
    const fmt = (wei: bigint) => formatNative(wei, ctx.nativeSymbol)
    const { formatCurrency } = await import('../revenue/resolveCurrency.js')
    /** The payout in every currency: '0.4 ETH + 12.5 USDC' (ERC-20s with nothing to pay are left out). */
    const payout = (plan: {
      payoutWei: bigint
      currencyPayouts: Array<{ currency: { decimals: number; symbol: string }; payoutWei: bigint }>
    }) =>
      [
        fmt(plan.payoutWei),
        ...plan.currencyPayouts.filter((p) => p.payoutWei > 0n).map((p) => formatCurrency(p.payoutWei, p.currency)),
      ].join(' + ')
    const result = await redeemTokens(ctx, deployment.imoToken.address, amount, {
      yes: Boolean(values.yes),
      onPlan: (plan) =>
        note(
          `Burning ${formatNative(plan.amountWei, plan.symbol)} of ${formatNative(plan.tokenBalanceWei, plan.symbol)} pays ${payout(plan)} ` +
            `(redemption pool ${fmt(plan.redemptionPoolWei)}, supply ${formatNative(plan.totalSupplyWei, plan.symbol)}` +
            `${plan.wholeSupply ? `, the whole supply: also the pending ${fmt(plan.pendingRevenueWei)}` : plan.pendingRevenueWei > 0n ? `, and its share of the redemption part of the pending ${fmt(plan.pendingRevenueWei)}` : ''})`,
        ),
    })
    printResult({ ...result, chainId: ctx.chainId, nativeSymbol: ctx.nativeSymbol }, (r) => {
      const burn = formatNative(r.amountWei, r.symbol)
      if (r.status === 'cancelled') return 'Cancelled: nothing was sent'
      if (r.status === 'dry-run')
        return `Dry run: burning ${burn} would pay ${payout(r)}; gas ${r.gas}, at most ${fmt(r.costWei ?? 0n)}; nothing was sent`
      return [
        `Burned ${burn}${r.status === 'sent' ? '' : ' (resumed)'} for ${payout(r)}`,
        `  transaction ${r.txHash}${r.blockNumber !== undefined ? ` (block ${r.blockNumber}, fee ${fmt(r.costWei ?? 0n)})` : ''}`,
      ].join('\n')
    })
  })
  return withExamples(command, ['imo redeem 100', 'imo redeem 0.5 --yes --json', 'imo redeem 100 --dry-run'])
}
