/**
 * One causal-lm inference as imo commits it (docs/formats.md, "Generation"): the prompt's token ids
 * are the input tensor `input_ids` (int64 [1, n]), the generated ids the output tensor `generated_ids`
 * (int64 [1, m], a final stop id included), the settings `config.generation`, and the decoded UTF-8
 * text the artifact (`text/plain; charset=utf-8`).
 */
import { UsageError } from '../errors.js'
import type { TensorSet } from '../tensor/dtypes.js'
import { type GenerateOptions, type GenerateResult, generateTokens } from './generateTokens.js'
import { type GenerationFlags, type GenerationSettings, resolveGenerationSettings } from './generationSettings.js'
import type { CausalLm } from './loadCausalLm.js'
import { streamText } from './streamText.js'

/** The artifact mime type of a generation. */
export const TEXT_MIME = 'text/plain; charset=utf-8'
/** The committed tensors' names. */
export const PROMPT_IDS = 'input_ids'
export const GENERATED_IDS = 'generated_ids'

export interface GenerationRun {
  inputs: TensorSet
  outputs: TensorSet
  artifact: { bytes: Uint8Array; mime: string }
  settings: GenerationSettings
  promptIds: number[]
  result: GenerateResult
  text: string
}

/**
 * Encodes the prompt (or takes committed prompt ids), generates, and decodes the text.
 * @param lm - from loadCausalLm.
 * @param source - the prompt text, or input tensors holding `input_ids` (a re-run of committed ids).
 * @param settings - flags to resolve against the folder's files, or recorded settings as they are.
 * @param options - cache use and hooks (progress, --stream, tests).
 * @returns the committed tensors, the artifact, and the loop's timings.
 * @throws UsageError for bad settings, an empty or too long prompt, or inputs without input_ids.
 * @example
 * import { runGeneration } from './generate/runGeneration.js'
 * const run = await runGeneration(lm, { prompt: 'The river' }, { flags: { maxNewTokens: 32 } })
 * run.text // ' ran past the mill…'
 */
export async function runGeneration(
  lm: CausalLm,
  source: { prompt: string } | { inputs: TensorSet },
  settings: { flags: GenerationFlags } | { recorded: GenerationSettings },
  options: GenerateOptions & { onText?: (delta: string) => void } = {},
): Promise<GenerationRun> {
  const resolved = 'recorded' in settings ? settings.recorded : generationSettingsOf(lm, settings.flags)
  const promptIds = 'prompt' in source ? await lm.tokenizer.encode(source.prompt) : promptIdsOf(source.inputs)
  const { onText, ...loop } = options
  const stream = onText ? streamText(lm.tokenizer, onText) : undefined
  if (stream)
    loop.onToken = (id, index) => {
      options.onToken?.(id, index)
      stream.push(id)
    }
  const result = await generateTokens(lm, promptIds, resolved, loop)
  const { text, artifact } = await textOf(lm, result.ids)
  await stream?.finish(text)
  return {
    inputs: { [PROMPT_IDS]: idsTensor(promptIds) },
    outputs: { [GENERATED_IDS]: idsTensor(result.ids) },
    artifact,
    settings: resolved,
    promptIds,
    result,
    text,
  }
}

/**
 * The settings a generation runs with when nothing overrides them but `flags`: resolved against the
 * model folder's imo.pipeline.json, generation_config.json and config.json (all covered by the model
 * hash), so two processes with the same model and no flags commit the same settings.
 * @example
 * generationSettingsOf(lm).maxNewTokens // 64, or what the folder's files say
 */
export function generationSettingsOf(lm: CausalLm, flags: GenerationFlags = {}): GenerationSettings {
  return resolveGenerationSettings({ pipeline: lm.pipelineJson, generationConfig: lm.generationConfig }, flags, lm.configEosIds)
}

/**
 * The artifact of generated token ids: their decoded text, as UTF-8 bytes (`text/plain`).
 * @example
 * (await textOf(lm, [72, 105])).text // 'Hi'
 */
export async function textOf(
  lm: CausalLm,
  ids: readonly number[],
): Promise<{ text: string; artifact: { bytes: Uint8Array; mime: string } }> {
  const text = await lm.tokenizer.decode(ids)
  return { text, artifact: { bytes: new Uint8Array(Buffer.from(text, 'utf8')), mime: TEXT_MIME } }
}

/**
 * The token ids of an int64 [1, n] tensor (`input_ids` or `generated_ids`).
 * @throws UsageError when the tensor is missing or of another type or shape.
 * @example
 * idsOf({ input_ids: { type: 'int64', dims: [1, 2], data: new BigInt64Array([72n, 105n]) } }, 'input_ids') // [72, 105]
 */
export function idsOf(set: TensorSet, name: string): number[] {
  const tensor = set[name]
  const names = Object.keys(set).join(', ') || 'none'
  if (tensor?.type !== 'int64' || tensor.dims.length !== 2 || tensor.dims[0] !== 1)
    throw new UsageError(
      `a causal-lm ${name === PROMPT_IDS ? 'input' : 'output'} is one tensor ${name} int64[1,n] (got: ${names})`,
    )
  return Array.from(tensor.data as BigInt64Array, Number)
}

function promptIdsOf(inputs: TensorSet): number[] {
  const extra = Object.keys(inputs).filter((name) => name !== PROMPT_IDS)
  if (extra.length) throw new UsageError(`a causal-lm input is one tensor ${PROMPT_IDS} int64[1,n], not ${extra.join(', ')}`)
  return idsOf(inputs, PROMPT_IDS)
}

/**
 * Token ids as the committed int64 [1, n] tensor.
 * @example
 * idsTensor([72, 105]) // { type: 'int64', dims: [1, 2], data: BigInt64Array [72n, 105n] }
 */
export function idsTensor(ids: readonly number[]) {
  return { type: 'int64' as const, dims: [1, ids.length], data: BigInt64Array.from(ids, BigInt) }
}
