/**
 * The settings of a generation (docs/formats.md section 10), resolved flag > imo.pipeline.json >
 * generation_config.json > defaults, checked, and committed: they join the inference's settings as
 * `config.generation`, so configHash (and the commitment) cover them.
 */
import { UsageError } from '../errors.js'
import type { SamplingSettings } from './sampleToken.js'

/** Everything that decides which tokens a causal-lm generation produces, as committed. */
export interface GenerationSettings extends SamplingSettings {
  kind: 'causal-lm'
  /** How many tokens to generate at most (the prompt not counted). */
  maxNewTokens: number
  /** Generation stops after producing one of these ids (it is kept in the output). */
  stopIds: number[]
}

/** The generation flags as commander gives them (strings), or numbers from code. */
export interface GenerationFlags {
  maxNewTokens?: string | number
  temperature?: string | number
  topK?: string | number
  topP?: string | number
  seed?: string | number
}

/** Defaults when neither a flag nor a file says: greedy, 64 new tokens. */
export const GENERATION_DEFAULTS = { maxNewTokens: 64, temperature: 0, topK: 0, topP: 1, seed: 0 } as const

type Source = Record<string, unknown>
type Field = 'maxNewTokens' | 'temperature' | 'topK' | 'topP' | 'seed'

const FLAG: Record<Field, string> = {
  maxNewTokens: '--max-new-tokens',
  temperature: '--temperature',
  topK: '--top-k',
  topP: '--top-p',
  seed: '--seed',
}
const HF: Record<Field, string> = {
  maxNewTokens: 'max_new_tokens',
  temperature: 'temperature',
  topK: 'top_k',
  topP: 'top_p',
  seed: 'seed',
}

/**
 * Resolves and checks the generation settings.
 * @param files - the parsed imo.pipeline.json (camelCase keys) and generation_config.json (Hugging
 *   Face keys; `do_sample: false` means greedy, `eos_token_id` a number or a list).
 * @param flags - command-line values (strings) or numbers.
 * @param fallbackStopIds - stop ids when no file names any (config.json's eos_token_id).
 * @returns the settings to generate with and commit.
 * @throws UsageError naming the flag or file key of the first bad value.
 * @example
 * import { resolveGenerationSettings } from './generate/generationSettings.js'
 * resolveGenerationSettings({ pipeline: {}, generationConfig: { eos_token_id: 256 } }, { topP: '0.9', temperature: '0.8' })
 * // { kind: 'causal-lm', maxNewTokens: 64, temperature: 0.8, topK: 0, topP: 0.9, seed: 0, stopIds: [256] }
 */
export function resolveGenerationSettings(
  files: { pipeline: Source; generationConfig: Source },
  flags: GenerationFlags = {},
  fallbackStopIds: readonly number[] = [],
): GenerationSettings {
  const { pipeline, generationConfig: hf } = files
  const value = (field: Field): number => {
    const flag = flags[field]
    if (flag !== undefined) return parse(field, flag, FLAG[field])
    if (pipeline[field] !== undefined) return parse(field, pipeline[field], `imo.pipeline.json ${field}`)
    if (field === 'temperature' && hf.do_sample === false) return 0
    if (hf[HF[field]] !== undefined && hf[HF[field]] !== null)
      return parse(field, hf[HF[field]], `generation_config.json ${HF[field]}`)
    if (field === 'temperature' && hf.do_sample === true) return 1
    return GENERATION_DEFAULTS[field]
  }
  const stop = pipeline.stopIds ?? hf.eos_token_id ?? [...fallbackStopIds]
  const stopIds = (Array.isArray(stop) ? stop : [stop]) as unknown[]
  if (!stopIds.every((id) => Number.isSafeInteger(id) && (id as number) >= 0))
    throw new UsageError(`stop ids must be token ids (whole numbers >= 0), got ${JSON.stringify(stop)}`)
  return {
    kind: 'causal-lm',
    maxNewTokens: value('maxNewTokens'),
    temperature: value('temperature'),
    topK: value('topK'),
    topP: value('topP'),
    seed: value('seed'),
    stopIds: [...new Set(stopIds as number[])].sort((a, b) => a - b),
  }
}

function parse(field: Field, raw: unknown, name: string): number {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN
  const whole = Number.isSafeInteger(n)
  const bad = (expected: string): never => {
    throw new UsageError(`${name} must be ${expected} (got ${JSON.stringify(raw)})`)
  }
  switch (field) {
    case 'maxNewTokens':
      if (!whole || n < 1) bad('a whole number >= 1')
      break
    case 'temperature':
      if (!Number.isFinite(n) || n < 0) bad('a number >= 0 (0 = greedy)')
      break
    case 'topK':
      if (!whole || n < 0) bad('a whole number >= 0 (0 = no limit)')
      break
    case 'topP':
      if (!Number.isFinite(n) || n <= 0 || n > 1) bad('a number > 0 and <= 1')
      break
    case 'seed':
      if (!whole || n < 0) bad('a whole number from 0 to 2^53 - 1')
      break
  }
  return n
}

/**
 * Checks a recorded `config.generation` (from a record being verified).
 * @returns the settings, typed.
 * @throws UsageError naming the first bad field.
 * @example
 * checkRecordedGeneration(record.config.generation).maxNewTokens // 64
 */
export function checkRecordedGeneration(value: unknown): GenerationSettings {
  const g = (value ?? {}) as Record<string, unknown>
  if (g.kind !== 'causal-lm') throw new UsageError('the record\'s config.generation.kind must be "causal-lm"')
  const settings = resolveGenerationSettings(
    { pipeline: { stopIds: g.stopIds }, generationConfig: {} },
    {
      maxNewTokens: g.maxNewTokens as number,
      temperature: g.temperature as number,
      topK: g.topK as number,
      topP: g.topP as number,
      seed: g.seed as number,
    },
  )
  return settings
}
