import { Command, Option } from 'commander'
import { withExamples } from '../cli/help.js'
import { addOptionGroups, deploymentOptions, queueConnectionOptions, rpcOptions, signerOptions } from '../cli/options.js'

/** `imo status`: one screen for a deployment. */
export function statusCommand(): Command {
  const command = new Command('status')
    .summary('one screen for a deployment: model, token, pools, collection, paid requests, your claims')
    .description(
      'one screen for a deployment, read at one block: model, token (supply, holders, snapshot timing), pools ' +
        '(pending revenue, live snapshots, redemption), collection, paid requests (fee, timeout, open requests with ' +
        "their escrow and the oldest one's expiry), the signer's (or --address's) balance and " +
        'claimable revenue, and the offering while one is running (imo offer); with --queue, the inference queue of ' +
        '`imo serve --queue` (job counts, failed set, refusing workers). Reads only; sends nothing.',
    )
    .addOption(new Option('--address <ADDRESS>', 'show this account instead of the signer'))
  addOptionGroups(command, queueConnectionOptions, rpcOptions, signerOptions, deploymentOptions)
  command.action(async (_options, cmd: Command) => {
    const values = cmd.opts()
    const { queueUrlFromFlags } = await import('../cli/queueUrlFromFlags.js')
    const queueUrl = await queueUrlFromFlags(cmd) // a bad URL fails before the chain is read
    const { connectChain } = await import('../chain/connect.js')
    const { loadDeployment } = await import('../deployment/deploymentFile.js')
    const { resolveHolder } = await import('../revenue/resolveHolder.js')
    const { readStatus } = await import('../revenue/readStatus.js')
    const { renderStatus } = await import('../revenue/renderStatus.js')
    const { displayUrl } = await import('../chain/toImoError.js')
    const { printResult, withSpinner } = await import('../cli/ui.js')
    const ctx = await connectChain(values, { signer: false })
    const holder = await resolveHolder(ctx, values, values.address, {
      name: '--address',
      sources: (key) => cmd.getOptionValueSource(key),
    })
    const deployment = await loadDeployment(ctx, values.deployment)
    const { readQueueState, renderQueueState } = await import('../queue/readQueueState.js')
    const queue = queueUrl ? await readQueueState(queueUrl) : undefined // a bad queue fails before the long read
    const status = await withSpinner(
      'reading the deployment',
      (progress) => readStatus(ctx, deployment, { ...(holder ? { holder } : {}), onProgress: (text) => progress.update(text) }),
      () => 'read',
    )
    const { readRunningOffering } = await import('../offer/readOffering.js')
    const offering = await readRunningOffering(ctx, values.deployment, holder)
    const { renderOffering } = await import('../offer/renderOffering.js')
    printResult(
      { ...status, ...(offering ? { offering } : {}), ...(queue ? { queue } : {}), rpcUrl: displayUrl(ctx.rpcUrl) },
      () =>
        [
          renderStatus(status),
          ...(offering ? [`\nOffering\n${renderOffering(offering, ctx.nativeSymbol)}`] : []),
          ...(queue ? [`\nQueue\n${renderQueueState(queue)}`] : []),
        ].join('\n'),
    )
  })
  return withExamples(command, [
    'imo status',
    'imo status --address 0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    'imo status --queue redis://10.0.0.5:6379/0',
    'imo status --json --rpc-url https://sepolia.example --deployment .imo/deployments/11155111/default.json',
  ])
}
