/**
 * `imo deploy` behind its command file: reads and checks the flags (asking for name, symbol and
 * supply only on a terminal), hashes the model, connects, deploys, and shapes the result for
 * printResult (the same data object for --json and the human rendering).
 */
import { existsSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import type { ChainOptionValues } from '../chain/connect.js'
import { InputNeededError, UsageError } from '../errors.js'

export interface DeployOptionValues extends ChainOptionValues {
  model?: string
  modelHash?: string
  modelUri?: string
  name?: string
  symbol?: string
  supply?: string
  recipient?: string
  percentClaimable?: string
  snapshotInterval?: string
  claimWindow?: string
  royaltyBps?: string
  mintFee?: string
  requestFee?: string
  requestTimeout?: string
  attester?: string[]
  revenueCurrency?: string[]
  proofScheme?: 'attestation' | 'zk'
  ptau?: string
  insecurePtau?: boolean
}

async function ask(flag: string, what: string, current: string | undefined): Promise<string> {
  if (current !== undefined && current !== '') return current
  const { isInteractive } = await import('../cli/ui.js')
  if (!isInteractive()) throw new InputNeededError(flag, what)
  const { default: inquirer } = await import('inquirer')
  const { value } = await inquirer.prompt<{ value: string }>([
    { type: 'input', name: 'value', message: `${what} (${flag}):`, validate: (v: string) => v.trim() !== '' || 'required' },
  ])
  return value.trim()
}

/**
 * Runs a deployment from the command's option values.
 * @param values - commander opts() of `imo deploy`.
 * @param sources - getOptionValueSource, for the signer warning.
 * @returns data for --json and the human text.
 * @example
 * const { data, human } = await runDeploy({ model: 'models/cppn', name: 'P', symbol: 'P', supply: '1000' })
 */
export async function runDeploy(
  values: DeployOptionValues,
  sources?: (key: string) => string | undefined,
): Promise<{ data: Record<string, unknown>; human: string }> {
  const { parseAmount, parseWhole, formatNative } = await import('../chain/format.js')
  if (!values.model && !values.modelHash)
    throw new InputNeededError('--model', 'model (path to the .onnx file or folder)', 'IMO_MODEL')
  if (values.model && values.modelHash) throw new UsageError('pass --model or --model-hash, not both')
  const name = await ask('--name', 'token name', values.name)
  const symbol = await ask('--symbol', 'token symbol', values.symbol)
  const supply = parseWhole(await ask('--supply', 'initial supply in whole tokens', values.supply), '--supply', { min: 1n })
  const whole = (text: string | undefined, flag: string, max: bigint) =>
    text === undefined ? undefined : Number(parseWhole(text, flag, { max }))
  const { MAX_REQUEST_TIMEOUT } = await import('./deployImo.js')
  const requestFeeWei =
    values.requestFee === undefined ? undefined : parseAmount(values.requestFee, { name: '--request-fee', allowZero: true })
  const requestTimeout =
    values.requestTimeout === undefined
      ? undefined
      : Number(parseWhole(values.requestTimeout, '--request-timeout', { min: 1n, max: BigInt(MAX_REQUEST_TIMEOUT) }))
  // Cheap checks first (every flag, then the RPC and the signer); hashing a large model comes last.
  const settings = {
    ...(values.percentClaimable !== undefined
      ? { percentClaimable: whole(values.percentClaimable, '--percent-claimable', 100n)! }
      : {}),
    ...(values.snapshotInterval !== undefined
      ? { snapshotInterval: whole(values.snapshotInterval, '--snapshot-interval', 2n ** 64n - 1n)! }
      : {}),
    ...(values.claimWindow !== undefined ? { claimWindow: whole(values.claimWindow, '--claim-window', 32n)! } : {}),
    ...(values.royaltyBps !== undefined ? { royaltyBps: whole(values.royaltyBps, '--royalty-bps', 10_000n)! } : {}),
    ...(values.mintFee !== undefined ? { mintFeeWei: parseAmount(values.mintFee, { name: '--mint-fee', allowZero: true }) } : {}),
    ...(requestFeeWei !== undefined ? { requestFeeWei } : {}),
    ...(requestTimeout !== undefined ? { requestTimeout } : {}),
  }
  const { parseAddress } = await import('../util/parseAddress.js')
  const recipient = values.recipient ? await parseAddress(values.recipient, '--recipient') : undefined
  const attesters = values.attester ? await Promise.all(values.attester.map((a) => parseAddress(a, '--attester'))) : undefined
  const { parseRevenueCurrencies, readRevenueCurrencyFlags } = await import('./revenueCurrencyFlags.js')
  const currencyAddresses = await parseRevenueCurrencies(values.revenueCurrency ?? [])
  if (values.modelHash && !/^0x[0-9a-fA-F]{64}$/.test(values.modelHash))
    throw new UsageError('--model-hash must be 0x + 64 hex digits')
  if (values.model && !existsSync(values.model)) throw new UsageError(`--model ${values.model} does not exist`)
  const zkScheme = values.proofScheme === 'zk'
  if (!zkScheme && (values.ptau || values.insecurePtau))
    throw new UsageError('--ptau and --insecure-ptau apply to --proof-scheme zk only')
  if (zkScheme && !values.model)
    throw new UsageError('--proof-scheme zk needs --model (the zk model folder): its verifier is deployed')
  if (zkScheme && values.attester)
    throw new UsageError('--attester does not apply to --proof-scheme zk: the chain checks the proof')
  const { connectChain, explorerLink } = await import('../chain/connect.js')
  const { displayUrl } = await import('../chain/toImoError.js')
  const { note, spinner } = await import('../cli/ui.js')
  const ctx = await connectChain(values, { signer: true }, sources)
  const revenueCurrencies = await readRevenueCurrencyFlags(ctx, currencyAddresses)
  let modelHash = values.modelHash as `0x${string}` | undefined
  let model: { path: string; given: string } | undefined
  let zk: import('./deployImo.js').ZkDeployParams | undefined
  if (values.model && zkScheme) {
    const { zkVerifierForDeploy } = await import('../zk/zkVerifierForDeploy.js')
    const made = await zkVerifierForDeploy(values.model, {
      ...(values.ptau !== undefined ? { ptau: values.ptau } : {}),
      allowInsecurePtau: Boolean(values.insecurePtau),
    })
    modelHash = made.modelHash
    zk = made.zk
    if (zk.insecure)
      (await import('../cli/ui.js')).warn(
        'INSECURE verifier: its keys come from a test powers-of-tau file, anyone can forge its proofs',
      )
    model = { path: isAbsolute(values.model) ? values.model : resolve(values.model), given: values.model }
  } else if (values.model) {
    const { hashModel } = await import('../model/hashModel.js')
    modelHash = (await hashModel(values.model)).modelHash
    model = { path: isAbsolute(values.model) ? values.model : resolve(values.model), given: values.model }
  }
  note(`chain ${ctx.chainName} (${ctx.chainId}) at ${displayUrl(ctx.rpcUrl)}, deployer ${ctx.account!.address}`)
  if (revenueCurrencies.length > 0)
    note(
      `revenue currencies: ${ctx.nativeSymbol} (native), ${revenueCurrencies.map((c) => `${c.symbol} ${c.address} (${c.decimals} decimals)`).join(', ')}`,
    )
  const { deployImo } = await import('./deployImo.js')
  const spin = await spinner(ctx.tx.dryRun ? 'simulating the deployment' : 'deploying')
  let result: Awaited<ReturnType<typeof deployImo>>
  try {
    result = await deployImo(
      ctx,
      {
        modelHash: modelHash!,
        ...(model ? { model } : {}),
        name,
        symbol,
        supply,
        ...(recipient ? { recipient } : {}),
        ...settings,
        ...(attesters ? { attesters } : {}),
        ...(revenueCurrencies.length > 0 ? { revenueCurrencies } : {}),
        ...(values.modelUri !== undefined ? { modelUri: values.modelUri } : {}),
        ...(values.deployment ? { deploymentFile: resolve(values.deployment) } : {}),
        ...(zk ? { zk } : {}),
      },
      { onStep: (label) => spin.update(label) },
    )
    spin.succeed(
      result.status === 'dry-run'
        ? 'simulated; nothing was sent'
        : result.status === 'existing'
          ? 'already deployed'
          : 'deployed',
    )
  } catch (error) {
    spin.fail()
    throw error
  }
  const { deployment } = result
  const totalCost = result.outcomes.reduce((sum, o) => sum + (o.costWei ?? 0n), 0n)
  const data = {
    status: result.status,
    chainId: ctx.chainId,
    chainName: ctx.chainName,
    deploymentFile: result.path,
    imoToken: deployment.imoToken,
    aigcCollection: deployment.aigcCollection,
    ...(deployment.proofScheme ? { proofScheme: deployment.proofScheme } : {}),
    ...(deployment.zkVerifier ? { zkVerifier: deployment.zkVerifier } : {}),
    modelHash: deployment.modelHash,
    parameters: deployment.parameters,
    steps: result.outcomes.map((o) => ({ label: o.label, status: o.status, txHash: o.txHash, gas: o.gas, costWei: o.costWei })),
    ...(result.status === 'dry-run' ? { maxCostWei: totalCost } : {}),
  }
  const link = (address: string) => {
    const url = explorerLink(ctx, 'address', address)
    return url ? `  ${url}` : ''
  }
  const lines = [
    result.status === 'dry-run'
      ? `Dry run on ${ctx.chainName} (chain ${ctx.chainId}): nothing was sent`
      : result.status === 'existing'
        ? `Already deployed on ${ctx.chainName} (chain ${ctx.chainId})`
        : `Deployed on ${ctx.chainName} (chain ${ctx.chainId})`,
    `  IMO token (ERC-7641)        ${deployment.imoToken.address}${link(deployment.imoToken.address)}`,
    ...(deployment.zkVerifier
      ? [
          `  PLONK verifier              ${deployment.zkVerifier.address}${link(deployment.zkVerifier.address)}${deployment.zkVerifier.insecure ? '  (INSECURE test setup)' : ''}`,
        ]
      : []),
    `  AIGC collection (ERC-7007)  ${deployment.aigcCollection.address}${link(deployment.aigcCollection.address)}${deployment.proofScheme === 'zk' ? '  (zk: proofs checked on chain)' : ''}`,
    `  model hash                  ${deployment.modelHash}`,
    `  revenue currencies          ${[`${ctx.nativeSymbol} (native)`, ...(deployment.parameters.revenueCurrencies ?? []).map((c) => `${c.symbol} ${c.address}`)].join(', ')}`,
  ]
  if (result.status === 'dry-run') {
    for (const o of result.outcomes)
      lines.push(`  ${o.label}: gas ${o.gas}, at most ${formatNative(o.costWei ?? 0n, ctx.nativeSymbol)}`)
    lines.push(`  addresses above are predicted; total at most ${formatNative(totalCost, ctx.nativeSymbol)}`)
  } else lines.push(`  recorded in ${result.path}`)
  return { data, human: lines.join('\n') }
}
