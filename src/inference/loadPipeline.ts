/**
 * Model pipelines (README "Models"): `imo.pipeline.mjs` in a model folder turns a prompt into the
 * model's feeds and its outputs into an artifact. The file is part of the model hash, so a commitment
 * covers the exact code; running it is running the model author's code in this process.
 *
 * Contract of the module:
 *   export function encode(prompt: string): Record<string, { type, dims, data }>   (may be async)
 *     `type` an onnxruntime type name, `data` a typed array or a plain (nested) array; an
 *     onnxruntime `Tensor` has this very shape and is accepted too.
 *   export function decode(outputs: Record<string, { type, dims, data }>): { bytes: Uint8Array, mime: string }
 *     (may be async) `outputs` hold the runtime's typed arrays (float16 as raw bit patterns).
 *   or, for a loop of runs (a generation of its own):
 *   export function generate(prompt: string, run: (feeds) => Promise<outputs>):
 *     { inputs, outputs, bytes: Uint8Array, mime: string }   (may be async)
 *     `run(feeds)` is one onnxruntime run of the model (feeds and outputs as above); `inputs` and
 *     `outputs` are the tensors to commit (say the prompt's token ids and the generated ids), `bytes`
 *     and `mime` the artifact. Whatever decides the output must be in them or in the (hashed) code.
 *     With generate, encode and decode are optional. Language models in the Hugging Face Optimum
 *     layout need none of this: imo.pipeline.json selects the built-in causal-lm loop.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { UsageError } from '../errors.js'
import type { TensorSet } from '../tensor/dtypes.js'
import { toTensorValue } from '../tensor/toTensorValue.js'

/** The pipeline's file name inside a model folder. */
export const PIPELINE_FILE = 'imo.pipeline.mjs'

/** The file that selects a built-in pipeline (`{"kind": "causal-lm"}`, src/generate/loadCausalLm.ts). */
export const LM_PIPELINE_FILE = 'imo.pipeline.json'

/** A loaded pipeline with its outputs checked. */
export interface Pipeline {
  /** Absolute path of the module. */
  path: string
  encode(prompt: string): Promise<TensorSet>
  decode(outputs: TensorSet): Promise<{ bytes: Uint8Array; mime: string }>
  /** Present when the module exports generate(prompt, run). */
  generate?(prompt: string, run: (feeds: TensorSet) => Promise<TensorSet>): Promise<GeneratedOutput>
}

/** What a pipeline's generate() returns: the tensors to commit and the artifact. */
export interface GeneratedOutput {
  inputs: TensorSet
  outputs: TensorSet
  bytes: Uint8Array
  mime: string
}

/**
 * The pipeline file of a model folder, or undefined when the folder has none (or the model is a
 * single .onnx file, whose hash cannot cover a pipeline).
 * @example
 * findPipeline('models/cppn') // '/…/models/cppn/imo.pipeline.mjs'
 */
export function findPipeline(modelFolder: string | undefined): string | undefined {
  if (!modelFolder) return undefined
  const path = join(modelFolder, PIPELINE_FILE)
  return existsSync(path) ? path : undefined
}

/**
 * Decides whether the pipeline bytes about to be imported may run; throws (e.g. a UsageError asking
 * for --trust-pipeline) to refuse. Called with the SHA-256 (hex, no 0x) of exactly the bytes imported.
 */
export type PipelineGate = (sha256: string, path: string) => void

export interface LoadPipelineOptions {
  /** When given (hex, 0x optional), the bytes must have this SHA-256: the model manifest's entry. */
  expectedSha256?: string
  /** The trust decision, made on the digest of the very bytes that are then imported. */
  allow?: PipelineGate
}

/**
 * Imports a pipeline module and wraps its `encode`/`decode` with checks, so a pipeline that throws,
 * lacks an export or returns the wrong shape is a one-line UsageError.
 *
 * The file is read once; its SHA-256 is checked against the manifest and handed to `allow`, and the
 * module is imported from those same bytes (a data: URL), never from the path again: a file swapped
 * after the check cannot run in its place. So a pipeline is one self-contained module (imports of
 * node built-ins only; relative imports do not resolve).
 * @param path - absolute path of `imo.pipeline.mjs`.
 * @param options - the manifest's SHA-256 for the file and the trust gate.
 * @returns the pipeline.
 * @throws UsageError when the file changed, the gate refuses, the module does not load or lacks
 *   `encode`/`decode` functions.
 * @example
 * import { loadPipeline } from './inference/loadPipeline.js'
 * const pipeline = await loadPipeline('/…/models/cppn/imo.pipeline.mjs')
 * const feeds = await pipeline.encode('a red spiral')
 */
export async function loadPipeline(path: string, options: LoadPipelineOptions = {}): Promise<Pipeline> {
  const source = readFileSync(path)
  const digest = createHash('sha256').update(source).digest('hex')
  if (options.expectedSha256 !== undefined && digest !== options.expectedSha256.replace(/^0x/, ''))
    throw new UsageError(`pipeline ${path} changed while imo was running (its SHA-256 no longer matches the model hash)`)
  options.allow?.(digest, path)
  let module: Record<string, unknown>
  try {
    // The hashed bytes themselves, not the path: what runs is what was checked.
    module = await import(`data:text/javascript;base64,${source.toString('base64')}`)
  } catch (error) {
    throw new UsageError(`pipeline ${path} failed to load: ${firstLine(error)}`, { cause: error })
  }
  const { encode, decode, generate } = module
  if (typeof generate !== 'function')
    for (const [name, fn] of [
      ['encode', encode],
      ['decode', decode],
    ] as const)
      if (typeof fn !== 'function') throw new UsageError(`pipeline ${path} does not export a function ${name}()`)
  return {
    path,
    ...(typeof generate === 'function' ? { generate: checkedGenerate(generate as GenerateFunction) } : {}),
    async encode(prompt) {
      if (typeof encode !== 'function') throw new UsageError(`pipeline ${path} does not export a function encode()`)
      let feeds: unknown
      try {
        feeds = await (encode as (prompt: string) => unknown)(prompt)
      } catch (error) {
        throw new UsageError(`pipeline encode() failed: ${firstLine(error)}`, { cause: error })
      }
      if (typeof feeds !== 'object' || feeds === null || Array.isArray(feeds))
        throw new UsageError('pipeline encode() must return an object of tensors by name, { type, dims, data } each')
      const set: TensorSet = {}
      for (const [name, spec] of Object.entries(feeds)) set[name] = toTensorValue(name, spec, 'pipeline encode()')
      return set
    },
    async decode(outputs) {
      if (typeof decode !== 'function') throw new UsageError(`pipeline ${path} does not export a function decode()`)
      let result: unknown
      try {
        result = await (decode as (outputs: TensorSet) => unknown)(outputs)
      } catch (error) {
        throw new UsageError(`pipeline decode() failed: ${firstLine(error)}`, { cause: error })
      }
      const { bytes, mime } = (result ?? {}) as { bytes?: unknown; mime?: unknown }
      if (!(bytes instanceof Uint8Array) || typeof mime !== 'string' || !/^[\w.+-]+\/[\w.+-]+$/.test(mime))
        throw new UsageError('pipeline decode() must return { bytes: Uint8Array, mime: "type/subtype" }')
      return { bytes, mime }
    },
  }
}

type GenerateFunction = (prompt: string, run: (feeds: TensorSet) => Promise<TensorSet>) => unknown

function checkedGenerate(generate: GenerateFunction): NonNullable<Pipeline['generate']> {
  return async (prompt, run) => {
    let result: unknown
    try {
      result = await generate(prompt, run)
    } catch (error) {
      if (error instanceof UsageError) throw error
      throw new UsageError(`pipeline generate() failed: ${firstLine(error)}`, { cause: error })
    }
    const { inputs, outputs, bytes, mime } = (result ?? {}) as Record<string, unknown>
    const tensors = (value: unknown, what: string): TensorSet => {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw new UsageError(`pipeline generate() must return ${what} as an object of tensors by name`)
      const set: TensorSet = {}
      for (const [name, spec] of Object.entries(value)) set[name] = toTensorValue(name, spec, `pipeline generate() ${what}`)
      return set
    }
    if (!(bytes instanceof Uint8Array) || typeof mime !== 'string' || !/^[\w.+-]+\/[\w.+-]+(;.*)?$/.test(mime))
      throw new UsageError('pipeline generate() must return { inputs, outputs, bytes: Uint8Array, mime: "type/subtype" }')
    return { inputs: tensors(inputs, 'inputs'), outputs: tensors(outputs, 'outputs'), bytes, mime }
  }
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.split('\n')[0] ?? ''
}
