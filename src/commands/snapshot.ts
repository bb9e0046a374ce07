import { Command } from 'commander'
import { withExamples } from '../cli/help.js'
import { addOptionGroups, deploymentOptions, rpcOptions, signerOptions, txOptions } from '../cli/options.js'

/** `imo snapshot`: takes the next snapshot when the interval allows it. */
export function snapshotCommand(): Command {
  const command = new Command('snapshot')
    .summary("take the IMO token's next snapshot (splits the pending revenue)")
    .description(
      "take the IMO token's next snapshot: split the pending revenue between the holders' claim pool and the " +
        'redemption pool, and roll over the snapshot that leaves the claim window. Before the interval allows it, says ' +
        'when it will (date and time left), sends nothing and exits 3. Asks for confirmation on a terminal; needs --yes ' +
        'otherwise. An interrupted snapshot is resumed on re-run.',
    )
  addOptionGroups(command, rpcOptions, signerOptions, txOptions, deploymentOptions)
  command.action(async (_options, cmd: Command) => {
    const values = cmd.opts()
    const { connectDeployment } = await import('../cli/connectDeployment.js')
    const { takeSnapshot } = await import('../revenue/takeSnapshot.js')
    const { formatNative } = await import('../chain/format.js')
    const { formatWhen } = await import('../cli/time.js')
    const { printResult } = await import('../cli/ui.js')
    const { ctx, deployment } = await connectDeployment(cmd, { signer: true })
    const result = await takeSnapshot(ctx, deployment.imoToken.address, { yes: Boolean(values.yes) })
    const fmt = (wei: bigint) => formatNative(wei, ctx.nativeSymbol)
    printResult({ ...result, chainId: ctx.chainId, symbol: ctx.nativeSymbol }, (r) => {
      if (r.status === 'cancelled') return 'Cancelled: nothing was sent'
      const split = [
        `  pending revenue  ${fmt(r.pendingRevenueWei)}`,
        `  to holders       ${fmt(r.toClaimPoolWei)}${r.rolledOverWei > 0n ? ` + ${fmt(r.rolledOverWei)} rolled over from snapshot ${r.expiresSnapshot}` : ''}`,
        `  to redemption    ${fmt(r.toRedemptionWei)}`,
      ]
      if (r.status === 'dry-run')
        return [
          `Dry run: snapshot ${r.snapshotId} would split:`,
          ...split,
          `  gas ${r.gas}, at most ${fmt(r.costWei ?? 0n)}; nothing was sent`,
        ].join('\n')
      return [
        `Snapshot ${r.snapshotId} taken${r.status === 'sent' ? '' : ' (resumed)'}`,
        ...split,
        `  claim pool       ${fmt(r.claimPoolWei ?? 0n)}`,
        `  transaction      ${r.txHash ?? '(ours was replaced; another transaction did it)'}${r.blockNumber !== undefined ? ` (block ${r.blockNumber}, fee ${fmt(r.costWei ?? 0n)})` : ''}`,
        ...(r.followingSnapshotAt ? [`  next snapshot    ${formatWhen(r.followingSnapshotAt, r.now)}`] : []),
      ].join('\n')
    })
  })
  return withExamples(command, ['imo snapshot', 'imo snapshot --yes --json', 'imo snapshot --dry-run'])
}
