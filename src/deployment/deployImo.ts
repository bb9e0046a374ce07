/**
 * Deploys one model's ERC-7641 token (ImoToken) and its ERC-7007 collection (AigcCollection,
 * pointing at the token) through the journal, then records the deployment file. Re-running with
 * the same parameters reports the recorded deployment instead of deploying again; a crashed run
 * resumes from the journal (the step ids derive from the deployment name and the init code).
 */
import type { Address, Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import type { StepOutcome } from '../chain/sendStep.js'
import { ImoError, UsageError } from '../errors.js'
import { version } from '../version.js'
import {
  type Deployment,
  type DeploymentParameters,
  deploymentPath,
  readDeploymentFile,
  writeDeployment,
} from './deploymentFile.js'

export interface DeployImoParams {
  modelHash: Hex
  /** The model as given and its absolute path (absent with --model-hash only). */
  model?: { path: string; given: string }
  name: string
  symbol: string
  /** Whole tokens. */
  supply: bigint
  recipient?: Address
  percentClaimable?: number
  snapshotInterval?: number
  claimWindow?: number
  modelUri?: string
  collectionName?: string
  collectionSymbol?: string
  royaltyBps?: number
  mintFeeWei?: bigint
  /** Fee of a paid request (`request`), wei; default DEPLOY_DEFAULTS.requestFeeWei. */
  requestFeeWei?: bigint
  /** Seconds a paid request stays fulfillable; default DEPLOY_DEFAULTS.requestTimeout. */
  requestTimeout?: number
  attesters?: Address[]
  /** ERC-20 revenue currencies beside the native one (checked by src/deployment/revenueCurrencyFlags.ts). */
  revenueCurrencies?: Array<{ address: Address; symbol: string; decimals: number }>
  /** Deployment file; default `.imo/deployments/<chainId>/default.json`. */
  deploymentFile?: string
  /**
   * A zk model (`--proof-scheme zk`): its compiled PLONK verifier is deployed before a ZkAigcCollection
   * bound to it (no attesters, no paid requests), with the aigcData layout it checks.
   */
  zk?: ZkDeployParams
}

/** What a ZkAigcCollection needs of its model. */
export interface ZkDeployParams {
  /** The verifier's creation bytecode (compiled at deploy time from the model's Solidity). */
  verifierBytecode: Hex
  /** The fixed bytes every aigcData starts with, and the payload bytes after them. */
  aigcPrefix: Hex
  payloadLength: number
  insecure: boolean
  ptau: string | null
}

/** Defaults, documented in `imo deploy --help`. */
export const DEPLOY_DEFAULTS = {
  percentClaimable: 50,
  /** A day; 60 s on local development nodes (anvil, Hardhat, Ganache, whatever their chain id) so demos can snapshot. */
  snapshotInterval: 86_400,
  localSnapshotInterval: 60,
  claimWindow: 12,
  royaltyBps: 500,
  /** 0.001 ETH per paid request (escrowed, then the holders' revenue). */
  requestFeeWei: 10n ** 15n,
  /** An hour to fulfil a paid request before its requester may take the fee back. */
  requestTimeout: 3_600,
} as const

/** The collection's MAX_REQUEST_TIMEOUT: a year. */
export const MAX_REQUEST_TIMEOUT = 365 * 86_400
/** The collection stores the request fee in 96 bits. */
const MAX_REQUEST_FEE_WEI = 2n ** 96n - 1n

export interface DeployImoResult {
  status: 'deployed' | 'existing' | 'dry-run'
  path: string
  deployment: Deployment
  outcomes: StepOutcome[]
}

function sameParameters(a: Deployment, b: Omit<Deployment, 'createdAt' | 'imoToken' | 'aigcCollection' | 'imoVersion'>): boolean {
  const norm = (p: DeploymentParameters) =>
    JSON.stringify({
      ...p,
      attesters: p.attesters.map((x) => x.toLowerCase()),
      recipient: p.recipient.toLowerCase(),
      owner: p.owner.toLowerCase(),
    })
  return (
    a.modelHash.toLowerCase() === b.modelHash.toLowerCase() &&
    (a.proofScheme ?? 'attestation') === (b.proofScheme ?? 'attestation') &&
    norm(a.parameters) === norm(b.parameters)
  )
}

/**
 * Deploys the token and the collection (or simulates both with ctx.tx.dryRun).
 * @param ctx - chain context with a signer.
 * @param params - model hash, token and collection parameters (defaults: DEPLOY_DEFAULTS, signer as recipient/owner/attester).
 * @param options - onStep(label) before each step, for a spinner.
 * @returns status, deployment file path, the deployment and the step outcomes.
 * @throws UsageError when another deployment is recorded in the same file; chain errors from sendStep.
 * @example
 * import { deployImo } from './deployment/deployImo.js'
 * const { deployment } = await deployImo(ctx, { modelHash, name: 'Pattern', symbol: 'PAT', supply: 1_000_000n })
 * deployment.imoToken.address
 */
export async function deployImo(
  ctx: ChainContext,
  params: DeployImoParams,
  options: { onStep?(label: string): void } = {},
): Promise<DeployImoResult> {
  const account = ctx.account
  if (!account) throw new ImoError('deployImo needs a signer')
  const { encodeDeployData, getContractAddress, keccak256, getAddress } = await import('viem')
  const { aigcCollectionAbi, aigcCollectionBytecode, imoTokenAbi, imoTokenBytecode } = await import(
    '../../contracts-abi/index.js'
  )
  const { gasLimitFor, sendStep, simulateStep } = await import('../chain/sendStep.js')
  const { parseAddress } = await import('../util/parseAddress.js')
  const recipient = await parseAddress(params.recipient ?? account.address, '--recipient')
  if (params.zk && params.attesters?.length)
    throw new UsageError('--attester does not apply to --proof-scheme zk: nobody attests, the chain checks the proof')
  const attesters = params.zk
    ? []
    : await Promise.all(
        (params.attesters && params.attesters.length > 0 ? params.attesters : [account.address]).map((a) =>
          parseAddress(a, '--attester'),
        ),
      )
  const parameters: DeploymentParameters = {
    name: params.name,
    symbol: params.symbol,
    supply: params.supply.toString(),
    supplyWei: (params.supply * 10n ** 18n).toString(),
    recipient,
    percentClaimable: params.percentClaimable ?? DEPLOY_DEFAULTS.percentClaimable,
    snapshotInterval:
      params.snapshotInterval ?? (ctx.local ? DEPLOY_DEFAULTS.localSnapshotInterval : DEPLOY_DEFAULTS.snapshotInterval),
    claimWindow: params.claimWindow ?? DEPLOY_DEFAULTS.claimWindow,
    modelUri: params.modelUri ?? '',
    collectionName: params.collectionName ?? `${params.name} AIGC`,
    collectionSymbol: params.collectionSymbol ?? `${params.symbol}AI`,
    royaltyBps: params.royaltyBps ?? DEPLOY_DEFAULTS.royaltyBps,
    mintFeeWei: (params.mintFeeWei ?? 0n).toString(),
    requestFeeWei: (params.requestFeeWei ?? DEPLOY_DEFAULTS.requestFeeWei).toString(),
    requestTimeout: params.requestTimeout ?? DEPLOY_DEFAULTS.requestTimeout,
    attesters,
    owner: account.address,
    ...(params.revenueCurrencies && params.revenueCurrencies.length > 0 ? { revenueCurrencies: params.revenueCurrencies } : {}),
  }
  if (params.supply <= 0n) throw new UsageError('--supply must be at least 1 token')
  if (parameters.percentClaimable < 0 || parameters.percentClaimable > 100)
    throw new UsageError('--percent-claimable must be from 0 to 100')
  if (parameters.royaltyBps < 0 || parameters.royaltyBps > 10_000) throw new UsageError('--royalty-bps must be from 0 to 10000')
  if (BigInt(parameters.requestFeeWei) > MAX_REQUEST_FEE_WEI) throw new UsageError('--request-fee must be below 2^96 wei')
  if (
    !Number.isInteger(parameters.requestTimeout) ||
    parameters.requestTimeout < 1 ||
    parameters.requestTimeout > MAX_REQUEST_TIMEOUT
  )
    throw new UsageError(`--request-timeout must be from 1 to ${MAX_REQUEST_TIMEOUT} seconds (a year)`)
  if (!/^0x[0-9a-fA-F]{64}$/.test(params.modelHash)) throw new UsageError('--model-hash must be 0x + 64 hex digits')

  const path = params.deploymentFile ?? deploymentPath(ctx.chainId)
  const deploymentName = params.deploymentFile ? params.deploymentFile.replace(/^.*[\\/]/, '').replace(/\.json$/, '') : 'default'
  const base = {
    format: 'imo-deployment-v1' as const,
    name: deploymentName,
    chainId: ctx.chainId,
    chainName: ctx.chainName,
    modelHash: params.modelHash,
    ...(params.model ? { model: params.model } : {}),
    ...(params.zk ? { proofScheme: 'zk' as const } : {}),
    parameters,
    deployer: account.address,
  }
  const existing = readDeploymentFile(path)
  if (existing) {
    if (existing.chainId === ctx.chainId && sameParameters(existing, base)) {
      const [tokenCode, collectionCode] = await Promise.all([
        ctx.publicClient.getCode({ address: existing.imoToken.address }),
        ctx.publicClient.getCode({ address: existing.aigcCollection.address }),
      ])
      if (tokenCode && tokenCode !== '0x' && collectionCode && collectionCode !== '0x')
        return { status: 'existing', path, deployment: existing, outcomes: [] }
    } else if (existing.chainId === ctx.chainId) {
      throw new UsageError(`another deployment is already recorded in ${path}`, {
        hint: 'pass --deployment FILE to record a second deployment on this chain (or remove the file to replace it)',
      })
    }
  }

  const tokenInit = encodeDeployData({
    abi: imoTokenAbi,
    bytecode: imoTokenBytecode,
    args: [
      parameters.name,
      parameters.symbol,
      BigInt(parameters.supplyWei),
      parameters.recipient,
      params.modelHash,
      parameters.modelUri,
      parameters.percentClaimable,
      BigInt(parameters.snapshotInterval),
      parameters.claimWindow,
      parameters.owner,
      (parameters.revenueCurrencies ?? []).map((c) => c.address),
    ],
  })
  const tokenStep = {
    id: `deploy:${deploymentName}:ImoToken:${keccak256(tokenInit)}`,
    label: 'deploy ImoToken',
    data: tokenInit,
    abi: imoTokenAbi,
  }
  const { zkAigcCollectionAbi, zkAigcCollectionBytecode } = await import('../../contracts-abi/index.js')
  const zk = params.zk
  const verifierStep = zk
    ? {
        id: `deploy:${deploymentName}:ZkVerifier:${keccak256(zk.verifierBytecode)}`,
        label: 'deploy ZkVerifier',
        data: zk.verifierBytecode,
        abi: [] as const,
      }
    : undefined
  const collection = zk
    ? { name: 'ZkAigcCollection', abi: zkAigcCollectionAbi, bytecode: zkAigcCollectionBytecode }
    : { name: 'AigcCollection', abi: aigcCollectionAbi, bytecode: aigcCollectionBytecode }
  const collectionInit = (token: Address, verifier: Address | undefined): Hex =>
    zk
      ? encodeDeployData({
          abi: zkAigcCollectionAbi,
          bytecode: zkAigcCollectionBytecode,
          args: [
            parameters.collectionName,
            parameters.collectionSymbol,
            params.modelHash,
            token,
            BigInt(parameters.royaltyBps),
            BigInt(parameters.mintFeeWei),
            verifier!,
            zk.aigcPrefix,
            BigInt(zk.payloadLength),
            parameters.owner,
          ],
        })
      : encodeDeployData({
          abi: aigcCollectionAbi,
          bytecode: aigcCollectionBytecode,
          args: [
            parameters.collectionName,
            parameters.collectionSymbol,
            params.modelHash,
            token,
            BigInt(parameters.royaltyBps),
            BigInt(parameters.mintFeeWei),
            BigInt(parameters.requestFeeWei),
            BigInt(parameters.requestTimeout),
            parameters.attesters,
            parameters.owner,
          ],
        })
  const collectionStep = (token: Address, verifier?: Address) => {
    const data = collectionInit(token, verifier)
    return {
      id: `deploy:${deploymentName}:${collection.name}:${keccak256(data)}`,
      label: `deploy ${collection.name}`,
      data,
      abi: collection.abi,
    }
  }

  const { requireCancun } = await import('../chain/requireCancun.js')
  await requireCancun(ctx)

  /** Simulates both deployments: the collection's with the token's runtime code at its future address. */
  const simulateDeployment = async () => {
    options.onStep?.('simulating ImoToken')
    const token = await simulateStep(ctx, tokenStep)
    // The collection's constructor reads the token, which does not exist yet: simulate it with the
    // token's runtime code (what the token's creation call returns) placed at its future address.
    const nonce = await ctx.publicClient.getTransactionCount({ address: account.address, blockTag: 'pending' })
    const predicted = getContractAddress({ from: account.address, nonce: BigInt(nonce) })
    const { data: runtime } = await ctx.publicClient.call({ account: account.address, data: tokenInit })
    // A zk collection's constructor also checks that its verifier has code: the same trick for it.
    const verifier = verifierStep
      ? {
          address: getContractAddress({ from: account.address, nonce: BigInt(nonce + 1) }),
          ...(await simulateStep(ctx, verifierStep)),
          runtime: (await ctx.publicClient.call({ account: account.address, data: verifierStep.data })).data!,
        }
      : undefined
    options.onStep?.(`simulating ${collection.name}`)
    const step = collectionStep(predicted, verifier?.address)
    const gasEstimate = await ctx.publicClient
      .estimateGas({
        account: account.address,
        data: step.data,
        // The sender's nonce moves past the earlier steps', so the simulated collection does not collide with them.
        stateOverride: [
          { address: predicted, code: runtime! },
          ...(verifier ? [{ address: verifier.address, code: verifier.runtime }] : []),
          { address: account.address, nonce: nonce + (verifier ? 2 : 1) },
        ],
      })
      .catch(async (error: unknown) => {
        const { describeRevert } = await import('../chain/sendStep.js')
        const { SimulationRevertedError } = await import('../errors.js')
        throw new SimulationRevertedError(
          `"deploy ${collection.name}" would fail: ${(await describeRevert(error, collection.abi)) ?? 'reverted'}; nothing was sent`,
          { cause: error },
        )
      })
    const gas = gasLimitFor(ctx, step, gasEstimate)
    const outcomes: StepOutcome[] = [
      { id: tokenStep.id, label: tokenStep.label, status: 'dry-run', gas: token.gas, costWei: token.costWei },
      ...(verifier && verifierStep
        ? [
            {
              id: verifierStep.id,
              label: verifierStep.label,
              status: 'dry-run' as const,
              gas: verifier.gas,
              costWei: verifier.costWei,
            },
          ]
        : []),
      { id: step.id, label: step.label, status: 'dry-run', gas, costWei: gas * token.perGas },
    ]
    return { outcomes, predicted, nonce, verifierAddress: verifier?.address }
  }

  if (ctx.tx.dryRun) {
    const { outcomes, predicted, nonce, verifierAddress } = await simulateDeployment()
    const placeholder = { address: predicted, bytecodeHash: keccak256(imoTokenBytecode) }
    const deployment: Deployment = {
      ...base,
      imoToken: placeholder,
      ...(zk && verifierAddress
        ? {
            zkVerifier: {
              address: verifierAddress,
              bytecodeHash: keccak256(zk.verifierBytecode),
              insecure: zk.insecure,
              ptau: zk.ptau,
            },
          }
        : {}),
      aigcCollection: {
        address: getContractAddress({ from: account.address, nonce: BigInt(nonce + (zk ? 2 : 1)) }),
        bytecodeHash: keccak256(collection.bytecode),
      },
      createdAt: new Date().toISOString(),
      imoVersion: version,
    }
    return { status: 'dry-run', path, deployment, outcomes }
  }

  // A fresh deployment sends two transactions: both must be affordable before the first is sent (the
  // check of each send alone named the token's cost only, and could leave a token without a collection).
  ctx.journal?.reload()
  if (!ctx.journal?.state(tokenStep.id).signed) {
    const { outcomes } = await simulateDeployment()
    const total = outcomes.reduce((sum, o) => sum + (o.costWei ?? 0n), 0n)
    const balance = await ctx.publicClient.getBalance({ address: account.address })
    if (balance < total) {
      const { formatNative } = await import('../chain/format.js')
      const { InsufficientFundsError } = await import('../errors.js')
      const fmt = (wei: bigint) => formatNative(wei, ctx.nativeSymbol)
      throw new InsufficientFundsError(
        `insufficient funds: ${account.address} holds ${fmt(balance)} but the deployment needs up to ${fmt(total)} (${outcomes.map((o) => `${o.label} up to ${fmt(o.costWei ?? 0n)}`).join(', ')}); nothing was sent`,
        { hint: `fund ${account.address}, or lower --max-fee-per-gas` },
      )
    }
  }

  options.onStep?.('deploying ImoToken')
  const tokenOutcome = await sendStep(ctx, tokenStep)
  if (!tokenOutcome.contractAddress) throw new ImoError('the ImoToken deployment has no contract address')
  let verifierOutcome: StepOutcome | undefined
  if (verifierStep) {
    options.onStep?.('deploying ZkVerifier')
    verifierOutcome = await sendStep(ctx, verifierStep)
    if (!verifierOutcome.contractAddress) throw new ImoError('the ZkVerifier deployment has no contract address')
  }
  options.onStep?.(`deploying ${collection.name}`)
  const collectionOutcome = await sendStep(ctx, collectionStep(tokenOutcome.contractAddress, verifierOutcome?.contractAddress))
  if (!collectionOutcome.contractAddress) throw new ImoError(`the ${collection.name} deployment has no contract address`)
  const record = (outcome: StepOutcome, bytecode: Hex) => ({
    // Receipts carry lowercase addresses; the file (and every command printing from it) uses EIP-55.
    address: getAddress(outcome.contractAddress!),
    ...(outcome.txHash ? { txHash: outcome.txHash } : {}),
    ...(outcome.blockNumber !== undefined ? { blockNumber: outcome.blockNumber.toString() } : {}),
    bytecodeHash: keccak256(bytecode),
  })
  const deployment: Deployment = {
    ...base,
    imoToken: record(tokenOutcome, imoTokenBytecode),
    ...(zk && verifierOutcome
      ? { zkVerifier: { ...record(verifierOutcome, zk.verifierBytecode), insecure: zk.insecure, ptau: zk.ptau } }
      : {}),
    aigcCollection: record(collectionOutcome, collection.bytecode),
    createdAt: new Date().toISOString(),
    imoVersion: version,
  }
  writeDeployment(path, deployment)
  return {
    status: 'deployed',
    path,
    deployment,
    outcomes: [tokenOutcome, ...(verifierOutcome ? [verifierOutcome] : []), collectionOutcome],
  }
}
