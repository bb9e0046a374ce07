import { Command, Option } from 'commander'
import { withExamples } from '../cli/help.js'
import { addOptionGroups, deploymentOptions, rpcOptions, signerOptions, txOptions } from '../cli/options.js'

/** `imo claim`: claims the signer's revenue from every live snapshot in one transaction. */
export function claimCommand(): Command {
  const command = new Command('claim')
    .summary("claim the signer's revenue from every live snapshot")
    .description(
      "claim the signer's revenue: every live snapshot with something claimable, in every revenue currency of the token " +
        '(or --currency), in one claimBatch transaction (the contract pays the holder; a payout its currency refuses, ' +
        'e.g. a blacklisted USDC holder, is credited on the token and the other currencies are paid). Claims on a snapshot open one second after it is taken: right after `imo snapshot`, ' +
        'claim waits for that (at most a minute, saying so); with --no-wait it exits 3 saying when they open. Nothing to ' +
        'claim exits 0 with a message. An interrupted claim is resumed on re-run. With --credits it withdraws the ' +
        'credited payouts instead, once the currency accepts the transfer again.',
    )
    .addOption(new Option('--snapshot <N>', 'claim only snapshot N'))
    .addOption(
      new Option(
        '--currency <ADDRESS|SYMBOL>',
        'claim only this revenue currency (default: every currency with something claimable)',
      ),
    )
    .addOption(new Option('--no-wait', 'do not wait for claims that open in a moment: exit 3 saying when they open'))
    .addOption(
      new Option(
        '--credits',
        'withdraw the credits instead: payouts an ERC-20 refused (e.g. while USDC blacklisted the holder), one withdrawCredit per currency',
      ).conflicts('snapshot'),
    )
  addOptionGroups(command, rpcOptions, signerOptions, txOptions, deploymentOptions)
  command.action(async (_options, cmd: Command) => {
    const values = cmd.opts()
    const { parseWhole, formatNative } = await import('../chain/format.js')
    const snapshot =
      values.snapshot === undefined
        ? undefined
        : Number(parseWhole(values.snapshot, '--snapshot', { max: BigInt(Number.MAX_SAFE_INTEGER) }))
    const { connectDeployment } = await import('../cli/connectDeployment.js')
    const { claimRevenue } = await import('../revenue/claimRevenue.js')
    const { renderTable } = await import('../cli/table.js')
    const { printResult } = await import('../cli/ui.js')
    const { ctx, deployment } = await connectDeployment(cmd, { signer: true })
    const { note } = await import('../cli/ui.js')
    const { readRevenueCurrencies, resolveCurrency } = await import('../revenue/resolveCurrency.js')
    const token = deployment.imoToken.address
    const currencies =
      values.currency === undefined
        ? await readRevenueCurrencies(ctx, token)
        : [await resolveCurrency(ctx, token, values.currency)]
    const claimOptions = { ...(snapshot === undefined ? {} : { snapshot }), wait: values.wait !== false, onWait: note }
    const fee = (wei: bigint) => formatNative(wei, ctx.nativeSymbol)
    if (values.credits) {
      const { withdrawCredits } = await import('../revenue/withdrawCredits.js')
      const { renderCreditWithdrawals } = await import('../revenue/renderClaim.js')
      const result = await withdrawCredits(ctx, token, currencies)
      printResult({ ...result, chainId: ctx.chainId }, (r) => renderCreditWithdrawals(r, fee))
      return
    }
    // An interrupted (or keyed) claim is resumed in its own kind, whatever --currency says.
    const { claimStepPrefix, findClaimStep } = await import('../revenue/claimStep.js')
    const journalled = findClaimStep(ctx.journal, claimStepPrefix(token, ctx.account!.address), ctx.tx.key)
    const perCurrency = journalled ? journalled.currencies !== undefined : currencies.length > 1 || !currencies[0]!.native
    if (perCurrency) {
      const { claimCurrencies } = await import('../revenue/claimCurrencies.js')
      const { renderCurrencyClaim } = await import('../revenue/renderClaim.js')
      const result = await claimCurrencies(ctx, token, currencies, claimOptions)
      printResult({ ...result, chainId: ctx.chainId }, (r) => renderCurrencyClaim(r, fee))
      return
    }
    const result = await claimRevenue(ctx, token, claimOptions)
    const fmt = fee
    printResult({ ...result, chainId: ctx.chainId, symbol: ctx.nativeSymbol }, (r) => {
      if (r.status === 'nothing') return `Nothing to claim: ${r.reason}`
      const table = renderTable([...r.snapshots.map((s) => [String(s.id), fmt(s.amountWei)]), ['total', fmt(r.totalWei)]], {
        header: ['snapshot', 'amount'],
        align: ['right', 'right'],
      })
      if (r.status === 'dry-run')
        return `Dry run: ${r.holder} would claim\n${table}\n  gas ${r.gas}, at most ${fmt(r.costWei ?? 0n)}; nothing was sent`
      return [
        `Claimed by ${r.holder}${r.status === 'sent' ? '' : ' (resumed)'}`,
        table,
        `  transaction ${r.hash ?? '(ours was replaced; another transaction did it)'}${r.blockNumber !== undefined ? ` (block ${r.blockNumber}, fee ${fmt(r.costWei ?? 0n)})` : ''}`,
      ].join('\n')
    })
  })
  return withExamples(command, [
    'imo claim',
    'imo claim --currency USDC',
    'imo claim --snapshot 3 --json',
    'imo claim --dry-run',
    'imo claim --credits --currency USDC',
  ])
}
