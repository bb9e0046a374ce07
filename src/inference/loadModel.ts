import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { basename, relative, resolve, sep } from 'node:path'
import type { InferenceSession } from 'onnxruntime-node'
import { UsageError } from '../errors.js'
import { hashModel } from '../model/hashModel.js'
import { listModelFiles, runnableOnnx } from '../model/listModelFiles.js'
import type { Bytes32 } from '../tensor/encodeTensors.js'
import { readRegularFile } from '../util/readRegularFile.js'
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
  /** A full config (from a record being re-executed); its onnxruntimeVersion is informative only. */
  config?: InferenceConfig
}

const cache = new Map<string, Promise<LoadedModel>>()

/**
 * Hashes a model (imo-model-v1, with hashModel) and opens an onnxruntime session with deterministic
 * settings. Cached per process by path and settings, so a batch of inferences loads it once.
 * @param modelPath - a .onnx file, or a folder holding exactly one .onnx file at its top level.
 * @param options - optimisation level or a recorded config.
 * @returns the loaded model.
 * @throws UsageError when the path is missing, holds no or several .onnx files, or the file is not a
 *   model onnxruntime can load.
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
  const onnxPath = runnableOnnx(listing, modelPath)
  const isFolder = listing.root === absolutePath
  const hashed = await hashModel(listing)
  const ort = await import('onnxruntime-node')
  const config: InferenceConfig = {
    ...defaultInferenceConfig(ort.env.versions.common ?? 'unknown'),
    ...(options.config ? pick(options.config) : {}),
    ...(options.graphOptimizationLevel ? { graphOptimizationLevel: options.graphOptimizationLevel } : {}),
  }
  config.onnxruntimeVersion = ort.env.versions.common ?? 'unknown'
  const onnxEntry = hashed.files.find((file) => resolve(hashed.root, file.path) === onnxPath)
  const hasExternalData = (listing.onnx?.externalDataLocations.length ?? 0) > 0
  const session = await openHashedSession(ort, {
    modelPath,
    onnxPath,
    ...(onnxEntry ? { sha256: onnxEntry.sha256 } : {}),
    hasExternalData,
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
    onnxFile: isFolder ? relative(absolutePath, onnxPath).split(sep).join('/') : basename(onnxPath),
    modelHash: hashed.modelHash as Bytes32,
    manifest,
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
 * Opens the session on the very bytes whose SHA-256 the model hash covers: the .onnx file is read once,
 * its digest compared with the hashed one, and the session built from that buffer (opening it again by
 * path would trust whatever the file holds by then). A model with external data must be opened by
 * path (onnxruntime resolves those files itself); `load` re-hashes after that.
 * @throws UsageError when the file changed since it was hashed, or onnxruntime cannot load it.
 * @example
 * const session = await openHashedSession(ort, { modelPath, onnxPath, sha256, hasExternalData: false, options })
 */
export async function openHashedSession(
  ort: typeof import('onnxruntime-node'),
  target: {
    modelPath: string
    onnxPath: string
    /** Hex SHA-256 the model hash recorded for the file (undefined: not covered, refused). */
    sha256?: string
    hasExternalData: boolean
    options: InferenceSession.SessionOptions
  },
): Promise<InferenceSession> {
  const { modelPath, onnxPath, sha256 } = target
  if (!sha256) throw new UsageError(`the ONNX file ${onnxPath} is not covered by the model hash of ${modelPath}`)
  let source: string | Uint8Array = onnxPath
  if (!target.hasExternalData) {
    const bytes = readRegularFile(onnxPath, 'model file')
    if (createHash('sha256').update(bytes).digest('hex') !== sha256.replace(/^0x/, ''))
      throw new UsageError(`model file ${onnxPath} changed after it was hashed; try again`)
    source = bytes
  }
  try {
    return await (typeof source === 'string'
      ? ort.InferenceSession.create(source, target.options)
      : ort.InferenceSession.create(source, target.options))
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]
    throw new UsageError(`onnxruntime cannot load model ${modelPath}: ${reason}`, { cause: error })
  }
}

function pick(config: InferenceConfig): Partial<InferenceConfig> {
  const { graphOptimizationLevel, intraOpNumThreads, interOpNumThreads, executionMode } = config
  return { graphOptimizationLevel, intraOpNumThreads, interOpNumThreads, executionMode }
}
