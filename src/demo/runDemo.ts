/**
 * `imo demo` behind its command file: the whole loop on a local chain with the bundled model, in
 * process, as stages (one module each, in this order):
 *
 *   prepareDemo       the output folder (and with --keep, nothing of a previous devnet in the way)
 *   startDemoChain    anvil on a free port
 *   deployDemo        the test USDC, the token (ERC-7641) and the collection (ERC-7007)
 *   mintDemo          three prompts run and minted (0.01 ETH fee each, to the token)
 *   sellDemoShares    30% of the supply sold in a short sale to a second holder (anvil dev account 1)
 *   serveDemoRequest  a model user (dev account 2) pays for a prompt on chain; `imo serve` fulfils it
 *   askDemoApi        the same user pays 1 test USDC for a call of serve's HTTP API (x402, into the token)
 *   shareDemoRevenue  1 ETH and 250 USDC deposited, a snapshot (fees and the API payment in it), both holders claim
 *   verifyDemoToken   one token verified by re-running the model
 *   writeDemoReport   the report, `<out>/demo.json`
 *
 * The chain is stopped at the end (or on an error or Ctrl-C). State never touches the working
 * folder's `.imo/`: the journal lives in `<out>/.imo/` and, without --keep, the deployment file too
 * (both removed at the end, the chain being gone). With --keep, the chain keeps running in the
 * background and the deployment and `.imo/devnet.json` are recorded in the working folder, so the
 * other commands act on it.
 */
import { rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { ChainContext } from '../chain/connect.js'
import type { DemoOptions, DemoReport, DemoRun } from './demoReport.js'
import { DEMO_SETTINGS } from './demoSettings.js'
import { type DemoProgress, demoStep } from './demoStep.js'
import type { DemoChain } from './startDemoChain.js'

export type { DemoOptions, DemoReport } from './demoReport.js'
export * from './demoSettings.js'

/**
 * Runs the demo.
 * @param options - output folder, --keep, working folder, model.
 * @param progress - spinner factory (stderr); each step gets one.
 * @returns the report (also written to `<out>/demo.json`).
 * @throws UsageError when --out holds other files, or with --keep when the working folder already has a devnet
 *   or a deployment for chain 31337; any step's error (the chain is stopped first).
 * @example
 * import { runDemo } from './demo/runDemo.js'
 * const report = await runDemo({ out: 'imo-demo' })
 * report.holders.map((h) => h.claimedWei) // [362250000000000000n, 155250000000000000n]
 */
export async function runDemo(
  options: DemoOptions = {},
  progress: DemoProgress = async () => ({ succeed() {}, fail() {} }),
): Promise<DemoReport> {
  const started = performance.now()
  const cwd = options.cwd ?? process.cwd()
  const outDir = resolve(cwd, options.out ?? 'imo-demo')
  const keep = Boolean(options.keep)
  const { deploymentPath } = await import('../deployment/deploymentFile.js')
  const keptDeployment = deploymentPath(31337, 'default', cwd)
  const { prepareDemo } = await import('./prepareDemo.js')
  await prepareDemo({ cwd, outDir, keep, keptDeployment })
  const stateRoot = join(outDir, '.imo')
  const timings: Record<string, number> = {}
  const step = demoStep(progress, timings)
  const { startDemoChain } = await import('./startDemoChain.js')
  const chain = await startDemoChain(step, { outDir, keep })
  const { onInterrupt } = await import('../util/interrupt.js')
  const releaseInterrupt = onInterrupt(() => chain.stop())
  let finished = false
  try {
    const run = await demoRun(options, { cwd, outDir, stateRoot, keep, step }, chain)
    const report = await runStages(run, keptDeployment, started, timings)
    finished = true
    return report
  } finally {
    releaseInterrupt()
    if (!keep || !finished) await chain.stop()
    if (!keep) rmSync(stateRoot, { recursive: true, force: true })
  }
}

/** The stages after the chain, in order; each one's results feed the next and the report. */
async function runStages(
  run: DemoRun,
  keptDeployment: string,
  started: number,
  timings: Record<string, number>,
): Promise<DemoReport> {
  const { parseEther } = await import('viem')
  const { deployDemo } = await import('./deployDemo.js')
  const { usdc, deployed } = await deployDemo(run, keptDeployment)
  const { mintDemo } = await import('./mintDemo.js')
  const { mints, feesToTokenWei } = await mintDemo(run, deployed)
  const { sellDemoShares } = await import('./sellDemoShares.js')
  await sellDemoShares(run, deployed)
  // zk: a zk collection takes no paid requests and has no attester to sign API answers.
  const zk = run.model === 'zk'
  const request = zk ? undefined : await (await import('./serveDemoRequest.js')).serveDemoRequest(run, deployed)
  const apiCall = zk ? undefined : await (await import('./askDemoApi.js')).askDemoApi(run, deployed, usdc)
  const { shareDemoRevenue } = await import('./shareDemoRevenue.js')
  const revenue = await shareDemoRevenue(run, deployed, usdc)
  const { verifyDemoToken } = await import('./verifyDemoToken.js')
  const verification = await verifyDemoToken(run, deployed, mints[0]!.tokenId)
  const { writeDemoReport } = await import('./writeDemoReport.js')
  return writeDemoReport(
    run,
    {
      usdc,
      deployed,
      mintFeeWei: parseEther(DEMO_SETTINGS.mintFee),
      mints,
      feesToTokenWei,
      ...(request ? { request } : {}),
      ...(apiCall ? { apiCall } : {}),
      revenue,
      verification,
    },
    started,
    timings,
  )
}

/** The run every stage works in: the chain, the read-only context and the three dev accounts' signers. */
async function demoRun(
  options: DemoOptions,
  folders: Pick<DemoRun, 'cwd' | 'outDir' | 'stateRoot' | 'keep' | 'step'>,
  chain: DemoChain,
): Promise<DemoRun> {
  const { connectChain } = await import('../chain/connect.js')
  const { Journal } = await import('../chain/journal.js')
  const { privateKeyToAccount } = await import('viem/accounts')
  const { ANVIL_DEV_ACCOUNTS } = await import('../devnet/startAnvil.js')
  const { bundledModelPath } = await import('./bundledModel.js')
  const base = await connectChain({ rpcUrl: chain.rpcUrl }, { signer: false })
  const signer = (index: 0 | 1 | 2): ChainContext => {
    const account = privateKeyToAccount(ANVIL_DEV_ACCOUNTS[index].privateKey)
    return { ...base, account, journal: Journal.open(base.chainId, account.address, folders.stateRoot) }
  }
  return {
    ...folders,
    model: options.model,
    modelPath: bundledModelPath(options.model),
    chain: { rpcUrl: chain.rpcUrl, pid: chain.pid },
    base,
    deployer: signer(0),
    holder: signer(1),
    user: signer(2),
  }
}
