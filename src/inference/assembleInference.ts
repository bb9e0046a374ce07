/**
 * The last step of every inference, wherever its tensors came from: from the model's inputs, outputs
 * and artifact, compute what docs/formats.md sections 2-5 ask (tensor hashes, configHash, commitment, the ERC-7007
 * prompt and aigcData bytes) and write the inference record. `imo infer` runs it on what it computed;
 * `imo serve --queue` runs it on what it re-derived from a worker's result, so serve's record is made
 * by the same code from its own values, never copied from the worker.
 */
import { keccak256 } from 'viem'
import type { GenerationSettings } from '../generate/generationSettings.js'
import { LM_PIPELINE_FILE } from '../generate/loadCausalLm.js'
import { DTYPES, elementCount, type TensorSet } from '../tensor/dtypes.js'
import { type Bytes32, compareUtf8, encodeTensors, sha256Hex } from '../tensor/encodeTensors.js'
import { version } from '../version.js'
import { computeCommitment } from './commitment.js'
import { computeConfigHash } from './config.js'
import { type AigcDataMode, aigcDataBytes, erc7007PromptBytes } from './erc7007.js'
import type { LoadedModel } from './loadModel.js'
import { PIPELINE_FILE } from './loadPipeline.js'
import { type InferenceRecord, RECORD_FORMAT, type TensorSummary } from './record.js'

/** File names inside an output folder. */
export const OUTPUT_FILES = { record: 'record.json', inputs: 'inputs.imt', outputs: 'outputs.imt', json: 'outputs.json' } as const

/** Outputs with more values than this go to `<name>.npy` instead of `outputs.json`. */
export const MAX_JSON_ELEMENTS = 1024

/** The mime type of an imo-tensor-v1 encoding, the artifact of a model without a pipeline. */
export const TENSOR_MIME = 'application/vnd.imo.tensor-v1'

/** What an inference is made of, before its hashes and record. */
export interface InferenceParts {
  /** The model that ran (its hash, settings and paths go into the record). */
  model: Pick<LoadedModel, 'modelHash' | 'config' | 'path' | 'absolutePath' | 'onnxFile'>
  /**
   * Which pipeline made the inputs and the artifact: a built-in one selected by `imo.pipeline.json`
   * (`causal-lm`, `zk-image`), the folder's `imo.pipeline.mjs`, or none.
   */
  pipeline: 'causal-lm' | 'zk-image' | 'module' | null
  prompt: string | null
  inputs: TensorSet
  outputs: TensorSet
  /** The pipeline's artifact; without one, the outputs' encoding is the artifact. */
  artifact?: { bytes: Uint8Array; mime: string }
  /** A causal-lm generation's settings: they join the committed config. */
  generation?: GenerationSettings
  aigcDataMode: AigcDataMode
  /** The outputs' imo-tensor-v1 encoding when the caller has it already (the bytes a worker sent). */
  outputEncoding?: Uint8Array
  startedAt: Date
  finishedAt: Date
}

/** What one inference produced: runInference's result. */
export interface InferenceResult {
  record: InferenceRecord
  inputs: TensorSet
  outputs: TensorSet
  /** imo-tensor-v1 encodings (inputs.imt, outputs.imt). */
  inputEncoding: Uint8Array
  outputEncoding: Uint8Array
  /** The output artifact: the pipeline's bytes, else the outputs' encoding. */
  artifact: { bytes: Uint8Array; mime: string; file: string }
  /** ERC-7007 `prompt` bytes. */
  promptBytes: Uint8Array
  /** ERC-7007 `aigcData` bytes. */
  aigcData: Uint8Array
  /** Absolute path of the output folder, when written. */
  outDir?: string
}

/**
 * Computes the hashes, the commitment, the ERC-7007 bytes and the record of an inference.
 * @param parts - the model, the tensors and the artifact.
 * @returns everything runInference returns (without an output folder).
 * @example
 * import { assembleInference } from './inference/assembleInference.js'
 * const result = assembleInference({ model, pipeline: 'module', prompt, inputs, outputs, artifact, aigcDataMode: 'digest', startedAt, finishedAt })
 * result.record.commitment // '0x…'
 */
export function assembleInference(parts: InferenceParts): InferenceResult {
  const { model, inputs, outputs } = parts
  const inputEncoding = encodeTensors(inputs)
  const outputEncoding = parts.outputEncoding ?? encodeTensors(outputs)
  const inputHash = sha256Hex(inputEncoding)
  const outputHash = sha256Hex(outputEncoding)
  const artifact: InferenceResult['artifact'] = parts.artifact
    ? { ...parts.artifact, file: artifactFileName(parts.artifact.mime) }
    : { bytes: outputEncoding, mime: TENSOR_MIME, file: OUTPUT_FILES.outputs }
  const promptBytes = erc7007PromptBytes({ prompt: parts.prompt, inputEncoding })
  const aigcData = aigcDataBytes(artifact.bytes, parts.aigcDataMode)
  const config = parts.generation ? { ...model.config, generation: parts.generation } : { ...model.config }
  const configHash = computeConfigHash(config)
  const commitment = computeCommitment({ modelHash: model.modelHash, inputHash, outputHash, configHash })
  const record: InferenceRecord = {
    format: RECORD_FORMAT,
    imoVersion: version,
    modelHash: model.modelHash,
    inputHash,
    outputHash,
    configHash,
    commitment,
    config,
    model: {
      path: model.path,
      absolutePath: model.absolutePath,
      onnxFile: model.onnxFile,
      pipeline: parts.pipeline === 'module' ? PIPELINE_FILE : parts.pipeline ? LM_PIPELINE_FILE : null,
    },
    prompt: parts.prompt,
    promptHash: keccak256(promptBytes) as Bytes32,
    aigcDataMode: parts.aigcDataMode,
    aigcDataHash: keccak256(aigcData) as Bytes32,
    inputs: { file: OUTPUT_FILES.inputs, size: inputEncoding.byteLength, tensors: summarize(inputs) },
    outputs: {
      file: OUTPUT_FILES.outputs,
      size: outputEncoding.byteLength,
      tensors: summarize(outputs),
      json: OUTPUT_FILES.json,
      npy: npyFileNames(outputs, artifact.file),
    },
    artifact: { file: artifact.file, mime: artifact.mime, sha256: sha256Hex(artifact.bytes), size: artifact.bytes.byteLength },
    startedAt: parts.startedAt.toISOString(),
    finishedAt: parts.finishedAt.toISOString(),
    durationMs: parts.finishedAt.getTime() - parts.startedAt.getTime(),
  }
  return { record, inputs, outputs, inputEncoding, outputEncoding, artifact, promptBytes, aigcData }
}

function summarize(set: TensorSet): TensorSummary[] {
  return Object.keys(set)
    .sort(compareUtf8)
    .map((name) => ({ name, type: set[name]!.type, dims: [...set[name]!.dims] }))
}

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/bmp': 'bmp',
  'image/svg+xml': 'svg',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/mpeg': 'mp3',
  'video/mp4': 'mp4',
  'text/plain': 'txt',
  'text/html': 'html',
  'application/json': 'json',
}

/**
 * The artifact's file name for a mime type: `image.png`, `audio.wav`, `text.txt`, `artifact.bin`...
 * (never a name of imo's own files: record.json, mint.json, inputs.imt...).
 * @example
 * artifactFileName('image/png') // 'image.png'
 */
export function artifactFileName(mime: string): string {
  const kind = mime.split('/')[0] ?? ''
  const base = ['image', 'audio', 'video', 'text'].includes(kind) ? kind : 'artifact'
  return `${base}.${EXTENSIONS[mime.split(';')[0]!.trim()] ?? 'bin'}`
}

/** `.npy` file names for the outputs too large for outputs.json (strings always stay in JSON). */
function npyFileNames(outputs: TensorSet, artifactFile: string): Record<string, string> {
  const taken = new Set<string>([...Object.values(OUTPUT_FILES), artifactFile])
  const files: Record<string, string> = {}
  for (const name of Object.keys(outputs).sort(compareUtf8)) {
    const tensor = outputs[name]!
    if (!DTYPES[tensor.type].npy || elementCount(tensor.dims) <= MAX_JSON_ELEMENTS) continue
    const base = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || 'output'
    let file = `${base}.npy`
    for (let n = 2; taken.has(file); n++) file = `${base}-${n}.npy`
    taken.add(file)
    files[name] = file
  }
  return files
}
