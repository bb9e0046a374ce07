/**
 * Loads `.env` (quietly, never overriding the environment) and `imo.config.json` (values for
 * options still unset after flags and environment). See src/cli/options.ts for the precedence.
 */
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { UsageError } from '../errors.js'

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
  const parsed = dotenv.parse(readFileSync(path))
  for (const [key, value] of Object.entries(parsed)) if (process.env[key] === undefined) process.env[key] = value
}

/** Reads imo.config.json from the working folder ({} when absent; a clear error when malformed). */
export function readConfigFile(cwd = process.cwd()): Record<string, unknown> {
  const path = resolve(cwd, CONFIG_FILE)
  if (!existsSync(path)) return {}
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as unknown
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object')
    return value as Record<string, unknown>
  } catch (error) {
    throw new UsageError(`${CONFIG_FILE} is not valid: ${(error as Error).message}`, { cause: error })
  }
}

/**
 * Fills options that neither a flag nor the environment set from the config file, recording the
 * source as 'config' so later code can tell where a value came from. Top-level keys apply to every
 * command that has the option; a section named after a command (`"deploy": {...}`,
 * `"revenue deposit": {...}`) applies to that command only and wins over the top level, so a
 * deploy-time `model` does not leak into, say, `imo verify --model`.
 * @example
 * applyConfig(command, { chainId: 1, deploy: { model: './models/cppn', supply: '1000000' } })
 */
export function applyConfig(command: Command, config: Record<string, unknown>): void {
  const path: string[] = []
  for (let at: Command | null = command; at?.parent; at = at.parent) path.unshift(at.name())
  const section = config[path.join(' ')]
  const values: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(config)) if (value === null || typeof value !== 'object') values[key] = value
  if (section && typeof section === 'object' && !Array.isArray(section)) Object.assign(values, section)
  for (const option of command.options) {
    const key = option.attributeName()
    if (!(key in values)) continue
    const source = command.getOptionValueSource(key)
    if (source === 'cli' || source === 'env') continue
    const value = values[key]
    command.setOptionValueWithSource(key, typeof value === 'number' ? String(value) : value, 'config')
  }
}
