import { Command } from 'commander'
import { withExamples } from '../cli/help.js'
import { addOptionGroups, deploymentOptions, rpcOptions, signerOptions, txOptions } from '../cli/options.js'

/** `imo refund REQUEST_ID`: pays an expired or unservable request's fee back to its requester. */
export function refundCommand(): Command {
  const command = new Command('refund')
    .summary("pay a paid request's fee back to its requester (after it expired, or once its prompt was minted)")
    .description(
      "pay request REQUEST_ID's escrowed fee back to its requester: allowed from its expiry on, or at once when its prompt was " +
        'minted by another request or mint, or when the collection has no attester left. Anyone may send it; the fee always goes to the requester. A fulfilled request is ' +
        "refused (its fee is the holders' revenue), as is one that can still be fulfilled (exit 3, nothing sent).",
    )
    .argument('<REQUEST_ID>', 'the request id (see `imo requests`)')
  addOptionGroups(command, rpcOptions, signerOptions, txOptions, deploymentOptions)
  command.action(async (idText: string, _options: unknown, cmd: Command) => {
    const { parseWhole, formatNative } = await import('../chain/format.js')
    const requestId = parseWhole(idText, 'REQUEST_ID', { min: 1n, max: 2n ** 256n - 1n }) // a uint256 on chain
    const { connectDeployment } = await import('../cli/connectDeployment.js')
    const { refundRequest } = await import('../requests/refundRequest.js')
    const { printResult } = await import('../cli/ui.js')
    const { ctx, deployment } = await connectDeployment(cmd, { signer: true })
    ;(await import('../requests/refuseZkRequests.js')).refuseZkRequests(deployment)
    const result = await refundRequest(ctx, deployment.aigcCollection.address, requestId)
    const fmt = (wei: bigint) => formatNative(wei, ctx.nativeSymbol)
    printResult(result, (r) =>
      r.status === 'dry-run'
        ? `Dry run: refunding request ${r.requestId} would pay ${fmt(r.feeWei)} back to ${r.requester} (gas ${r.gas}); nothing was sent`
        : `Refunded request ${r.requestId} (${{ expired: 'expired', 'prompt-minted': 'its prompt was minted', 'no-attester': 'no attester left to fulfil it' }[r.reason]}): ${fmt(r.feeWei)} back to ${r.requester}\n  transaction  ${r.txHash}${r.blockNumber !== undefined ? ` (block ${r.blockNumber})` : ''}`,
    )
  })
  return withExamples(command, ['imo refund 3', 'imo refund 12 --json'])
}
