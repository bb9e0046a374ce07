/**
 * The model and token steps of `imo init`: the model (hashed and shown), then the deployment's
 * parameters with defaults, each checked as `imo deploy` checks its flags.
 */
import { existsSync } from 'node:fs'
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path'
import type { InitPrompter } from './prompter.js'

export interface ModelPlan {
  /** As it will be saved: relative to the working folder when inside it, else absolute. */
  path: string
  modelHash: `0x${string}`
  files: number
  /**
   * The bundled model, chosen from outside the working folder (an npx cache, a global install): it
   * is copied to `path` (`models/cppn`) when the settings are written, so the saved path does not
   * point into a node_modules that moves or goes away.
   */
  copyFrom?: string
}

/** Deployment parameters, as `imo deploy` option values (strings, the way imo.config.json keeps them). */
export interface TokenPlan {
  name: string
  symbol: string
  supply: string
  percentClaimable: string
  snapshotInterval: string
  claimWindow: string
  royaltyBps: string
  mintFee: string
  /** Fee of a paid request (ETH) and how long it stays fulfillable (seconds). */
  requestFee: string
  requestTimeout: string
}

/** A path as saved in settings: `models/cppn` inside the working folder, absolute outside it. */
export function settingPath(path: string, cwd: string): string {
  const rel = relative(cwd, path)
  if (rel === '') return '.'
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? path : rel.split(sep).join('/')
}

/**
 * Asks for the model and hashes it (asks again when hashing fails).
 * @param ask - the prompter.
 * @param context - working folder; the bundled model's absolute path (the default when ./models/cppn is absent).
 * @returns the model path and hash.
 * @example
 * const model = await askModel(ask, { cwd, bundled: '/…/imo/models/cppn' }) // { path: 'models/cppn', modelHash: '0x…', files: 3 }
 */
export async function askModel(ask: InitPrompter, context: { cwd: string; bundled: string }): Promise<ModelPlan> {
  const { color, note, spinner, warn } = await import('../cli/ui.js')
  const { hashModel } = await import('../model/hashModel.js')
  const local = resolve(context.cwd, 'models', 'cppn')
  const fallback = existsSync(local) ? 'models/cppn' : context.bundled
  for (;;) {
    const given = await ask.input('Model (a .onnx file or a model folder; default: the bundled pattern model)', {
      default: fallback,
      validate: (value) => (existsSync(resolve(context.cwd, value.trim())) ? true : 'no such file or folder'),
    })
    const absolute = resolve(context.cwd, given)
    const spin = await spinner(`hashing ${given}`)
    try {
      const { modelHash, files } = await hashModel(absolute)
      spin.stop()
      note(`${color.green('✔')} model hash ${modelHash} (${files.length} file${files.length === 1 ? '' : 's'})`)
      const saved = settingPath(absolute, context.cwd)
      if (absolute === resolve(context.bundled) && isAbsolute(saved) && !existsSync(local)) {
        note(`the bundled model will be copied to ${join('models', 'cppn')} (the settings then name it there)`)
        return { path: 'models/cppn', modelHash, files: files.length, copyFrom: absolute }
      }
      return { path: saved, modelHash, files: files.length }
    } catch (error) {
      spin.stop()
      warn(`cannot hash ${given}: ${(error as Error).message}`)
    }
  }
}

function defaultName(modelPath: string): string {
  const base = basename(modelPath).replace(/\.onnx$/i, '')
  if (base === 'cppn') return 'Pattern Model'
  const words = base.split(/[^A-Za-z0-9]+/).filter(Boolean)
  return `${words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join(' ') || 'My'} Model`
}

function defaultSymbol(name: string): string {
  if (name === 'Pattern Model') return 'PAT'
  const letters = name
    .replace(/ Model$/, '')
    .replace(/[^A-Za-z0-9]/g, '')
    .toUpperCase()
  return letters.slice(0, 4) || 'IMO'
}

/**
 * Asks for the token parameters with defaults (deploy's own defaults; a 60 s snapshot interval on a devnet).
 * @param ask - the prompter.
 * @param context - the model path (for the default name) and whether the chain is local.
 * @returns the parameters as `imo deploy` option values.
 * @example
 * const token = await askToken(ask, { modelPath: 'models/cppn', local: true }) // { name: 'Pattern Model', symbol: 'PAT', … }
 */
export async function askToken(ask: InitPrompter, context: { modelPath: string; local: boolean }): Promise<TokenPlan> {
  const { parseAmount, parseWhole } = await import('../chain/format.js')
  const { DEPLOY_DEFAULTS, MAX_REQUEST_TIMEOUT } = await import('../deployment/deployImo.js')
  const check = (fn: (value: string) => unknown) => (value: string) => {
    try {
      fn(value)
      return true as const
    } catch (error) {
      return (error as Error).message
    }
  }
  const whole = (flag: string, min: bigint, max: bigint) => check((v) => parseWhole(v, flag, { min, max }))
  const text = (flag: string, max: number) => (value: string) =>
    value.trim() === '' ? `${flag} is required` : value.trim().length > max ? `at most ${max} characters` : true
  const name = await ask.input('Token name', { default: defaultName(context.modelPath), validate: text('--name', 64) })
  const symbol = await ask.input('Token symbol', { default: defaultSymbol(name), validate: text('--symbol', 16) })
  const supply = await ask.input('Initial supply (whole tokens, 18 decimals)', {
    default: '1000000',
    validate: whole('--supply', 1n, 10n ** 58n),
  })
  const percentClaimable = await ask.input(
    'Percent of revenue claimable by holders at each snapshot (the rest backs redemption on burn)',
    {
      default: String(DEPLOY_DEFAULTS.percentClaimable),
      validate: whole('--percent-claimable', 0n, 100n),
    },
  )
  const snapshotInterval = await ask.input('Minimum seconds between snapshots', {
    default: String(context.local ? DEPLOY_DEFAULTS.localSnapshotInterval : DEPLOY_DEFAULTS.snapshotInterval),
    validate: whole('--snapshot-interval', 0n, 2n ** 64n - 1n),
  })
  const claimWindow = await ask.input('Claim window (snapshots a claim stays open)', {
    default: String(DEPLOY_DEFAULTS.claimWindow),
    validate: whole('--claim-window', 1n, 32n),
  })
  const royaltyBps = await ask.input('Royalty on resales, paid to the token (basis points, 500 = 5%)', {
    default: String(DEPLOY_DEFAULTS.royaltyBps),
    validate: whole('--royalty-bps', 0n, 10_000n),
  })
  const mintFee = await ask.input('Mint fee per token minted, forwarded to the token (ETH)', {
    default: '0',
    validate: check((v) => parseAmount(v, { name: '--mint-fee', allowZero: true })),
  })
  const { formatUnits } = await import('viem')
  const requestFee = await ask.input('Fee of a paid request (imo request), escrowed, then revenue (ETH)', {
    default: formatUnits(DEPLOY_DEFAULTS.requestFeeWei, 18),
    validate: check((v) => parseAmount(v, { name: '--request-fee', allowZero: true })),
  })
  const requestTimeout = await ask.input('Seconds a paid request stays fulfillable before its fee can be refunded', {
    default: String(DEPLOY_DEFAULTS.requestTimeout),
    validate: whole('--request-timeout', 1n, BigInt(MAX_REQUEST_TIMEOUT)),
  })
  return {
    name,
    symbol,
    supply,
    percentClaimable,
    snapshotInterval,
    claimWindow,
    royaltyBps,
    mintFee,
    requestFee,
    requestTimeout,
  }
}
