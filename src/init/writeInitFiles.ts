/**
 * What `imo init` writes, and the writing itself: `.env` (mode 0600) holds the RPC URL (URLs often
 * carry an API key) and a reference to the signer (keystore path, Foundry account name, key or
 * mnemonic file path), never a key or a password; `imo.config.json` (0644) holds the non-secret
 * defaults other commands read (chainId, model, the deploy parameters), keyed by option attribute
 * names. Existing files are merged, not replaced: other lines and keys are kept, and an existing
 * `.env` is first copied to `.env.bak` (0600). Every file is written atomically.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { serveVariable } from '../cli/serveSigner.js'
import { CONFIG_FILE } from '../cli/settings.js'
import { UsageError } from '../errors.js'
import { writeFileAtomic } from '../util/writeFileAtomic.js'
import type { RpcPlan } from './askRpc.js'
import type { SignerPlan } from './askSigner.js'
import { type ModelPlan, settingPath, type TokenPlan } from './askToken.js'
import { mergeEnvText, SIGNER_ENV_VARS } from './mergeEnvText.js'

export interface InitPlan {
  rpc: RpcPlan
  signer: SignerPlan
  /** imo serve's own key (IMO_SERVE_* variables; src/cli/serveSigner.ts), or kind 'none'. */
  serveSigner: SignerPlan
  model: ModelPlan
  token: TokenPlan
}

/** The variables naming a signer plan (`prefix` IMO_ for the operator, IMO_SERVE_ for serve). */
function signerVariables(signer: SignerPlan, cwd: string, prefix: string): Record<string, string> {
  const set: Record<string, string> = {}
  switch (signer.kind) {
    case 'new-keystore':
      if (signer.location === 'project') set[`${prefix}KEYSTORE`] = settingPath(signer.path, cwd)
      else set[`${prefix}ACCOUNT`] = signer.name
      break
    case 'keystore':
      set[`${prefix}KEYSTORE`] = settingPath(signer.path, cwd)
      break
    case 'account':
      set[`${prefix}ACCOUNT`] = signer.name
      break
    case 'private-key-file':
      set[`${prefix}PRIVATE_KEY_FILE`] = settingPath(signer.path, cwd)
      break
    case 'mnemonic-file':
      set[`${prefix}MNEMONIC_FILE`] = settingPath(signer.path, cwd)
      set[`${prefix}MNEMONIC_INDEX`] = String(signer.index)
      break
    default:
      break
  }
  return set
}

export const ENV_HEADER = [
  'Written by `imo init`. Settings by reference only: no private key or password is stored here.',
  'A keystore password is asked when needed, or read from IMO_KEYSTORE_PASSWORD / IMO_PASSWORD_FILE.',
  'Keep this file out of version control (the RPC URL may hold an API key).',
]

/** What imo.config.json holds: top-level settings, and sections named after commands. */
export type ConfigValues = Record<string, string | number | Record<string, string | number | string[]>>

/**
 * The variables and config keys a plan sets and removes.
 * @param plan - the wizard's answers.
 * @param cwd - the working folder (paths inside it are saved relative to it).
 * @returns env variables to set and remove, config keys to set and remove.
 * @example
 * planSettings(plan, process.cwd()).env.set // { IMO_RPC_URL: 'https://…', IMO_KEYSTORE: '.imo/keystores/deployer.json' }
 */
export function planSettings(
  plan: InitPlan,
  cwd: string,
): {
  env: { set: Record<string, string>; remove: string[] }
  config: { set: ConfigValues; remove: string[] }
} {
  const set: Record<string, string> = {}
  const remove: string[] = []
  const configSet: ConfigValues = {}
  const configRemove: string[] = []
  if (plan.rpc.kind === 'url') {
    set.IMO_RPC_URL = plan.rpc.url
    if (plan.rpc.chainId !== undefined) configSet.chainId = plan.rpc.chainId
    else configRemove.push('chainId')
  } else {
    remove.push('IMO_RPC_URL', 'IMO_CHAIN_ID')
    configRemove.push('rpcUrl', 'chainId')
  }
  const signer = plan.signer
  Object.assign(set, signerVariables(signer, cwd, 'IMO_'))
  if (signer.kind !== 'none') {
    // Exactly one signer source: drop the others (a password file only goes with a keystore).
    const keep = new Set(Object.keys(set))
    if (signer.kind === 'keystore' || signer.kind === 'account') keep.add('IMO_PASSWORD_FILE')
    for (const variable of SIGNER_ENV_VARS) if (!keep.has(variable)) remove.push(variable)
    // Signer settings belong in .env (by reference); stale ones in the config file would only confuse.
    configRemove.push('privateKey', 'privateKeyFile', 'keystore', 'account', 'mnemonicFile', 'mnemonicIndex', 'passwordFile')
  }
  // serve's own key, beside the operator's; 'none' leaves what .env has.
  const serveSigner = plan.serveSigner
  if (serveSigner.kind !== 'none') {
    const serveSet = signerVariables(serveSigner, cwd, 'IMO_SERVE_')
    Object.assign(set, serveSet)
    const keep = new Set(Object.keys(serveSet))
    if (serveSigner.kind === 'keystore' || serveSigner.kind === 'account') keep.add(serveVariable('IMO_PASSWORD_FILE'))
    for (const variable of SIGNER_ENV_VARS.map(serveVariable)) if (!keep.has(variable)) remove.push(variable)
  }
  // The model and token parameters are deploy-time settings: a section per command keeps them from
  // filling the same-named flags of other commands (`imo verify --model` must default to the record's).
  const t = plan.token
  configSet.deploy = {
    model: plan.model.path,
    name: t.name,
    symbol: t.symbol,
    supply: t.supply,
    percentClaimable: Number(t.percentClaimable),
    snapshotInterval: Number(t.snapshotInterval),
    claimWindow: Number(t.claimWindow),
    royaltyBps: Number(t.royaltyBps),
    mintFee: t.mintFee,
    requestFee: t.requestFee,
    requestTimeout: Number(t.requestTimeout),
    // Both keys sign proofs: the operator's (mint, infer-and-mint) and serve's (fulfil).
    ...(deployAttesters(plan) ? { attester: deployAttesters(plan)! } : {}),
  }
  configSet.infer = { model: plan.model.path }
  // Flat keys of earlier versions would still apply to every command.
  configRemove.push(
    'model',
    'name',
    'symbol',
    'supply',
    'percentClaimable',
    'snapshotInterval',
    'claimWindow',
    'royaltyBps',
    'mintFee',
  )
  return { env: { set, remove }, config: { set: configSet, remove: configRemove } }
}

/** The attesters to deploy with when serve has its own key: the operator's address and serve's. */
export function deployAttesters(plan: Pick<InitPlan, 'signer' | 'serveSigner'>): string[] | undefined {
  const operator = 'address' in plan.signer ? plan.signer.address : undefined
  const serve = 'address' in plan.serveSigner ? plan.serveSigner.address : undefined
  return operator && serve ? [operator, serve] : undefined
}

export interface WriteInitResult {
  envFile?: string
  envBackup?: string
  env: { replaced: string[]; added: string[]; removed: string[] }
  configFile?: string
  keystore?: { path: string; address: string }
  serveKeystore?: { path: string; address: string }
  /** Where the bundled model was copied to. */
  modelCopy?: string
}

/** Writes a new encrypted keystore (0600, its folder 0700), refusing to replace a file. */
async function writeKeystore(signer: Extract<SignerPlan, { kind: 'new-keystore' }>): Promise<{ path: string; address: string }> {
  if (existsSync(signer.path)) throw new UsageError(`${signer.path} exists already; nothing was written`)
  const { encryptKeystore } = await import('../signer/keystore.js')
  const keystore = await encryptKeystore(signer.privateKey, signer.password)
  const folder = resolve(signer.path, '..')
  if (!existsSync(folder)) mkdirSync(folder, { recursive: true, mode: 0o700 })
  writeFileAtomic(signer.path, `${JSON.stringify(keystore, null, 2)}\n`, { mode: 0o600 })
  return { path: signer.path, address: signer.address }
}

function backupPath(envPath: string): string {
  let candidate = `${envPath}.bak`
  for (let i = 2; existsSync(candidate); i++) candidate = `${envPath}.bak.${i}`
  return candidate
}

/**
 * Writes the new keystore (if any), `.env` and `imo.config.json`.
 * @param plan - the wizard's answers.
 * @param options - working folder; which files to write (false skips one the user chose to keep).
 * @returns the files written and which variables changed.
 * @throws UsageError when imo.config.json exists but is not a JSON object, or the keystore target appeared meanwhile.
 * @example
 * import { writeInitFiles } from './writeInitFiles.js'
 * const result = writeInitFiles(plan, { cwd: process.cwd(), env: true, config: true })
 * result.envFile // '/project/.env'
 */
export async function writeInitFiles(
  plan: InitPlan,
  options: { cwd: string; env: boolean; config: boolean; onStep?(text: string): void },
): Promise<WriteInitResult> {
  const { env, config } = planSettings(plan, options.cwd)
  const result: WriteInitResult = { env: { replaced: [], added: [], removed: [] } }
  const configPath = resolve(options.cwd, CONFIG_FILE)
  let configValue: Record<string, unknown> = {}
  if (options.config && existsSync(configPath)) {
    try {
      const parsed = JSON.parse(readFileSync(configPath, 'utf8')) as unknown
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object')
      configValue = parsed as Record<string, unknown>
    } catch (error) {
      throw new UsageError(
        `${CONFIG_FILE} exists but is not valid (${(error as Error).message}); fix or remove it, then re-run imo init`,
      )
    }
  }
  if (plan.signer.kind === 'new-keystore') {
    options.onStep?.('encrypting the new keystore (scrypt)')
    result.keystore = await writeKeystore(plan.signer)
  }
  if (plan.serveSigner.kind === 'new-keystore') {
    options.onStep?.("encrypting serve's new keystore (scrypt)")
    result.serveKeystore = await writeKeystore(plan.serveSigner)
  }
  if (plan.model.copyFrom) {
    const target = resolve(options.cwd, plan.model.path)
    if (!existsSync(target)) {
      options.onStep?.(`copying the bundled model to ${plan.model.path}`)
      cpSync(plan.model.copyFrom, target, { recursive: true, errorOnExist: true, force: false })
      result.modelCopy = target
    }
  }
  if (options.env) {
    const envPath = join(options.cwd, '.env')
    const existing = existsSync(envPath) ? readFileSync(envPath, 'utf8') : undefined
    if (existing !== undefined) {
      result.envBackup = backupPath(envPath)
      writeFileAtomic(result.envBackup, existing, { mode: 0o600 })
    }
    const merged = mergeEnvText(existing, env.set, env.remove, ENV_HEADER)
    writeFileAtomic(envPath, merged.text, { mode: 0o600 })
    chmodSync(envPath, 0o600) // whatever the umask
    result.envFile = envPath
    result.env = { replaced: merged.replaced, added: merged.added, removed: merged.removed }
  }
  if (options.config) {
    for (const key of config.remove) delete configValue[key]
    Object.assign(configValue, config.set)
    writeFileAtomic(configPath, `${JSON.stringify(configValue, null, 2)}\n`, { mode: 0o644 })
    result.configFile = configPath
  }
  return result
}
