/**
 * Loads `.env` (quietly, never overriding the environment) and `imo.config.json` (values for
 * options still unset after flags and environment). See src/cli/options.ts for the precedence.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { UsageError } from '../errors.js'
import { readRegularFile } from '../util/readRegularFile.js'
import { envFallbacks } from './options.js'

/**
 * The config file `imo init` writes; keys are option names in camelCase (e.g. "chainId"), at the top
 * level for every command or in a section named after one command (see applyConfig).
 */
export const CONFIG_FILE = 'imo.config.json'

/** Loads `.env` from the working folder into process.env without overriding what is set. */
export async function loadDotenv(cwd = process.cwd()): Promise<void> {
  const path = resolve(cwd, '.env')
  if (!existsSync(path)) return
  // dotenv is CommonJS: its API is the default export under both Node's ESM loader and the bundle.
  const { default: dotenv } = await import('dotenv')
  const parsed = dotenv.parse(readRegularFile(path, '.env', { maxBytes: 1024 * 1024 }))
  for (const [key, value] of Object.entries(parsed)) if (process.env[key] === undefined) process.env[key] = value
}

/**
 * Options a config file may never set: consent (skipping a confirmation, running someone's code, doing
 * a value-moving step again) and secrets. They come only from flags and the environment, so a file
 * checked into a repository or written by someone else cannot spend, burn or sign on its own.
 */
const REFUSED_IN_CONFIG: Readonly<Record<string, string>> = {
  yes: 'it skips confirmations',
  force: 'it overrides a safety check',
  again: 'it repeats a value-moving step',
  trustPipeline: "it consents to running the model author's code",
  privateKey: 'it is a secret',
}

/** Keys that would reach an object's prototype (`__proto__`) or shadow its plumbing. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

/** True for option names that carry a secret value (a key, password or mnemonic itself, not a file naming one). */
const isSecretName = (key: string) => /(privateKey|password|mnemonic|secret|apiKey)$/i.test(key)

/** Reads imo.config.json from the working folder ({} when absent; a clear error when malformed). */
export function readConfigFile(cwd = process.cwd()): Record<string, unknown> {
  const path = resolve(cwd, CONFIG_FILE)
  if (!existsSync(path)) return {}
  let value: unknown
  try {
    value = JSON.parse(readRegularFile(path, CONFIG_FILE, { maxBytes: 1024 * 1024 }).toString('utf8')) as unknown
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object')
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new UsageError(`${CONFIG_FILE} is not valid: ${(error as Error).message}`, { cause: error })
  }
  return value as Record<string, unknown>
}

function refuseKey(key: string, where: string): void {
  if (PROTOTYPE_KEYS.has(key)) throw new UsageError(`${CONFIG_FILE}: key "${key}"${where} is not allowed`)
  const reason = Object.hasOwn(REFUSED_IN_CONFIG, key) ? REFUSED_IN_CONFIG[key] : isSecretName(key) ? 'it is a secret' : undefined
  if (reason)
    throw new UsageError(`${CONFIG_FILE}: "${key}"${where} cannot be set in a config file (${reason})`, {
      hint: 'give it as a flag or an IMO_* environment variable; remove it from the file',
    })
}

/**
 * Checks a config file against the program: every key is a known option (at the top level, of any
 * command; in a section, of that command) or a command's section; prototype keys, consent options
 * (`yes`, `trustPipeline`, ...) and secrets (`privateKey`, ...) are refused.
 * @param program - the root command.
 * @param config - the parsed file.
 * @throws UsageError (exit 2) naming the first offending key.
 * @example
 * checkConfig(buildProgram(), { yes: true }) // throws: "yes" cannot be set in a config file (it skips confirmations)
 */
export function checkConfig(program: Command, config: Record<string, unknown>): void {
  const sections = new Map<string, Set<string>>()
  const everyOption = new Set<string>()
  const visit = (command: Command, path: string[]) => {
    const own = new Set(command.options.map((option) => option.attributeName()))
    for (const key of own) everyOption.add(key)
    if (path.length > 0) sections.set(path.join(' '), own)
    for (const sub of command.commands) visit(sub, [...path, sub.name()])
  }
  visit(program, [])
  for (const [key, value] of Object.entries(config)) {
    refuseKey(key, '')
    const section = sections.get(key)
    if (section) {
      if (value === null || typeof value !== 'object' || Array.isArray(value))
        throw new UsageError(`${CONFIG_FILE}: section "${key}" must be an object of that command's options`)
      for (const inner of Object.keys(value)) {
        refuseKey(inner, ` in section "${key}"`)
        if (!section.has(inner))
          throw new UsageError(`${CONFIG_FILE}: unknown key "${inner}" in section "${key}" (not an option of imo ${key})`)
      }
    } else if (!everyOption.has(key))
      throw new UsageError(`${CONFIG_FILE}: unknown key "${key}" (neither an option nor a command section)`)
    else if (value !== null && typeof value === 'object' && !Array.isArray(value))
      throw new UsageError(`${CONFIG_FILE}: "${key}" must be a plain value, not an object`)
  }
}

/**
 * Fills a flag that neither the command line nor its IMO_* variable set from its fallback variable
 * (`--rpc-url` from ETH_RPC_URL, as cast reads it), marked as coming from the environment so that
 * imo.config.json does not override it. Runs after .env is loaded, like commander's own env reading.
 * @example
 * applyEnvFallbacks(command) // ETH_RPC_URL=http://127.0.0.1:8545 -> command.opts().rpcUrl
 */
export function applyEnvFallbacks(command: Command): void {
  for (const option of command.options) {
    const variable = envFallbacks.get(option)
    if (variable === undefined) continue
    const key = option.attributeName()
    const source = command.getOptionValueSource(key)
    if (source === 'cli' || source === 'env') continue
    const value = process.env[variable]
    if (value) command.setOptionValueWithSource(key, value, 'env')
  }
}

/**
 * Fills options that neither a flag nor the environment set from the config file, recording the
 * source as 'config' so later code can tell where a value came from. Top-level keys apply to every
 * command that has the option; a section named after a command (`"deploy": {...}`,
 * `"revenue deposit": {...}`) applies to that command only and wins over the top level, so a
 * deploy-time `model` does not leak into, say, `imo verify --model`. The file is checked first
 * (see checkConfig): consent options, secrets, unknown and prototype keys are refused.
 * @example
 * applyConfig(command, { chainId: 1, deploy: { model: './models/cppn', supply: '1000000' } })
 */
export function applyConfig(command: Command, config: Record<string, unknown>): void {
  const path: string[] = []
  let root = command
  for (let at: Command | null = command; at?.parent; at = at.parent) {
    path.unshift(at.name())
    root = at.parent
  }
  checkConfig(root, config)
  const section = Object.hasOwn(config, path.join(' ')) ? config[path.join(' ')] : undefined
  const values = new Map<string, unknown>()
  for (const [key, value] of Object.entries(config)) if (value === null || typeof value !== 'object') values.set(key, value)
  if (section && typeof section === 'object' && !Array.isArray(section))
    for (const [key, value] of Object.entries(section)) values.set(key, value)
  for (const option of command.options) {
    const key = option.attributeName()
    if (!values.has(key)) continue
    const source = command.getOptionValueSource(key)
    if (source === 'cli' || source === 'env') continue
    const value = values.get(key)
    command.setOptionValueWithSource(key, typeof value === 'number' ? String(value) : value, 'config')
  }
}
