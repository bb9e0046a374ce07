/**
 * The built-in `causal-lm` pipeline's view of a model folder (docs/formats.md section 10): `imo.pipeline.json`
 * (`{"kind": "causal-lm", ...settings}`) beside a decoder exported in the Hugging Face Optimum layout
 * (a plain decoder with or without a KV cache, or Optimum's merged decoder with `use_cache_branch`),
 * `tokenizer.json` (read with @huggingface/tokenizers, in a worker: loadTokenizer.ts), and optional
 * `tokenizer_config.json`, `config.json` and `generation_config.json`. Every file is read once and its
 * bytes checked against the model hash before they are used. The model's input and output names, types
 * and cache shapes are read from the model itself.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { UsageError } from '../errors.js'
import type { LoadedModel, ModelValue } from '../inference/loadModel.js'
import { LM_PIPELINE_FILE } from '../inference/loadPipeline.js'
import { describeValues } from '../inference/runModel.js'
import { parseJson } from '../util/parseJson.js'
import { readRegularFile } from '../util/readRegularFile.js'
import { loadTokenizer, type TextTokenizer } from './loadTokenizer.js'

/** The pipeline description file of a generation model. */
export { LM_PIPELINE_FILE } from '../inference/loadPipeline.js'

/** The pipeline kinds imo knows. */
export const PIPELINE_KINDS = ['causal-lm', 'zk-image'] as const

/** One cache entry: the past input and the present output that feeds it at the next step. */
export interface CacheSlot {
  past: string
  present: string
  type: 'float32' | 'float16'
  /** [heads, headSize]; the full shape is [1, heads, pastLength, headSize]. */
  heads: number
  headSize: number
}

/** A model folder ready for causal-lm generation. */
export interface CausalLm {
  model: LoadedModel
  tokenizer: TextTokenizer
  /** imo.pipeline.json and generation_config.json, parsed. */
  pipelineJson: Record<string, unknown>
  generationConfig: Record<string, unknown>
  /** config.json's eos_token_id(s), the stop ids when no other file names any. */
  configEosIds: number[]
  idsType: 'int64' | 'int32'
  maskType: 'int64' | 'int32'
  /** Names of the optional inputs, when the model has them. */
  positionIds: boolean
  /**
   * Optimum's merged decoder: a bool input `use_cache_branch` chooses between the graph without past
   * (false, the first step) and the one with it (true, every later step when the cache is used).
   */
  useCacheBranch: boolean
  cache: CacheSlot[]
  logitsType: 'float32' | 'float16'
  /** Positions the model can attend to, when config.json or imo.pipeline.json says. */
  contextSize: number | undefined
}

const loaded = new WeakMap<LoadedModel, Promise<CausalLm | undefined>>()

/**
 * Whether a model folder selects a built-in pipeline (holds imo.pipeline.json).
 * @example
 * hasLmPipeline('models/tinylm') // true
 */
export function hasLmPipeline(folder: string): boolean {
  return existsSync(join(folder, LM_PIPELINE_FILE))
}

/**
 * Reads a loaded model's causal-lm pipeline, once per model.
 * @param model - from loadModel.
 * @returns the generation view, or undefined when the folder holds no imo.pipeline.json.
 * @throws UsageError (one line) for an unknown kind, a missing tokenizer.json, or a model that is not
 *   a decoder in the Optimum layout (no logits output, unknown inputs, a cache input without output).
 * @example
 * import { loadModel } from './inference/loadModel.js'
 * import { loadCausalLm } from './generate/loadCausalLm.js'
 * const lm = await loadCausalLm(await loadModel('models/tinylm'))
 * lm?.cache.length // 6 (3 layers, key and value)
 */
export function loadCausalLm(model: LoadedModel): Promise<CausalLm | undefined> {
  let loading = loaded.get(model)
  if (!loading) {
    loading = read(model)
    loaded.set(model, loading)
    loading.catch(() => loaded.delete(model))
  }
  return loading
}

async function read(model: LoadedModel): Promise<CausalLm | undefined> {
  const folder = model.absolutePath
  if (model.onnxPath === folder || !hasLmPipeline(folder)) return undefined
  const pipelineJson = readJson(model, LM_PIPELINE_FILE, true)!
  if (!PIPELINE_KINDS.includes(pipelineJson.kind as never))
    throw new UsageError(
      `${LM_PIPELINE_FILE}: unknown pipeline kind ${JSON.stringify(pipelineJson.kind)} (imo knows: ${PIPELINE_KINDS.join(', ')})`,
    )
  // A zk model's built-in pipeline is src/zk/loadZkPipeline.ts.
  if (pipelineJson.kind !== 'causal-lm') return undefined
  const config = readJson(model, 'config.json') ?? {}
  const generationConfig = readJson(model, 'generation_config.json') ?? {}
  const shape = describeDecoder(model, config)
  const tokenizerText = readHashedFile(model, 'tokenizer.json')
  if (tokenizerText === undefined)
    throw new UsageError(`the causal-lm pipeline needs tokenizer.json in ${folder} (the Hugging Face tokenizer of the model)`)
  const tokenizerConfig = readHashedFile(model, 'tokenizer_config.json') ?? '{}'
  parseObject(tokenizerConfig, 'tokenizer_config.json')
  const tokenizer = await loadTokenizer(tokenizerText, tokenizerConfig)
  const eos = config.eos_token_id
  const configEosIds = (Array.isArray(eos) ? eos : eos === undefined || eos === null ? [] : [eos]) as number[]
  const context = pipelineJson.contextSize ?? config.max_position_embeddings ?? config.n_positions ?? config.n_ctx
  return {
    model,
    tokenizer,
    pipelineJson,
    generationConfig,
    configEosIds,
    ...shape,
    contextSize: Number.isSafeInteger(context) && (context as number) > 0 ? (context as number) : undefined,
  }
}

/**
 * A file of the model folder as the model hash covers it: read once, its SHA-256 compared with the
 * manifest's, and its text returned (the bytes checked are the bytes used).
 * @returns the text, or undefined when the folder had no such file when it was hashed.
 * @throws UsageError when the file changed since it was hashed.
 */
function readHashedFile(model: LoadedModel, name: string): string | undefined {
  const listed = model.files.find((file) => file.path === name)
  if (!listed) return undefined
  const bytes = readRegularFile(join(model.absolutePath, name), name)
  if (createHash('sha256').update(bytes).digest('hex') !== listed.sha256)
    throw new UsageError(`${name} of ${model.path} changed after the model was hashed; try again`)
  return bytes.toString('utf8')
}

function readJson(model: LoadedModel, name: string, required = false): Record<string, unknown> | undefined {
  const text = readHashedFile(model, name)
  if (text === undefined) {
    if (required) throw new UsageError(`${name} is missing`)
    return undefined
  }
  return parseObject(text, name)
}

function parseObject(text: string, name: string): Record<string, unknown> {
  const value = parseJson(text, name)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${name} must hold a JSON object`)
  return value as Record<string, unknown>
}

function describeDecoder(model: LoadedModel, config: Record<string, unknown>) {
  const expects = `a causal-lm model has inputs input_ids, attention_mask, optional position_ids, past_key_values.N.key|value and use_cache_branch, and outputs logits and optional present.N.key|value; this one has inputs ${describeValues(model.inputs)} and outputs ${describeValues(model.outputs)}`
  const input = (name: string) => model.inputs.find((v) => v.name === name)
  const output = (name: string) => model.outputs.find((v) => v.name === name)
  const integer = (value: ModelValue | undefined, name: string) => {
    if (!value) throw new UsageError(`the model has no input ${name}: ${expects}`)
    if (value.type !== 'int64' && value.type !== 'int32')
      throw new UsageError(`input ${name} is ${value.type}, not int64 or int32: ${expects}`)
    return value.type
  }
  const idsType = integer(input('input_ids'), 'input_ids')
  const maskType = integer(input('attention_mask'), 'attention_mask')
  const position = input('position_ids')
  if (position && position.type !== idsType) throw new UsageError(`input position_ids is ${position.type}, not ${idsType}`)
  const logits = output('logits')
  if (!logits) throw new UsageError(`the model has no output logits: ${expects}`)
  if (logits.type !== 'float32' && logits.type !== 'float16')
    throw new UsageError(`output logits is ${logits.type}, not float32 or float16`)
  const branch = input('use_cache_branch')
  if (branch && branch.type !== 'bool')
    throw new UsageError(`input use_cache_branch is ${branch.type}, not bool (Optimum's merged decoder)`)
  const cache: CacheSlot[] = []
  for (const value of model.inputs) {
    if (['input_ids', 'attention_mask', 'position_ids', 'use_cache_branch'].includes(value.name)) continue
    const match = /^past_key_values\.(\d+)\.(key|value)$/.exec(value.name)
    if (!match) throw new UsageError(`the model has an input ${value.name} that imo cannot fill: ${expects}`)
    const present = `present.${match[1]}.${match[2]}`
    if (!output(present)) throw new UsageError(`the model has ${value.name} but no output ${present}: ${expects}`)
    if (value.type !== 'float32' && value.type !== 'float16')
      throw new UsageError(`cache input ${value.name} is ${value.type}, not float32 or float16`)
    if (value.shape.length !== 4)
      throw new UsageError(`cache input ${value.name} must have 4 dimensions [batch, heads, past, size]`)
    const heads = dimension(value.shape[1], config, ['num_key_value_heads', 'num_attention_heads', 'n_head'])
    const hidden = dimension(undefined, config, ['hidden_size', 'n_embd'])
    const headSize =
      typeof value.shape[3] === 'number' && value.shape[3] > 0
        ? value.shape[3]
        : dimension(undefined, config, ['head_dim']) ||
          (hidden && heads ? hidden / dimension(undefined, config, ['num_attention_heads', 'n_head']) : 0)
    if (!heads || !headSize || !Number.isSafeInteger(headSize))
      throw new UsageError(
        `cannot tell the heads and head size of ${value.name}: its shape is symbolic and config.json does not say`,
      )
    cache.push({ past: value.name, present, type: value.type, heads, headSize })
  }
  cache.sort((a, b) => (a.past < b.past ? -1 : a.past > b.past ? 1 : 0))
  if (branch && cache.length === 0)
    throw new UsageError(`the model has use_cache_branch but no past_key_values inputs: ${expects}`)
  return {
    idsType,
    maskType,
    positionIds: Boolean(position),
    useCacheBranch: Boolean(branch),
    cache,
    logitsType: logits.type,
  } as const
}

function dimension(fixed: number | string | undefined, config: Record<string, unknown>, keys: string[]): number {
  if (typeof fixed === 'number' && fixed > 0) return fixed
  for (const key of keys) if (Number.isSafeInteger(config[key])) return config[key] as number
  return 0
}
