/**
 * The human rendering of `imo demo`'s report (stdout): addresses, model hash, the images, the paid
 * request and its fulfilment, the paid API call and its settlement, each holder's claim, the verification, and with --keep the commands to try next.
 */
import { relative } from 'node:path'
import { formatNative, formatUnits } from '../chain/format.js'
import type { DemoReport } from './demoReport.js'

/**
 * Renders the demo report for people.
 * @param report - what runDemo returned.
 * @returns the text (no trailing newline).
 * @example
 * import { renderDemo } from './renderDemo.js'
 * console.log(renderDemo(report)) // 'imo demo: the whole loop in 14.2 s …'
 */
export function renderDemo(report: DemoReport): string {
  const path = (p: string) => {
    const rel = relative(process.cwd(), p)
    return rel && !rel.startsWith('..') ? rel : p
  }
  const share = (wei: bigint, total: bigint) => (total === 0n ? '0' : (Number((wei * 10_000n) / total) / 100).toFixed(2))
  const usdc = (amount: bigint) => formatUnits(amount, report.usdc.decimals, report.usdc.symbol)
  const supply = report.holders.reduce((sum, h) => sum + h.balanceWei, 0n)
  const lines = [
    `imo demo: the whole loop in ${(report.durationMs / 1000).toFixed(1)} s on a local chain (${report.chain.rpcUrl}, chain ${report.chain.chainId})`,
    `  model          ${path(report.model.path)}  hash ${report.model.modelHash}`,
    `  IMO token      ${report.imoToken}  (ERC-7641, revenue sharing)`,
    `  collection     ${report.aigcCollection}  (ERC-7007, verifiable AI content)`,
    `  minted ${report.mints.length} tokens, ${formatNative(report.mintFeeWei)} fee each (${formatNative(report.feesToTokenWei)} went to the token):`,
    ...report.mints.map((m) =>
      m.text === undefined
        ? `    "${m.prompt}"  ${path(m.image)}`
        : `    "${m.prompt}" -> ${JSON.stringify(m.text)}  ${path(m.image)}`,
    ),
    ...(report.request
      ? [
          `  paid request   a model user ${report.request.requester} paid ${formatNative(report.request.feeWei)} for "${report.request.prompt}"; imo serve fulfilled request ${report.request.requestId}:`,
          report.request.text === undefined
            ? `    token ${report.request.tokenId.slice(0, 12)}… to the user  ${path(report.request.image)}`
            : `    token ${report.request.tokenId.slice(0, 12)}… to the user -> ${JSON.stringify(report.request.text)}  ${path(report.request.image)}`,
        ]
      : ['  zk             the collection checked a PLONK proof of each image on chain (no attester; INSECURE demo setup)']),
    ...(report.apiCall
      ? [
          `  paid API call  the model user paid ${usdc(report.apiCall.paidWei)} for "${report.apiCall.prompt}" at ${report.apiCall.url} (x402); the token received ${usdc(report.apiCall.tokenReceivedWei)}, settlement ${report.apiCall.settlementTxHash}:`,
          `    attested by ${report.apiCall.attester}${report.apiCall.text === undefined ? '' : ` -> ${JSON.stringify(report.apiCall.text)}`}  ${path(report.apiCall.image ?? report.apiCall.file)}`,
        ]
      : []),
    `  revenue        ${formatNative(report.revenue.depositWei)} deposited + the ${report.request ? 'mint and request fees' : 'mint fees'}; snapshot ${report.revenue.snapshotId} put ${formatNative(report.revenue.claimPoolWei)} in the holders' pool, ${formatNative(report.revenue.toRedemptionWei)} in the redemption pool`,
    `  USDC revenue   ${usdc(report.usdc.deposit)} deposited${report.apiCall ? ` + the API payment` : ''} in the devnet's test USDC ${report.usdc.address}, a revenue currency of the token`,
    ...report.holders.map(
      (h) =>
        `  ${h.role.padEnd(14)} ${h.address} holds ${share(h.balanceWei, supply)}%, claimed ${formatNative(h.claimedWei)} and ${usdc(h.claimedUsdc)}`,
    ),
    `  verification   token ${report.verification.tokenId.slice(0, 12)}… ${report.verification.ok ? 'verified by re-running the model' : 'FAILED'} (${report.verification.checks.filter((c) => c.status === 'pass').length} checks passed${
      report.verification.checks.some((c) => c.status === 'fail')
        ? `; failed: ${report.verification.checks
            .filter((c) => c.status === 'fail')
            .map((c) => c.name)
            .join(', ')}`
        : ''
    })`,
    `  report         ${path(report.reportFile)}`,
  ]
  if (report.next) {
    lines.push(
      `The devnet keeps running (pid ${report.chain.pid}); the deployment is recorded in ${path(report.deploymentFile ?? '')}. Try:`,
    )
    lines.push(...report.next.map((n) => `  ${n}`))
  } else lines.push('The devnet was stopped. `imo demo --keep` leaves it running for the other commands.')
  return lines.join('\n')
}
