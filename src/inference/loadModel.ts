import { existsSync } from 'node:fs'
import { basename, relative, resolve, sep } from 'node:path'
import type { InferenceSession } from 'onnxruntime-node'
import { UsageError } from '../errors.js'
import { hashModel } from '../model/hashModel.js'
import { isOnnxName, listModelFiles, runnableOnnx } from '../model/listModelFiles.js'
import { parseModelInfo } from '../onnx/readModelInfo.js'
import type { Bytes32 } from '../tensor/encodeTensors.js'
import { defaultInferenceConfig, type GraphOptimizationLevel, type InferenceConfig, sessionOptionsFor } from './config.js'
import { findPipeline, LM_PIPELINE_FILE, loadPipeline, PIPELINE_FILE, type Pipeline, type PipelineGate } from './loadPipeline.js'

/** A tensor input or output the model declares: a type name and a shape (strings are symbolic). */
export interface ModelValue {
  name: string
  type: string
  shape: readonly (number | string)[]
}

/** A model ready to run: hashed, with its session and (for a folder) its pipeline file. */
export interface LoadedModel {
  /** The path as given. */
  path: string
  absolutePath: string
  /** Absolute path of the .onnx file that runs. */
  onnxPath: string
  /** The .onnx file relative to the model (its name for a single file). */
  onnxFile: string
  modelHash: Bytes32
  manifest: string
  /** Each file the model hash covers, with its SHA-256 (hex): what readHashedFile checks a file's bytes against. */
  files: readonly { path: string; size: number; sha256: string }[]
  config: InferenceConfig
  session: InferenceSession
  inputs: ModelValue[]
  outputs: ModelValue[]
  /** Absolute path of imo.pipeline.mjs when the model is a folder holding one. */
  pipelinePath: string | undefined
  /**
   * Imports the pipeline from the bytes the model hash covers. Running it runs the model author's
   * code: `allow` decides on the SHA-256 of exactly the bytes imported.
   */
  pipeline(allow?: PipelineGate): Promise<Pipeline>
}

export interface LoadModelOptions {
  /** Settings to run with; the defaults are the deterministic ones. */
  graphOptimizationLevel?: GraphOptimizationLevel
  /**
   * Which ONNX file of a folder that holds several runs: fp32, fp16, q8, int8, uint8, q4, q4f16, bnb4
   * (Hugging Face's file names, see ONNX_VARIANTS) or a file's path inside the folder.
   */
  variant?: string
  /**
   * A full config (from a record being re-executed); its onnxruntimeVersion is informative only, and its
   * onnxFile, when present, chooses the ONNX file (over `variant`).
   */
  config?: InferenceConfig
}

const cache = new Map<string, Promise<LoadedModel>>()

/**
 * Hashes a model (imo-model-v1, with hashModel) and opens an onnxruntime session with deterministic
 * settings. Cached per process by path and settings, so a batch of inferences loads it once.
 * @param modelPath - a .onnx file, or a model folder (its ONNX file chosen as runnableOnnx says).
 * @param options - optimisation level or a recorded config.
 * @returns the loaded model.
 * @throws UsageError when the path is missing, holds no .onnx file, leaves the choice among several
 *   open, or the file is not a model onnxruntime can load.
 * @example
 * import { loadModel } from './inference/loadModel.js'
 * const model = await loadModel('models/cppn')
 * model.modelHash // '0x…'
 * model.inputs // [{ name: 'z', type: 'float32', shape: [1, 16] }]
 */
export function loadModel(modelPath: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  // Keyed by the settings that reach the session: a recorded config's onnxruntimeVersion is informative
  // only, so records made with another runtime version share one load (one hash, one session).
  const key = JSON.stringify([
    resolve(modelPath),
    options.graphOptimizationLevel ?? null,
    options.variant ?? null,
    options.config ? pick(options.config) : null,
  ])
  let loading = cache.get(key)
  if (!loading) {
    loading = load(modelPath, options)
    cache.set(key, loading)
    loading.catch(() => cache.delete(key))
  }
  return loading
}

async function load(modelPath: string, options: LoadModelOptions): Promise<LoadedModel> {
  const absolutePath = resolve(modelPath)
  if (!existsSync(absolutePath)) throw new UsageError(`model not found: ${modelPath}`)
  // One listing decides both what is hashed and which ONNX file runs (and checks every ONNX file's
  // external data), so the session never opens a file the hash did not cover.
  const listing = listModelFiles(modelPath)
  const onnxPath = runnableOnnx(listing, modelPath, options.config?.onnxFile ?? options.variant)
  const isFolder = listing.root === absolutePath
  const onnxFile = isFolder ? relative(absolutePath, onnxPath).split(sep).join('/') : basename(onnxPath)
  // The ONNX file that runs is read once: hashed from those bytes, which the session is then built from.
  const hashed = await hashModel(listing, { keep: onnxPath })
  const onnxBytes = hashed.keptBytes!
  // Not kept past the session's creation: LoadedModel's closures hold `hashed`, and a model's bytes
  // (hundreds of MB) held for the life of the process cost memory and slow every garbage collection.
  delete hashed.keptBytes
  const ort = await import('onnxruntime-node')
  const config: InferenceConfig = {
    ...defaultInferenceConfig(ort.env.versions.common ?? 'unknown'),
    ...(options.config ? pick(options.config) : {}),
    ...(options.graphOptimizationLevel ? { graphOptimizationLevel: options.graphOptimizationLevel } : {}),
  }
  config.onnxruntimeVersion = ort.env.versions.common ?? 'unknown'
  // A folder with several ONNX files (variants): which one ran decides the output, so it is committed.
  if (isFolder && listing.files.filter((file) => isOnnxName(file.path)).length > 1) config.onnxFile = onnxFile
  else delete config.onnxFile
  // Decided on the bytes read: do they name external data (which onnxruntime can only open by path)?
  const hasExternalData = parseModelInfo(onnxBytes, onnxPath).externalDataLocations.length > 0
  const session = await openSession(ort, {
    modelPath,
    source: hasExternalData ? onnxPath : onnxBytes,
    options: sessionOptionsFor(config) as InferenceSession.SessionOptions,
  })
  if (hasExternalData) {
    // onnxruntime-node opens external data by path only: the next best thing is to hash again after
    // the session is built, so a file swapped while it loaded is caught (a swap and a swap back within
    // the load is not; models with external data say so in the README).
    const again = await hashModel(listModelFiles(modelPath))
    if (again.modelHash !== hashed.modelHash)
      throw new UsageError(`model ${modelPath} changed while it was loaded (its hash moved); try again`)
  }
  const values = (metadata: readonly InferenceSession.ValueMetadata[]): ModelValue[] =>
    metadata.map((m) =>
      m.isTensor ? { name: m.name, type: m.type, shape: m.shape } : { name: m.name, type: 'non-tensor', shape: [] },
    )
  const pipelinePath = isFolder ? findPipeline(absolutePath) : undefined
  const manifest = hashed.manifest
  return {
    path: modelPath,
    absolutePath,
    onnxPath,
    onnxFile,
    modelHash: hashed.modelHash as Bytes32,
    manifest,
    files: hashed.files,
    config,
    session,
    inputs: values(session.inputMetadata),
    outputs: values(session.outputMetadata),
    pipelinePath,
    pipeline(allow) {
      if (!pipelinePath)
        return Promise.reject(
          new UsageError(
            `model ${modelPath} has no ${PIPELINE_FILE} or ${LM_PIPELINE_FILE}: give --input files instead of --prompt`,
          ),
        )
      const listed = hashed.files.find((file) => file.path === PIPELINE_FILE)
      if (!listed)
        return Promise.reject(
          new UsageError(`${PIPELINE_FILE} of ${modelPath} is not covered by the model hash: it does not run`),
        )
      // Read, hashed and imported from the same bytes each time (Node caches the module by its data: URL).
      return loadPipeline(pipelinePath, { expectedSha256: listed.sha256, ...(allow ? { allow } : {}) })
    },
  }
}

/**
 * Opens an onnxruntime session from the bytes of the ONNX file that were hashed (or, for a model with
 * external data, which onnxruntime resolves by path, from the file's path).
 * @throws UsageError (one line) when onnxruntime cannot load the model.
 * @example
 * const session = await openSession(ort, { modelPath, source: bytes, options })
 */
async function openSession(
  ort: typeof import('onnxruntime-node'),
  target: { modelPath: string; source: string | Uint8Array; options: InferenceSession.SessionOptions },
): Promise<InferenceSession> {
  const { source } = target
  try {
    return await (typeof source === 'string'
      ? ort.InferenceSession.create(source, target.options)
      : ort.InferenceSession.create(source, target.options))
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]
    throw new UsageError(`onnxruntime cannot load model ${target.modelPath}: ${reason}`, { cause: error })
  }
}

function pick(config: InferenceConfig): Partial<InferenceConfig> {
  const { graphOptimizationLevel, intraOpNumThreads, interOpNumThreads, executionMode, onnxFile } = config
  return { graphOptimizationLevel, intraOpNumThreads, interOpNumThreads, executionMode, ...(onnxFile ? { onnxFile } : {}) }
}
