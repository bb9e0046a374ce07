/**
 * The last stage of `imo demo`: the report. Puts the stages' results together, decides `ok` (the
 * token verified, the API payment landed in the token exactly, revenue in the pool, both holders
 * paid in both currencies), and with --keep records the devnet for the other commands and lists
 * what to try next. Written atomically to `<out>/demo.json`.
 */
import { join, relative } from 'node:path'
import { writeFileAtomic } from '../util/writeFileAtomic.js'
import type { DemoDeployment, DemoReport, DemoRun, DemoUsdc } from './demoReport.js'
import type { DemoRevenue } from './shareDemoRevenue.js'

export interface DemoResults {
  usdc: DemoUsdc
  deployed: DemoDeployment
  mintFeeWei: bigint
  mints: DemoReport['mints']
  feesToTokenWei: bigint
  request?: DemoReport['request']
  apiCall?: DemoReport['apiCall']
  revenue: DemoRevenue
  verification: DemoReport['verification']
}

/**
 * Builds, records and writes the report.
 * @param started - performance.now() at the demo's start.
 * @example
 * const report = await writeDemoReport(run, results, started, timings)
 */
export async function writeDemoReport(
  run: DemoRun,
  results: DemoResults,
  started: number,
  timings: Record<string, number>,
): Promise<DemoReport> {
  const { deployed, revenue, usdc, apiCall, request, verification } = results
  const reportFile = join(run.outDir, 'demo.json')
  const report: DemoReport = {
    ok:
      verification.ok &&
      (!apiCall || apiCall.tokenReceivedWei === apiCall.paidWei) &&
      revenue.claims.every((c) => c.totalWei > 0n && c.totalUsdc > 0n) &&
      revenue.snapshot.toClaimPoolWei > 0n,
    durationMs: 0,
    outDir: run.outDir,
    reportFile,
    chain: { rpcUrl: run.chain.rpcUrl, chainId: run.base.chainId, pid: run.chain.pid, running: run.keep },
    model: { path: run.modelPath, modelHash: deployed.deployment.modelHash },
    imoToken: deployed.token,
    aigcCollection: deployed.collection,
    ...(run.keep ? { deploymentFile: deployed.deploymentFile } : {}),
    mintFeeWei: results.mintFeeWei,
    mints: results.mints,
    feesToTokenWei: results.feesToTokenWei,
    ...(request ? { request } : {}),
    ...(apiCall ? { apiCall } : {}),
    revenue: {
      depositWei: revenue.depositWei,
      snapshotId: revenue.snapshot.snapshotId,
      claimPoolWei: revenue.snapshot.toClaimPoolWei,
      toRedemptionWei: revenue.snapshot.toRedemptionWei,
    },
    usdc: { address: usdc.address, symbol: usdc.symbol, decimals: usdc.decimals, deposit: revenue.usdcDeposit },
    holders: (['deployer', 'second holder'] as const).map((role, i) => ({
      role,
      address: revenue.claims[i]!.holder,
      balanceWei: revenue.balances[i]!,
      claimedWei: revenue.claims[i]!.totalWei,
      claimedUsdc: revenue.claims[i]!.totalUsdc,
      ...(revenue.claims[i]!.hash ? { claimTx: revenue.claims[i]!.hash } : {}),
    })),
    verification,
    timings,
  }
  if (run.keep) {
    const { writeDevnetFile } = await import('../devnet/devnetFile.js')
    writeDevnetFile(
      { rpcUrl: run.chain.rpcUrl, chainId: run.base.chainId, pid: run.chain.pid, startedAt: new Date().toISOString() },
      run.cwd,
    )
    report.next = nextCommands(run, verification.tokenId, usdc.address)
  }
  report.durationMs = Math.round(performance.now() - started)
  const { toJson } = await import('../cli/ui.js')
  writeFileAtomic(reportFile, `${toJson(report)}\n`)
  return report
}

/** What to try on the kept devnet. */
function nextCommands(run: DemoRun, tokenId: string, usdc: string): string[] {
  return [
    'imo status',
    'imo claimable',
    'imo infer-and-mint "a blue square"',
    'imo requests',
    'imo serve --until-idle   # fulfils the open paid requests (imo request PROMPT, from another account)',
    `imo serve --http 8402 --price 0.5 --currency ${usdc} --no-follow   # the paid API; then, from another terminal:`,
    'imo ask "a blue square" --api http://127.0.0.1:8402 --max-price 0.5   # pays 0.5 USDC into the token',
    'imo revenue deposit 0.5',
    'imo revenue deposit 100 --currency USDC',
    'imo snapshot --yes',
    'imo claim',
    `imo verify --token ${tokenId} --metadata-dir ${relative(run.cwd, run.outDir) || '.'}`,
    `kill ${run.chain.pid}   # stop the devnet (then remove .imo/devnet.json and .imo/deployments/31337/default.json)`,
  ]
}
