import { Command } from 'commander'
import { withExamples } from '../cli/help.js'
import { addOptionGroups, deploymentOptions, rpcOptions, signerOptions, txOptions } from '../cli/options.js'

/** `imo revenue deposit AMOUNT`: sends revenue (native currency) to the deployment's IMO token. */
function depositCommand(): Command {
  const command = new Command('deposit')
    .summary('send revenue (native currency) to the IMO token')
    .description(
      "send AMOUNT of native currency to the IMO token as revenue (what a model's earnings do); it is split at the " +
        'next snapshot. Re-running after an interruption resumes the same deposit from the journal, never a second one. ' +
        'With --key K a deposit is made at most once per key (a re-run reports it); without a key, the same amount again ' +
        'in the same snapshot period is confirmed on a terminal and refused without one.',
    )
    .argument('<AMOUNT>', 'amount in the native unit, e.g. 1.5 (= 1.5 ETH)')
    .exitOverride()
  addOptionGroups(command, rpcOptions, signerOptions, txOptions, deploymentOptions)
  command.action(async (amountText: string, _options, cmd: Command) => {
    const { parseAmount, formatNative } = await import('../chain/format.js')
    const amount = parseAmount(amountText, { name: 'AMOUNT' })
    const { connectDeployment } = await import('../cli/connectDeployment.js')
    const { depositRevenue } = await import('../revenue/depositRevenue.js')
    const { printResult } = await import('../cli/ui.js')
    const { ctx, deployment } = await connectDeployment(cmd, { signer: true })
    const result = await depositRevenue(ctx, deployment.imoToken.address, amount)
    const fmt = (wei: bigint) => formatNative(wei, ctx.nativeSymbol)
    printResult({ ...result, chainId: ctx.chainId, symbol: ctx.nativeSymbol }, (r) => {
      if (r.status === 'cancelled') return `Cancelled: nothing was sent (pending revenue ${fmt(r.pendingRevenueWei)})`
      if (r.status === 'dry-run')
        return `Dry run: depositing ${fmt(r.amountWei)} to ${r.token} would cost at most ${fmt(r.costWei ?? 0n)} including the amount (gas ${r.gas}); nothing was sent`
      const verb =
        r.status === 'sent' ? 'Deposited' : r.status === 'resumed' ? 'Deposit confirmed (resumed):' : 'Already deposited:'
      return [
        `${verb} ${fmt(r.amountWei)} to the IMO token ${r.token}`,
        `  transaction      ${r.txHash}${r.blockNumber !== undefined ? ` (block ${r.blockNumber}, fee ${fmt(r.costWei ?? 0n)})` : ''}`,
        `  pending revenue  ${fmt(r.pendingRevenueWei)}, split at the next snapshot`,
      ].join('\n')
    })
  })
  return withExamples(command, [
    'imo revenue deposit 1.5',
    'imo revenue deposit 0.25 --rpc-url https://sepolia.example --account operator --json',
    'imo revenue deposit 1 --key "$CI_PIPELINE_ID" --json   # at most once per key: safe to retry',
    'imo revenue deposit 2 --dry-run',
  ])
}

/** `imo revenue`: revenue that flows into the IMO token (subcommand `deposit`). */
export function revenueCommand(): Command {
  const command = new Command('revenue')
    .summary('revenue sent to the IMO token (deposit)')
    .description('revenue sent to the IMO token; see also imo snapshot, imo claimable, imo claim, imo redeem')
    .addCommand(depositCommand())
  return withExamples(command, ['imo revenue deposit 1.5', 'imo revenue deposit 0.25 --json'])
}
