import { Command, Option } from 'commander'
import type { ChainOptionValues } from '../chain/connect.js'
import { withExamples } from '../cli/help.js'
import { addOptionGroups, deploymentOptions, rpcOptions, signerOptions, txOptions } from '../cli/options.js'

/** `imo request PROMPT`: pay the request fee for the model's output on a prompt (the user side). */
export function requestCommand(): Command {
  const command = new Command('request')
    .summary("pay the request fee for the model's output on PROMPT (the operator's `imo serve` fulfils it)")
    .description(
      "pay the collection's request fee (escrowed on chain) for the model's output on PROMPT, minted to --to (default: " +
        "the signer) by the operator's `imo serve`; the fee becomes the token holders' revenue when fulfilled, and comes back " +
        'with `imo refund ID` when the request expires or its prompt was minted meanwhile. The request carries the timeout ' +
        'imo read: if the owner raises it before the request is mined, the request is refused and no fee is taken. With --wait, waits for the token ' +
        '(up to --timeout) and re-checks it like `imo verify --token` (exit 9 if a check fails, 5 when not fulfilled in time). ' +
        'Re-running after an interruption resumes the same payment, never a second one.',
    )
    .argument('<PROMPT>', 'text for the model (1 to 4096 bytes)')
    .addOption(new Option('--to <ADDRESS>', 'recipient of the token (default: the signer)'))
    .addOption(
      new Option('--fee <ETH>', 'the fee you agree to pay; refused when the collection asks another (default: its current fee)'),
    )
    .addOption(new Option('--wait', 'wait for the fulfilment, print the token and re-check it (up to --timeout, default 120 s)'))
    .addOption(new Option('--metadata-dir <DIR>', 'with --wait: where to find files named by ipfs:// token URIs (default: out)'))
  addOptionGroups(command, rpcOptions, signerOptions, txOptions, deploymentOptions)
  command.action(async (prompt: string, _options: unknown, cmd: Command) => {
    const values = cmd.opts() as ChainOptionValues & { to?: string; fee?: string; wait?: boolean; metadataDir?: string }
    const { checkRequestPrompt, sendRequest } = await import('../requests/sendRequest.js')
    checkRequestPrompt(prompt) // before any RPC
    const { parseAddress } = await import('../util/parseAddress.js')
    const { parseAmount, formatNative } = await import('../chain/format.js')
    const to = values.to ? await parseAddress(values.to, '--to') : undefined
    const fee = values.fee !== undefined ? parseAmount(values.fee, { name: '--fee', allowZero: true }) : undefined
    const { connectDeployment } = await import('../cli/connectDeployment.js')
    const { printResult, note } = await import('../cli/ui.js')
    const { ctx, deployment } = await connectDeployment(cmd, { signer: true })
    ;(await import('../requests/refuseZkRequests.js')).refuseZkRequests(deployment)
    const collection = deployment.aigcCollection.address
    const fmt = (wei: bigint) => formatNative(wei, ctx.nativeSymbol)
    const sent = await sendRequest(ctx, collection, {
      prompt,
      ...(to ? { to } : {}),
      ...(fee !== undefined ? { expectedFeeWei: fee } : {}),
    })
    if (sent.status === 'dry-run') {
      printResult(sent, (r) => `Dry run: requesting would pay ${fmt(r.feeWei)} plus gas (${r.gas}); nothing was sent`)
      return
    }
    const verb = {
      sent: 'Requested',
      resumed: 'Requested (resumed)',
      existing: 'Already requested (still open)',
      fulfilled: 'Already requested and fulfilled',
    }[sent.status]
    note(
      sent.status === 'fulfilled'
        ? `${verb}: request ${sent.requestId}, token to ${sent.recipient}; nothing was sent`
        : `${verb}: request ${sent.requestId} for ${fmt(sent.feeWei)}, token to ${sent.recipient}; refundable from ${new Date(sent.expiresAt! * 1000).toISOString()} if not fulfilled`,
    )
    const { toHex } = await import('viem')
    if (!values.wait) {
      printResult(sent, (r) =>
        [
          `request ${r.requestId}`,
          `  fee          ${fmt(r.feeWei)} (escrowed until fulfilled or refunded)`,
          `  recipient    ${r.recipient}`,
          `  transaction  ${r.txHash}${r.blockNumber !== undefined ? ` (block ${r.blockNumber})` : ''}`,
          r.status === 'fulfilled'
            ? `  fulfilled    token ${toHex(r.tokenId, { size: 32 })} (--wait shows and re-checks it)`
            : `  expires      ${new Date(r.expiresAt! * 1000).toISOString()} (then: imo refund ${r.requestId})`,
        ].join('\n'),
      )
      return
    }
    const { waitForFulfilment } = await import('../requests/waitForFulfilment.js')
    const { withSpinner } = await import('../cli/ui.js')
    const fulfilment = await withSpinner(
      `waiting for request ${sent.requestId} to be fulfilled`,
      () =>
        waitForFulfilment(ctx, collection, sent.requestId!, {
          timeoutMs: ctx.tx.timeoutMs,
          ...(sent.blockNumber !== undefined ? { fromBlock: sent.blockNumber } : {}),
          expiresAt: sent.expiresAt!,
        }),
      (f) => `request ${sent.requestId} ${f.status}`,
    )
    const { SimulationRevertedError } = await import('../errors.js')
    if (fulfilment.status === 'refunded')
      throw new SimulationRevertedError(`request ${sent.requestId} was refunded before it was fulfilled; no token was minted`)
    const modelPath = deployment.model?.path
    const { UsageError } = await import('../errors.js')
    if (!modelPath) throw new UsageError('the token was minted, but the deployment records no model to re-check it with')
    const { verifyToken } = await import('../verify/verifyToken.js')
    const { ChecksFailedError, renderChecks } = await import('../verify/checks.js')
    const report = await withSpinner(
      're-checking the token (imo verify --token)',
      () =>
        verifyToken(ctx, {
          collection,
          tokenId: fulfilment.tokenId,
          modelPath,
          ...(values.metadataDir ? { metadataDir: values.metadataDir } : {}),
          ...(deployment.aigcCollection.blockNumber ? { fromBlock: BigInt(deployment.aigcCollection.blockNumber) } : {}),
        }),
      (r) => (r.ok ? 'token re-checked: every check passed' : 'token re-checked: a check FAILED'),
    )
    const result = { ...sent, fulfilment, verification: report }
    if (!report.ok) throw new ChecksFailedError(report)
    printResult(result, (r) =>
      [
        `request ${r.requestId} fulfilled: token ${r.fulfilment.tokenIdHex} owned by ${r.recipient}`,
        `  artifact URI  ${r.fulfilment.tokenUri ?? '(none)'}`,
        ...(r.fulfilment.txHash ? [`  transaction   ${r.fulfilment.txHash} (block ${r.fulfilment.blockNumber})`] : []),
        renderChecks(r.verification),
      ].join('\n'),
    )
  })
  return withExamples(command, [
    'imo request "a red spiral"',
    'imo request "ocean waves" --to 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --wait --timeout 300',
    'imo request "a blue square" --fee 0.001 --json',
  ])
}
