/**
 * `imo init` behind its command file: the wizard (chain, signer, model, token parameters), a
 * summary, confirmations for files that exist, then the writes (new keystore, `.env`,
 * `imo.config.json`). Nothing is written before the final confirmation; declining writes nothing.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CONFIG_FILE } from '../cli/settings.js'
import { askRpc } from './askRpc.js'
import { askSigner } from './askSigner.js'
import { askModel, askToken } from './askToken.js'
import type { InitPrompter } from './prompter.js'
import {
  type ConfigValues,
  deployAttesters,
  type InitPlan,
  planSettings,
  type WriteInitResult,
  writeInitFiles,
} from './writeInitFiles.js'

export interface InitResult {
  status: 'written' | 'cancelled'
  rpc: { kind: 'devnet' } | { kind: 'url'; url: string; chainId?: number; chainName?: string; local?: boolean }
  signer: { kind: string; address?: string; reference?: string }
  model: { path: string; modelHash: string }
  token: InitPlan['token']
  envFile?: string
  envBackup?: string
  envVariables: { set: string[]; removed: string[] }
  configFile?: string
  config: ConfigValues
  keystore?: { path: string; address: string }
  /** imo serve's own key, when one was chosen. */
  serveSigner?: { kind: string; address?: string }
  serveKeystore?: { path: string; address: string }
  next: string[]
}

/** The operator's signer variables (not the RPC URL, not serve's own key). */
const isSignerVariable = (key: string) => key !== 'IMO_RPC_URL' && !key.startsWith('IMO_SERVE_')

function nextCommands(plan: InitPlan, address: string | undefined): string[] {
  const next: string[] = []
  const serveAddress = 'address' in plan.serveSigner ? plan.serveSigner.address : undefined
  if (plan.rpc.kind === 'devnet') next.push('imo devnet   # in another terminal; leave it running')
  else if (address && plan.signer.kind !== 'devnet-account')
    next.push(`# fund ${address} on ${plan.rpc.chainName ?? 'the chain'} first (gas for the deployment)`)
  if (serveAddress) next.push(`# fund ${serveAddress} too: imo serve pays the fulfilment gas from it`)
  next.push('imo deploy --dry-run', 'imo deploy', 'imo infer-and-mint "a red spiral"', 'imo status')
  if (plan.serveSigner.kind !== 'none')
    next.push('imo serve   # with its own key (IMO_SERVE_* in .env): other commands run meanwhile')
  return next
}

/**
 * Runs the wizard and writes the settings.
 * @param ask - the prompter (inquirer on a terminal).
 * @param context - working folder, the bundled model's path (default model), environment (HOME).
 * @returns what was chosen and written (secrets never included), and the commands to try next.
 * @throws InterruptedError (130) on Ctrl-C, before anything is written; UsageError for a bad existing imo.config.json.
 * @example
 * import { createInquirerPrompter } from './prompter.js'
 * import { runInit } from './runInit.js'
 * const result = await runInit(await createInquirerPrompter(), { cwd: process.cwd(), bundledModel: '/…/imo/models/cppn' })
 * result.envFile // '/project/.env'
 */
export async function runInit(
  ask: InitPrompter,
  context: { cwd: string; bundledModel: string; env?: NodeJS.ProcessEnv },
): Promise<InitResult> {
  const { note, spinner, color, warn } = await import('../cli/ui.js')
  const { displayUrl } = await import('../chain/toImoError.js')
  note(color.bold('imo init: settings for this folder (.env and imo.config.json). Ctrl-C leaves everything as it was.'))
  const rpc = await askRpc(ask)
  const local = rpc.kind === 'devnet' || Boolean(rpc.local)
  // The dev-account fallback only applies to a chain found through .imo/devnet.json, not to a typed URL.
  const signer = await askSigner(ask, {
    cwd: context.cwd,
    devnet: rpc.kind === 'devnet',
    ...(context.env ? { env: context.env } : {}),
  })
  if ('address' in signer && signer.address) note(`signer address ${signer.address}`)
  const serveSigner = await askSigner(ask, {
    cwd: context.cwd,
    devnet: rpc.kind === 'devnet',
    purpose: 'serve',
    ...(context.env ? { env: context.env } : {}),
  })
  if ('address' in serveSigner && serveSigner.address) note(`serve's address ${serveSigner.address}`)
  if (serveSigner.kind !== 'none' && !deployAttesters({ signer, serveSigner }))
    warn(
      "one of the two addresses is unknown until its keystore is unlocked: after imo deploy, have the collection's owner call addAttester(SERVE_ADDRESS), or deploy with --attester OPERATOR --attester SERVE",
    )
  const model = await askModel(ask, { cwd: context.cwd, bundled: context.bundledModel })
  const token = await askToken(ask, { modelPath: model.path, local })
  const plan: InitPlan = { rpc, signer, serveSigner, model, token }
  const settings = planSettings(plan, context.cwd)

  const envPath = join(context.cwd, '.env')
  const configPath = join(context.cwd, CONFIG_FILE)
  const existingEnv = existsSync(envPath) ? readFileSync(envPath, 'utf8') : undefined
  const removing = settings.env.remove.filter((key) => new RegExp(`^\\s*(?:export\\s+)?${key}\\s*=`, 'm').test(existingEnv ?? ''))
  const shownEnv = Object.entries(settings.env.set).map(([k, v]) => `  ${k}=${k === 'IMO_RPC_URL' ? displayUrl(v) : v}`)
  const envChanges = shownEnv.length > 0 || removing.length > 0
  note(
    [
      '',
      color.bold('.env (mode 0600):'),
      ...(envChanges ? shownEnv : ['  (nothing to set: not written)']),
      ...(removing.length ? [`  removed (kept in the backup): ${removing.join(', ')}`] : []),
      color.bold(`${CONFIG_FILE}:`),
      ...Object.entries(settings.config.set).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
      ...(signer.kind === 'new-keystore' ? [color.bold('new keystore (mode 0600):'), `  ${signer.path}`] : []),
      ...(serveSigner.kind === 'new-keystore' ? [color.bold("serve's new keystore (mode 0600):"), `  ${serveSigner.path}`] : []),
      ...(model.copyFrom ? [color.bold('the bundled model, copied to:'), `  ${model.path}`] : []),
      '',
    ].join('\n'),
  )
  let writeEnv = envChanges
  let writeConfig = true
  if (envChanges && existingEnv !== undefined)
    writeEnv = await ask.confirm(
      '.env exists: merge these settings into it (other lines kept, the old file copied to .env.bak)?',
      true,
    )
  if (existsSync(configPath)) writeConfig = await ask.confirm(`${CONFIG_FILE} exists: update these keys (other keys kept)?`, true)
  const address = 'address' in signer ? signer.address : undefined
  const base = {
    rpc: rpc.kind === 'url' ? { ...rpc, url: displayUrl(rpc.url) } : rpc,
    signer: {
      kind: signer.kind,
      ...(address ? { address } : {}),
      ...(Object.keys(settings.env.set).find(isSignerVariable)
        ? {
            reference: Object.entries(settings.env.set)
              .filter(([k]) => isSignerVariable(k))
              .map(([k, v]) => `${k}=${v}`)
              .join(' '),
          }
        : {}),
    },
    ...(serveSigner.kind !== 'none'
      ? {
          serveSigner: {
            kind: serveSigner.kind,
            ...('address' in serveSigner && serveSigner.address ? { address: serveSigner.address } : {}),
          },
        }
      : {}),
    model: { path: model.path, modelHash: model.modelHash },
    token,
    config: settings.config.set,
    next: nextCommands(plan, address),
  }
  const proceed = (writeEnv || writeConfig) && (await ask.confirm('Write these settings now?', true))
  if (!proceed) return { status: 'cancelled', ...base, envVariables: { set: [], removed: [] } }
  const spin = await spinner('writing the settings')
  let written: WriteInitResult
  try {
    written = await writeInitFiles(plan, { cwd: context.cwd, env: writeEnv, config: writeConfig, onStep: (t) => spin.update(t) })
    spin.succeed('settings written')
  } catch (error) {
    spin.fail()
    throw error
  }
  const gitignore = join(context.cwd, '.gitignore')
  if (
    written.envFile &&
    existsSync(join(context.cwd, '.git')) &&
    !(existsSync(gitignore) && /^\/?\.env$/m.test(readFileSync(gitignore, 'utf8')))
  )
    warn('.env is not in .gitignore: add it (and .imo/) before committing')
  return {
    status: 'written',
    ...base,
    ...(written.envFile ? { envFile: written.envFile } : {}),
    ...(written.envBackup ? { envBackup: written.envBackup } : {}),
    envVariables: { set: [...written.env.replaced, ...written.env.added], removed: written.env.removed },
    ...(written.configFile ? { configFile: written.configFile } : {}),
    ...(written.keystore ? { keystore: written.keystore } : {}),
    ...(written.serveKeystore ? { serveKeystore: written.serveKeystore } : {}),
  }
}
