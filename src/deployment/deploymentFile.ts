/**
 * The deployment file `.imo/deployments/<chainId>/<name>.json` that `imo deploy` writes (atomically)
 * and every later command reads by default (`--deployment FILE` picks another).
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Address, Hex } from 'viem'
import { UsageError } from '../errors.js'
import { parseJson } from '../util/parseJson.js'
import { readRegularFile } from '../util/readRegularFile.js'
import { writeFileAtomic } from '../util/writeFileAtomic.js'

export interface DeployedContract {
  address: Address
  /** Deployment transaction (absent only when a crashed run's contract was found by its code). */
  txHash?: Hex
  /** Block number as a decimal string. */
  blockNumber?: string
  /** keccak256 of the creation bytecode (without constructor arguments). */
  bytecodeHash: Hex
}

export interface DeploymentParameters {
  name: string
  symbol: string
  /** Whole tokens, decimal string. */
  supply: string
  /** Supply in base units (18 decimals), decimal string. */
  supplyWei: string
  recipient: Address
  percentClaimable: number
  snapshotInterval: number
  claimWindow: number
  modelUri: string
  collectionName: string
  collectionSymbol: string
  royaltyBps: number
  /** Mint fee in wei, decimal string. */
  mintFeeWei: string
  /** Paid-request fee in wei, decimal string (the owner may change it later on the collection). */
  requestFeeWei: string
  /** Seconds a paid request stays fulfillable (the owner may change it later on the collection). */
  requestTimeout: number
  attesters: Address[]
  owner: Address
  /** The ERC-20 revenue currencies beside the native one, in the token's order (absent: native only). */
  revenueCurrencies?: Array<{ address: Address; symbol: string; decimals: number }>
}

/** The proof schemes a deployment's collection can use (`imo deploy --proof-scheme`). */
export const PROOF_SCHEMES = ['attestation', 'zk'] as const
export type ProofSchemeName = (typeof PROOF_SCHEMES)[number]

export interface Deployment {
  /** Format version of this file. */
  format: 'imo-deployment-v1'
  /** 'default' or the file's name. */
  name: string
  chainId: number
  chainName: string
  modelHash: Hex
  /** The model as given on the command line and as an absolute path (absent with --model-hash only). */
  model?: { path: string; given: string }
  imoToken: DeployedContract
  aigcCollection: DeployedContract
  /**
   * How the collection checks proofs: absent or `attestation` (AigcCollection: an attester's EIP-712
   * signature), `zk` (ZkAigcCollection: a PLONK proof checked by `zkVerifier`, docs/formats.md section 11).
   */
  proofScheme?: ProofSchemeName
  /** The model's PLONK verifier (zk only). */
  zkVerifier?: DeployedContract & { insecure: boolean; ptau: string | null }
  parameters: DeploymentParameters
  deployer: Address
  createdAt: string
  imoVersion: string
}

/**
 * Path of a deployment file.
 * @param chainId - chain id.
 * @param name - deployment name (default 'default').
 * @returns absolute path under the working folder.
 * @example
 * deploymentPath(31337) // '/cwd/.imo/deployments/31337/default.json'
 */
export function deploymentPath(chainId: number, name = 'default', cwd = process.cwd()): string {
  return resolve(cwd, '.imo', 'deployments', String(chainId), `${name}.json`)
}

/**
 * Writes a deployment file atomically (pretty JSON, trailing newline).
 * @example
 * writeDeployment(path, deployment)
 */
export function writeDeployment(path: string, deployment: Deployment): void {
  writeFileAtomic(path, `${JSON.stringify(deployment, null, 2)}\n`)
}

/**
 * Reads a deployment file without touching the chain.
 * @param path - the file.
 * @returns the deployment, or undefined when the file does not exist.
 * @throws UsageError when it is not a deployment file.
 * @example
 * readDeploymentFile('.imo/deployments/31337/default.json')?.imoToken.address
 */
export function readDeploymentFile(path: string): Deployment | undefined {
  if (!existsSync(path)) return undefined
  const text = readRegularFile(path, 'deployment file', { maxBytes: 1024 * 1024 }).toString('utf8')
  const value = parseJson(text, path, { expected: 'an imo deployment file' }) as Deployment
  if (value?.format !== 'imo-deployment-v1' || !value.imoToken?.address || !value.aigcCollection?.address)
    throw new UsageError(`${path} is not an imo deployment file`)
  return value
}

/**
 * Loads the deployment a command acts on and checks it against the connected chain.
 * @param ctx - the chain context (chainId and a client to check code).
 * @param file - --deployment FILE; default: the chain's default deployment.
 * @returns the deployment.
 * @throws UsageError (exit 2): no file (says to run imo deploy), a file for another chain, or no
 *   contract code at its addresses (e.g. a restarted devnet).
 * @example
 * import { loadDeployment } from './deploymentFile.js'
 * const deployment = await loadDeployment(ctx, options.deployment)
 * deployment.imoToken.address
 */
export async function loadDeployment(
  ctx: { chainId: number; publicClient: { getCode(args: { address: Address }): Promise<Hex | undefined> }; rpcUrl?: string },
  file?: string,
): Promise<Deployment> {
  const path = file ? resolve(file) : deploymentPath(ctx.chainId)
  const deployment = readDeploymentFile(path)
  if (!deployment)
    throw new UsageError(
      file ? `deployment file ${file} does not exist` : `no deployment recorded for chain ${ctx.chainId} (${path})`,
      { hint: 'run `imo deploy --model PATH --name N --symbol S --supply N` first, or pass --deployment FILE' },
    )
  if (deployment.chainId !== ctx.chainId)
    throw new UsageError(
      `${path} records a deployment on chain ${deployment.chainId}, but the node serves chain ${ctx.chainId}`,
      { hint: 'pass the matching --rpc-url, or another --deployment FILE' },
    )
  const { toImoError } = await import('../chain/toImoError.js')
  const contracts = [
    ['IMO token', deployment.imoToken],
    ['AIGC collection', deployment.aigcCollection],
  ] as const
  // Both at once: one round trip to the node instead of two.
  const codes = await Promise.all(contracts.map(([, contract]) => ctx.publicClient.getCode({ address: contract.address }))).catch(
    (error: unknown) => {
      throw toImoError(error, { ...(ctx.rpcUrl ? { rpcUrl: ctx.rpcUrl } : {}), action: 'checking the deployment' })
    },
  )
  for (const [index, [what, contract]] of contracts.entries()) {
    const code = codes[index]
    if (!code || code === '0x')
      throw new UsageError(
        `no contract at the ${what} address ${contract.address} on chain ${ctx.chainId} (${path} is stale: was the devnet restarted?)`,
        { hint: 'run `imo deploy` again on this chain' },
      )
  }
  return deployment
}
