/**
 * `imo demo` behind its command file: the whole loop on a local chain with the bundled model, in
 * process. Starts anvil on a free port, deploys the token and the collection (0.01 ETH mint fee,
 * 0.005 ETH request fee, 1 s snapshot interval), runs and mints three prompts, sells 30% of the supply in
 * a short fixed-price sale (`imo offer`) that a second holder (anvil dev account 1) buys out, has a model
 * user (anvil dev account 2) pay for a prompt with `request` and the operator's node (`imo serve`, in
 * process, until idle) fulfil it, deposits 1 ETH and 250 test USDC of revenue (the devnet's TestUsdc, a
 * revenue currency of the token), takes a snapshot (the mint and request fees are in it), claims both
 * currencies for both holders (each signing with its own key), verifies one token by re-executing
 * the model, and stops the chain.
 *
 * State never touches the working folder's `.imo/`: the journal lives in `<out>/.imo/` and, without
 * --keep, the deployment file too (both removed at the end, the chain being gone). With --keep, the
 * chain keeps running in the background and the deployment and `.imo/devnet.json` are recorded in
 * the working folder, so the other commands act on it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import type { Address, Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import { ImoError, UsageError } from '../errors.js'
import { writeFileAtomic } from '../util/writeFileAtomic.js'

export const DEMO_PROMPTS = ['a red spiral', 'ocean waves at dusk', 'a field of neon stars'] as const
/** The prompts of `imo demo --model tinylm`, the bundled text model. */
export const DEMO_TEXT_PROMPTS = ['The river', 'The market opened at', 'A small robot'] as const
/** The prompt the model user pays for (cppn, tinylm). */
export const DEMO_REQUEST_PROMPTS = { cppn: 'a violet lattice at noon', tinylm: 'The old lighthouse' } as const
/** The bundled models the demo can run. */
export const DEMO_MODELS = ['cppn', 'tinylm', 'zk'] as const
export type DemoModel = (typeof DEMO_MODELS)[number]
export const DEMO_SETTINGS = {
  name: 'Pattern Model',
  symbol: 'PAT',
  supply: 1_000_000n,
  mintFee: '0.01',
  /** Fee of a paid request (`imo request`), escrowed until `imo serve` fulfils it. */
  requestFee: '0.005',
  snapshotInterval: 1,
  /** Whole tokens the second holder buys in a short sale (30%). */
  transfer: 300_000n,
  /** Price per token in that sale (ETH). */
  salePrice: '0.000001',
  deposit: '1',
  /** Revenue paid in the devnet's test USDC (a revenue currency of the demo's token). */
  usdcDeposit: '250',
} as const
const MARKER = '.imo-demo'

export interface DemoOptions {
  /** Output folder (default `imo-demo` in the working folder). */
  out?: string
  /** Leave the devnet running with the state, recorded in the working folder. */
  keep?: boolean
  cwd?: string
  /** The bundled model: `cppn` (images, default) or `tinylm` (text). */
  model?: DemoModel
}

export interface DemoReport {
  ok: boolean
  durationMs: number
  outDir: string
  reportFile: string
  chain: { rpcUrl: string; chainId: number; pid: number; running: boolean }
  model: { path: string; modelHash: Hex }
  imoToken: Address
  aigcCollection: Address
  deploymentFile?: string
  mintFeeWei: bigint
  /** `image` is the artifact's path (the PNG, or text.txt for tinylm, whose text is in `text`). */
  mints: Array<{ prompt: string; tokenIdHex: Hex; txHash?: Hex; feeWei: bigint; image: string; record: string; text?: string }>
  /** Native currency the token received from the three mint fees. */
  feesToTokenWei: bigint
  /**
   * The paid request: a model user's fee, fulfilled by the in-process `imo serve`; the fee is in the
   * snapshot. Absent for `zk` (a zk collection takes no paid requests: anyone mints with a proof).
   */
  request?: {
    prompt: string
    requester: Address
    recipient: Address
    requestId: bigint
    feeWei: bigint
    requestTxHash?: Hex
    tokenIdHex: Hex
    fulfilTxHash?: Hex
    /** The artifact's path (PNG, or text.txt for tinylm, whose text is in `text`). */
    image: string
    text?: string
    /** From paying the fee to the fulfilment's receipt (serve's start-up included). */
    servedMs: number
  }
  revenue: { depositWei: bigint; snapshotId: number; claimPoolWei: bigint; toRedemptionWei: bigint }
  /** The devnet's test USDC, a revenue currency of the token: its address and the revenue deposited in it (6 decimals). */
  usdc: { address: Address; symbol: string; decimals: number; depositWei: bigint }
  holders: Array<{
    role: 'deployer' | 'second holder'
    address: Address
    balanceWei: bigint
    claimedWei: bigint
    /** USDC claimed (smallest unit, 6 decimals). */
    claimedUsdcWei: bigint
    claimTxHash?: Hex
  }>
  verification: { tokenIdHex: Hex; ok: boolean; checks: Array<{ name: string; status: string; detail: string }> }
  timings: Record<string, number>
  next?: string[]
}

/** The zk demo's verifier and layout, with keys made from an insecure ptau in imo's cache (made once). */
async function demoZkDeploy(modelPath: string) {
  const { cachedInsecurePtau } = await import('../zk/writeInsecurePtau.js')
  const { zkVerifierForDeploy } = await import('../zk/zkVerifierForDeploy.js')
  return zkVerifierForDeploy(modelPath, { ptau: await cachedInsecurePtau(15), allowInsecurePtau: true })
}

/** The inference folder under `outDir` whose record is for `promptHash` (serve writes one per request). */
function findOutputFolder(outDir: string, promptHash: Hex): string {
  for (const entry of readdirSync(outDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue
    const file = join(outDir, entry.name, 'record.json')
    if (!existsSync(file)) continue
    const record = JSON.parse(readFileSync(file, 'utf8')) as { promptHash?: string }
    if (record.promptHash?.toLowerCase() === promptHash.toLowerCase()) return join(outDir, entry.name)
  }
  throw new ImoError(`imo serve wrote no inference folder for the prompt ${promptHash} under ${outDir}`)
}

function prepareOutDir(outDir: string): void {
  if (existsSync(outDir)) {
    const entries = readdirSync(outDir)
    if (entries.length > 0 && !entries.includes(MARKER))
      throw new UsageError(`the output folder ${outDir} holds other files; pass another --out DIR or empty it`)
    // A previous demo's folder: its chain is gone, start afresh.
    rmSync(outDir, { recursive: true, force: true })
  }
  mkdirSync(outDir, { recursive: true })
  writeFileSync(join(outDir, MARKER), 'made by `imo demo`; the next demo run replaces this folder\n')
}

/**
 * Runs the demo.
 * @param options - output folder, --keep, working folder.
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
  progress: (text: string) => Promise<{ succeed(text?: string): void; fail(text?: string): void }> = async () => ({
    succeed() {},
    fail() {},
  }),
): Promise<DemoReport> {
  const started = performance.now()
  const cwd = options.cwd ?? process.cwd()
  const outDir = resolve(cwd, options.out ?? 'imo-demo')
  const keep = Boolean(options.keep)
  const { deploymentPath } = await import('../deployment/deploymentFile.js')
  const { readDevnetFile, writeDevnetFile } = await import('../devnet/devnetFile.js')
  const keptDeployment = deploymentPath(31337, 'default', cwd)
  if (keep) {
    const running = readDevnetFile(cwd)
    if (running)
      throw new UsageError(`a devnet is already running for this folder (pid ${running.pid}, ${running.rpcUrl})`, {
        hint: 'stop it first, or run `imo demo` without --keep',
      })
    if (existsSync(keptDeployment))
      throw new UsageError(`--keep records the demo's deployment in ${keptDeployment}, which exists already`, {
        hint: 'remove it (a deployment on a stopped devnet is of no use), or run `imo demo` without --keep',
      })
  }
  prepareOutDir(outDir)
  const stateRoot = join(outDir, '.imo')
  const timings: Record<string, number> = {}
  const step = async <T>(key: string, text: string, fn: () => Promise<T>, done?: (value: T) => string): Promise<T> => {
    const spin = await progress(text)
    const t0 = performance.now()
    try {
      const value = await fn()
      timings[key] = Math.round(performance.now() - t0)
      spin.succeed(`${done ? done(value) : text} (${(timings[key]! / 1000).toFixed(1)} s)`)
      return value
    } catch (error) {
      spin.fail()
      throw error
    }
  }

  const { onInterrupt } = await import('../util/interrupt.js')
  const { ANVIL_DEV_ACCOUNTS } = await import('../devnet/startAnvil.js')
  let stopChain: () => Promise<void>
  const chain = await step(
    'devnet',
    'starting a local devnet (anvil)',
    async () => {
      if (keep) {
        const { startDetachedAnvil } = await import('./startDetachedAnvil.js')
        const anvil = await startDetachedAnvil(join(outDir, 'anvil.log'))
        stopChain = async () => {
          try {
            process.kill(anvil.pid, 'SIGTERM')
          } catch {
            // already gone
          }
        }
        return anvil
      }
      const { startAnvil } = await import('../devnet/startAnvil.js')
      const anvil = await startAnvil()
      stopChain = () => anvil.stop()
      return anvil
    },
    (a) => `devnet at ${a.rpcUrl} (pid ${a.pid})`,
  )
  const releaseInterrupt = onInterrupt(() => stopChain())
  let finished = false
  try {
    const report = await runSteps()
    finished = true
    return report
  } finally {
    releaseInterrupt()
    if (!keep || !finished) await stopChain!()
    if (!keep) rmSync(stateRoot, { recursive: true, force: true })
  }

  async function runSteps(): Promise<DemoReport> {
    const { connectChain } = await import('../chain/connect.js')
    const { Journal } = await import('../chain/journal.js')
    const { privateKeyToAccount } = await import('viem/accounts')
    const { getAddress, parseEther } = await import('viem')
    const { imoTokenAbi } = await import('../../contracts-abi/index.js')
    const { formatNative, formatUnits } = await import('../chain/format.js')
    const base = await connectChain({ rpcUrl: chain.rpcUrl }, { signer: false })
    const signer = (index: 0 | 1 | 2): ChainContext => {
      const account = privateKeyToAccount(ANVIL_DEV_ACCOUNTS[index].privateKey)
      return { ...base, account, journal: Journal.open(base.chainId, account.address, stateRoot) }
    }
    const deployer = signer(0)
    const holder = signer(1)
    const user = signer(2)
    const eth = (wei: bigint) => formatNative(wei, base.nativeSymbol)

    const usdc = await step(
      'usdc',
      'deploying the test USDC and funding the development accounts',
      async () => {
        const { deployTestUsdc } = await import('../devnet/deployTestUsdc.js')
        const info = await deployTestUsdc(
          chain.rpcUrl,
          ANVIL_DEV_ACCOUNTS.slice(0, 3).map((a) => a.address),
        )
        return { address: info.address, symbol: info.symbol, decimals: info.decimals, native: false as const }
      },
      (u) => `test USDC at ${u.address}`,
    )
    const { bundledModelPath } = await import('./bundledModel.js')
    const modelPath = bundledModelPath(options.model)
    // zk: one image (its PLONK proof takes about 30 s of CPU), a collection that checks it on chain.
    const zk = options.model === 'zk'
    const prompts: readonly string[] =
      options.model === 'tinylm' ? DEMO_TEXT_PROMPTS : zk ? DEMO_PROMPTS.slice(0, 1) : DEMO_PROMPTS
    const mintFeeWei = parseEther(DEMO_SETTINGS.mintFee)
    const requestFeeWei = parseEther(DEMO_SETTINGS.requestFee)
    const { deployment, path: deploymentFile } = await step(
      'deploy',
      zk
        ? 'deploying the token (ERC-7641), the PLONK verifier and the zk collection (ERC-7007); the keys come from an INSECURE demo powers-of-tau file'
        : 'deploying the token (ERC-7641) and the collection (ERC-7007)',
      async () => {
        const { hashModel } = await import('../model/hashModel.js')
        const zkParams = zk ? await demoZkDeploy(modelPath) : undefined
        const modelHash = zkParams?.modelHash ?? (await hashModel(modelPath)).modelHash
        const { deployImo } = await import('../deployment/deployImo.js')
        return deployImo(deployer, {
          ...(zkParams ? { zk: zkParams.zk } : {}),
          modelHash,
          model: { path: modelPath, given: modelPath },
          name: DEMO_SETTINGS.name,
          symbol: DEMO_SETTINGS.symbol,
          supply: DEMO_SETTINGS.supply,
          snapshotInterval: DEMO_SETTINGS.snapshotInterval,
          mintFeeWei,
          requestFeeWei,
          revenueCurrencies: [{ address: usdc.address, symbol: usdc.symbol, decimals: usdc.decimals }],
          deploymentFile: keep ? keptDeployment : join(stateRoot, 'deployments', '31337', 'default.json'),
        })
      },
      (r) =>
        `deployed token ${getAddress(r.deployment.imoToken.address)} and collection ${getAddress(r.deployment.aigcCollection.address)}`,
    )
    const token = getAddress(deployment.imoToken.address)
    const collection = getAddress(deployment.aigcCollection.address)
    const balanceOf = (address: Address) =>
      base.publicClient.readContract({
        address: token,
        abi: imoTokenAbi,
        functionName: 'balanceOf',
        args: [address],
      }) as Promise<bigint>

    const before = await base.publicClient.getBalance({ address: token })
    const minted = await step(
      'mint',
      `running the model on ${prompts.length} prompts and minting them (fee ${DEMO_SETTINGS.mintFee} ETH each)`,
      async () => {
        const { inferAndMint } = await import('../mint/inferAndMint.js')
        return inferAndMint(deployer, { prompts: [...prompts], modelPath, deployment, batch: true, out: outDir })
      },
      (r) => `minted ${r.outcomes.length} tokens`,
    )
    const feesToTokenWei = (await base.publicClient.getBalance({ address: token })) - before
    const { readRecord } = await import('../inference/record.js')
    const mints = minted.outcomes.map((o) => {
      if (!o.outDir) throw new ImoError(`the mint of "${o.prompt}" has no output folder`)
      const recordPath = join(o.outDir, 'record.json')
      const record = readRecord(recordPath)
      return {
        prompt: o.prompt ?? '',
        tokenIdHex: o.tokenIdHex,
        ...(o.txHash ? { txHash: o.txHash } : {}),
        feeWei: o.feeWei,
        image: join(o.outDir, record.artifact.file),
        record: recordPath,
        ...(record.artifact.mime.startsWith('text/') ? { text: readFileSync(join(o.outDir, record.artifact.file), 'utf8') } : {}),
      }
    })

    const amount = DEMO_SETTINGS.transfer * 10n ** 18n
    const sale = await step(
      'offer',
      `selling ${DEMO_SETTINGS.transfer} ${DEMO_SETTINGS.symbol} in a short sale at ${DEMO_SETTINGS.salePrice} ETH per token`,
      async () => {
        const { createOffering } = await import('../offer/createOffering.js')
        const { record } = await createOffering(deployer, deployment, {
          amount,
          startPriceWei: parseEther(DEMO_SETTINGS.salePrice),
          floorPriceWei: parseEther(DEMO_SETTINGS.salePrice),
          startText: 'now',
          durationSeconds: 60,
          softCapWei: 0n,
          maxPerAddress: 0n,
          deploymentFile,
          yes: true,
        })
        return getAddress(record.sale!)
      },
      (address) => `opened the sale ${address}`,
    )
    await step(
      'buy',
      `the second holder ${holder.account!.address} buys ${DEMO_SETTINGS.transfer} ${DEMO_SETTINGS.symbol}`,
      async () => {
        const { buyTokens } = await import('../offer/buyTokens.js')
        const { settleOffering } = await import('../offer/settleOffering.js')
        const bought = await buyTokens(holder, sale, { amount, yes: true })
        // Sold out: the seller finalizes at once and withdraws the proceeds.
        await settleOffering(deployer, sale, 'finalize')
        return bought
      },
      (b) =>
        `the second holder ${holder.account!.address} bought ${DEMO_SETTINGS.transfer} ${DEMO_SETTINGS.symbol} (${(DEMO_SETTINGS.transfer * 100n) / DEMO_SETTINGS.supply}%) for ${eth(b.costWei)}; the sale is finalized`,
    )
    const requestPrompt = zk ? '' : DEMO_REQUEST_PROMPTS[options.model === 'tinylm' ? 'tinylm' : 'cppn']
    const request = zk
      ? undefined
      : await step(
          'request',
          `a model user ${user.account!.address} pays ${DEMO_SETTINGS.requestFee} ETH for "${requestPrompt}"; imo serve fulfils it`,
          async () => {
            const t0 = performance.now()
            const { sendRequest } = await import('../requests/sendRequest.js')
            const sent = await sendRequest(user, collection, { prompt: requestPrompt, expectedFeeWei: requestFeeWei })
            const { startServe } = await import('../serve/startServe.js')
            const events: Array<Record<string, unknown>> = []
            const serving = await startServe(deployer, deployment, {
              modelPath,
              out: outDir,
              stateRoot,
              untilIdle: true,
              pollMs: 100,
              log: (event) => events.push(event),
            })
            const summary = await serving.done
            const fulfilled = events.find((e) => e.event === 'fulfilled' && e.requestId === String(sent.requestId))
            if (summary.fulfilled !== 1 || !fulfilled)
              throw new ImoError(
                `imo serve did not fulfil the demo's request ${sent.requestId}: ${events.map((e) => e.message).join('; ')}`,
              )
            const folder = findOutputFolder(outDir, sent.promptHash)
            const record = readRecord(join(folder, 'record.json'))
            const image = join(folder, record.artifact.file)
            return {
              prompt: requestPrompt,
              requester: user.account!.address,
              recipient: sent.recipient,
              requestId: sent.requestId!,
              feeWei: sent.feeWei,
              ...(sent.txHash ? { requestTxHash: sent.txHash } : {}),
              tokenIdHex: fulfilled.tokenIdHex as Hex,
              ...(fulfilled.txHash ? { fulfilTxHash: fulfilled.txHash as Hex } : {}),
              image,
              ...(record.artifact.mime.startsWith('text/') ? { text: readFileSync(image, 'utf8') } : {}),
              servedMs: Math.round(performance.now() - t0),
            }
          },
          (r) =>
            `the model user ${r.requester} paid ${eth(r.feeWei)} for "${r.prompt}"; imo serve fulfilled request ${r.requestId} with token ${r.tokenIdHex.slice(0, 12)}…`,
        )
    const depositWei = parseEther(DEMO_SETTINGS.deposit)
    const { parseCurrencyAmount, nativeCurrency } = await import('../revenue/resolveCurrency.js')
    const usdcDeposit = parseCurrencyAmount(DEMO_SETTINGS.usdcDeposit, usdc, 'usdcDeposit')
    await step(
      'deposit',
      `depositing ${DEMO_SETTINGS.deposit} ETH of revenue`,
      async () => {
        const { depositRevenue } = await import('../revenue/depositRevenue.js')
        await depositRevenue(deployer, token, depositWei)
        return depositRevenue(deployer, token, usdcDeposit, usdc)
      },
      () => `deposited ${DEMO_SETTINGS.deposit} ETH and ${DEMO_SETTINGS.usdcDeposit} USDC of revenue`,
    )
    const snapshot = await step(
      'snapshot',
      'taking a snapshot',
      async () => {
        // The interval is 1 s; move the chain's clock past it instead of waiting.
        await base.publicClient.request({ method: 'evm_increaseTime', params: [2] } as never)
        await base.publicClient.request({ method: 'evm_mine', params: [] } as never)
        const { takeSnapshot } = await import('../revenue/takeSnapshot.js')
        return takeSnapshot(deployer, token, { yes: true })
      },
      (s) => `snapshot ${s.snapshotId}: ${eth(s.toClaimPoolWei)} to holders, ${eth(s.toRedemptionWei)} to the redemption pool`,
    )
    const balances = await Promise.all([balanceOf(deployer.account!.address), balanceOf(holder.account!.address)])
    const claims = await step(
      'claim',
      'claiming for both holders (each with its own key)',
      async () => {
        // Claims on a snapshot open once its second has ended (the snapshot holds the balances at the end
        // of its second, so a flash loan cannot be in it); move the clock on by one second.
        await base.publicClient.request({ method: 'evm_increaseTime', params: [1] } as never)
        await base.publicClient.request({ method: 'evm_mine', params: [] } as never)
        const { claimCurrencies } = await import('../revenue/claimCurrencies.js')
        const currencies = [nativeCurrency(base), usdc]
        const both = await Promise.all([claimCurrencies(deployer, token, currencies), claimCurrencies(holder, token, currencies)])
        return both.map((claim) => ({
          holder: claim.holder,
          ...(claim.txHash ? { txHash: claim.txHash } : {}),
          totalWei: claim.currencies.find((c) => c.currency.address === nativeCurrency(base).address)?.totalWei ?? 0n,
          totalUsdc: claim.currencies.find((c) => c.currency.address === usdc.address)?.totalWei ?? 0n,
        }))
      },
      (c) =>
        `claimed ${c.map((x) => `${eth(x.totalWei)} + ${formatUnits(x.totalUsdc, usdc.decimals, usdc.symbol)}`).join(' and ')}`,
    )
    const tokenId = mints[0]!.tokenIdHex
    const verification = await step(
      'verify',
      `verifying token ${tokenId.slice(0, 12)}… by re-running the model`,
      async () => {
        const { verifyToken } = await import('../verify/verifyToken.js')
        return verifyToken(base, {
          collection,
          tokenId: BigInt(tokenId),
          modelPath,
          metadataDir: outDir,
        })
      },
      (v) => (v.ok ? `verified: ${v.checks.filter((c) => c.status === 'pass').length} checks passed` : 'verification FAILED'),
    )

    const reportFile = join(outDir, 'demo.json')
    const report: DemoReport = {
      ok: verification.ok && claims.every((c) => c.totalWei > 0n && c.totalUsdc > 0n) && snapshot.toClaimPoolWei > 0n,
      durationMs: 0,
      outDir,
      reportFile,
      chain: { rpcUrl: chain.rpcUrl, chainId: base.chainId, pid: chain.pid, running: keep },
      model: { path: modelPath, modelHash: deployment.modelHash },
      imoToken: token,
      aigcCollection: collection,
      ...(keep ? { deploymentFile } : {}),
      mintFeeWei,
      mints,
      feesToTokenWei,
      ...(request ? { request } : {}),
      revenue: {
        depositWei,
        snapshotId: snapshot.snapshotId,
        claimPoolWei: snapshot.toClaimPoolWei,
        toRedemptionWei: snapshot.toRedemptionWei,
      },
      usdc: { address: usdc.address, symbol: usdc.symbol, decimals: usdc.decimals, depositWei: usdcDeposit },
      holders: (['deployer', 'second holder'] as const).map((role, i) => ({
        role,
        address: claims[i]!.holder,
        balanceWei: balances[i]!,
        claimedWei: claims[i]!.totalWei,
        claimedUsdcWei: claims[i]!.totalUsdc,
        ...(claims[i]!.txHash ? { claimTxHash: claims[i]!.txHash } : {}),
      })),
      verification: {
        tokenIdHex: tokenId,
        ok: verification.ok,
        checks: verification.checks.map((c) => ({ name: c.name, status: c.status, detail: c.detail })),
      },
      timings,
    }
    if (keep) {
      writeDevnetFile({ rpcUrl: chain.rpcUrl, chainId: base.chainId, pid: chain.pid, startedAt: new Date().toISOString() }, cwd)
      report.next = [
        'imo status',
        'imo claimable',
        'imo infer-and-mint "a blue square"',
        'imo requests',
        'imo serve --until-idle   # fulfils the open paid requests (imo request PROMPT, from another account)',
        'imo revenue deposit 0.5',
        'imo revenue deposit 100 --currency USDC',
        'imo snapshot --yes',
        'imo claim',
        `imo verify --token ${tokenId} --metadata-dir ${relative(cwd, outDir) || '.'}`,
        `kill ${chain.pid}   # stop the devnet (then remove .imo/devnet.json and .imo/deployments/31337/default.json)`,
      ]
    }
    report.durationMs = Math.round(performance.now() - started)
    const { toJson } = await import('../cli/ui.js')
    writeFileAtomic(reportFile, `${toJson(report)}\n`)
    return report
  }
}
