import { Command, Option } from 'commander'
import { withExamples } from '../cli/help.js'
import { addOptionGroups, deploymentOptions, rpcOptions, signerOptions, txOptions } from '../cli/options.js'

/** `imo revenue deposit AMOUNT`: sends revenue (native currency or a listed ERC-20) to the deployment's IMO token. */
function depositCommand(): Command {
  const command = new Command('deposit')
    .summary('send revenue (native currency or a listed ERC-20) to the IMO token')
    .description(
      "send AMOUNT to the IMO token as revenue (what a model's earnings do); it is split at the next snapshot. " +
        'With --currency, AMOUNT is in one of the revenue currencies the token was deployed with (a plain ERC-20 ' +
        "transfer, in that currency's own units: 2.5 USDC is 2.5). Re-running after an interruption resumes the same deposit from the journal, never a second one. " +
        'With --key K a deposit is made at most once per key (a re-run reports it); without a key, the same amount again ' +
        'in the same snapshot period is confirmed on a terminal and refused without one.',
    )
    .argument('<AMOUNT>', "amount in the currency's own unit, e.g. 1.5 (= 1.5 ETH, or 1.5 USDC with --currency USDC)")
    .addOption(
      new Option(
        '--currency <ADDRESS|SYMBOL>',
        'a revenue currency of the token, by address or symbol (default: the native currency)',
      ),
    )
    .exitOverride()
  addOptionGroups(command, rpcOptions, signerOptions, txOptions, deploymentOptions)
  command.action(async (amountText: string, options: { currency?: string }, cmd: Command) => {
    const { parseAmount, formatNative } = await import('../chain/format.js')
    // The native amount is checked before connecting; an ERC-20 one once its decimals are read.
    if (options.currency === undefined) parseAmount(amountText, { name: 'AMOUNT' })
    const { connectDeployment } = await import('../cli/connectDeployment.js')
    const { depositRevenue } = await import('../revenue/depositRevenue.js')
    const { currencyJson, formatCurrency, parseCurrencyAmount, resolveCurrency } = await import('../revenue/resolveCurrency.js')
    const { printResult } = await import('../cli/ui.js')
    const { ctx, deployment } = await connectDeployment(cmd, { signer: true })
    const token = deployment.imoToken.address
    const currency = await resolveCurrency(ctx, token, options.currency)
    const amount = parseCurrencyAmount(amountText, currency, 'AMOUNT')
    const result = await depositRevenue(ctx, token, amount, currency)
    const fmt = (units: bigint) => formatCurrency(units, currency)
    const fee = (wei: bigint) => formatNative(wei, ctx.nativeSymbol)
    printResult({ ...result, currency: currencyJson(currency), chainId: ctx.chainId, symbol: currency.symbol }, (r) => {
      if (r.status === 'cancelled') return `Cancelled: nothing was sent (pending revenue ${fmt(r.pendingRevenueWei)})`
      if (r.status === 'dry-run')
        return currency.native
          ? `Dry run: depositing ${fmt(r.amountWei)} to ${r.token} would cost at most ${fee(r.costWei ?? 0n)} including the amount (gas ${r.gas}); nothing was sent`
          : `Dry run: depositing ${fmt(r.amountWei)} to ${r.token} would cost at most ${fee(r.costWei ?? 0n)} in fees (gas ${r.gas}); nothing was sent`
      const verb =
        r.status === 'sent' ? 'Deposited' : r.status === 'resumed' ? 'Deposit confirmed (resumed):' : 'Already deposited:'
      return [
        `${verb} ${fmt(r.amountWei)} to the IMO token ${r.token}`,
        `  transaction      ${r.txHash}${r.blockNumber !== undefined ? ` (block ${r.blockNumber}, fee ${fee(r.costWei ?? 0n)})` : ''}`,
        `  pending revenue  ${fmt(r.pendingRevenueWei)}, split at the next snapshot`,
      ].join('\n')
    })
  })
  return withExamples(command, [
    'imo revenue deposit 1.5',
    'imo revenue deposit 250 --currency USDC',
    'imo revenue deposit 0.25 --rpc-url https://sepolia.example --account operator --json',
    'imo revenue deposit 1 --key "$CI_PIPELINE_ID" --json   # at most once per key: safe to retry',
    'imo revenue deposit 2 --dry-run',
  ])
}

/** `imo revenue`: revenue that flows into the IMO token (subcommand `deposit`). */
export function revenueCommand(): Command {
  const command = new Command('revenue')
    .summary('revenue sent to the IMO token (deposit), in ether or a listed stablecoin')
    .description('revenue sent to the IMO token; see also imo snapshot, imo claimable, imo claim, imo redeem')
    .addCommand(depositCommand())
  return withExamples(command, [
    'imo revenue deposit 1.5',
    'imo revenue deposit 100 --currency USDC',
    'imo revenue deposit 0.25 --json',
  ])
}
