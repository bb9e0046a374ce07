import { resolve } from 'node:path'
import { keccak256 } from 'viem'
import { UsageError } from '../errors.js'
import type { GenerateOptions } from '../generate/generateTokens.js'
import type { GenerationFlags } from '../generate/generationSettings.js'
import { hasLmPipeline, LM_PIPELINE_FILE, loadCausalLm } from '../generate/loadCausalLm.js'
import { prewarmTokenizer } from '../generate/loadTokenizer.js'
import { type GenerationRun, runGeneration } from '../generate/runGeneration.js'
import { DTYPES, elementCount, type TensorSet } from '../tensor/dtypes.js'
import { type Bytes32, compareUtf8, encodeTensors, sha256Hex } from '../tensor/encodeTensors.js'
import { readTensorFiles } from '../tensor/readTensorFiles.js'
import { version } from '../version.js'
import { computeCommitment } from './commitment.js'
import { computeConfigHash, type GraphOptimizationLevel } from './config.js'
import { type AigcDataMode, aigcDataBytes, erc7007PromptBytes } from './erc7007.js'
import { type LoadedModel, loadModel } from './loadModel.js'
import { PIPELINE_FILE } from './loadPipeline.js'
import { type InferenceRecord, RECORD_FORMAT, type TensorSummary } from './record.js'
import { describeValues, runModel } from './runModel.js'
import { checkOutDirAvailable, writeInferenceOutputs } from './writeInferenceOutputs.js'

/** File names inside an output folder. */
export const OUTPUT_FILES = { record: 'record.json', inputs: 'inputs.imt', outputs: 'outputs.imt', json: 'outputs.json' } as const

/** Outputs with more values than this go to `<name>.npy` instead of `outputs.json`. */
export const MAX_JSON_ELEMENTS = 1024

/** The mime type of an imo-tensor-v1 encoding, the artifact of a model without a pipeline. */
export const TENSOR_MIME = 'application/vnd.imo.tensor-v1'

export interface RunInferenceOptions {
  /** A .onnx file or a model folder (the folder may hold imo.pipeline.mjs). */
  modelPath: string | LoadedModel
  /** Text for the model's pipeline; excludes `inputs` and `inputFiles`. */
  prompt?: string
  /** Tensors by input name. */
  inputs?: TensorSet
  /** `--input` arguments (JSON, NAME=FILE.npy, .imt), read with readTensorFiles. */
  inputFiles?: readonly string[]
  /** ERC-7007 aigcData: `digest` (default) or `inline`. */
  aigcDataMode?: AigcDataMode
  graphOptimizationLevel?: GraphOptimizationLevel
  /** Which ONNX file of a folder that holds several runs (see LoadModelOptions.variant); committed in config.onnxFile. */
  variant?: string
  /** When given, the outputs are written there (atomically) before returning. */
  outDir?: string
  /** Called with a short description of each stage, for a spinner. */
  onProgress?: (stage: string) => void
  /** causal-lm models (imo.pipeline.json): generation flags, and hooks for progress and --stream. */
  generation?: GenerationFlags
  onToken?: GenerateOptions['onToken']
  onText?: (delta: string) => void
}

/** Everything an inference produced, for `imo infer` and for minting. */
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
 * Runs a model once with the deterministic settings and computes everything DESIGN section 4 asks:
 * input/output tensor hashes, configHash, the commitment, the ERC-7007 prompt and aigcData bytes,
 * and the inference record. The model is loaded (hashed, session opened) once per process.
 * @param options - model, then either a prompt (pipeline) or input tensors/files.
 * @returns the result; with `outDir`, after its files are in place.
 * @throws UsageError for bad input (naming the model's inputs), a broken model or pipeline.
 * @example
 * import { runInference } from './inference/runInference.js'
 * const result = await runInference({ modelPath: 'models/cppn', prompt: 'a red spiral', outDir: 'out/spiral' })
 * result.record.commitment // '0x…'
 * result.artifact.mime // 'image/png'
 */
export async function runInference(options: RunInferenceOptions): Promise<InferenceResult> {
  const started = new Date()
  const progress = options.onProgress ?? (() => {})
  const givenInputs = options.inputs !== undefined || (options.inputFiles?.length ?? 0) > 0
  if (options.prompt !== undefined && givenInputs) throw new UsageError('give either --prompt or --input, not both')
  if (options.outDir !== undefined) checkOutDirAvailable(options.outDir)
  const fileInputs = options.inputFiles?.length ? readTensorFiles(options.inputFiles) : undefined

  progress('loading the model')
  // A causal-lm folder's tokenizer thread starts while the model is hashed and its session opened.
  if (typeof options.modelPath === 'string' && hasLmPipeline(options.modelPath)) prewarmTokenizer(resolve(options.modelPath))
  const model =
    typeof options.modelPath === 'string'
      ? await loadModel(options.modelPath, {
          graphOptimizationLevel: options.graphOptimizationLevel,
          ...(options.variant !== undefined ? { variant: options.variant } : {}),
        })
      : options.modelPath
  const lm = await loadCausalLm(model)
  const flagsGiven = Object.entries(options.generation ?? {}).filter(([, value]) => value !== undefined)
  if (!lm && flagsGiven.length)
    throw new UsageError(
      `generation settings (${flagsGiven.map(([key]) => key).join(', ')}) apply only to causal-lm models (a folder with ${LM_PIPELINE_FILE})`,
    )
  if (!lm && options.prompt !== undefined && !model.pipelinePath)
    throw new UsageError(`model ${model.path} has no pipeline for --prompt: give --input files instead`, {
      hint: noPipelineHint(model),
    })
  const pipeline = !lm && (options.prompt !== undefined || model.pipelinePath) ? await model.pipeline() : undefined

  let inputs: TensorSet
  let generated: (Pick<GenerationRun, 'inputs' | 'outputs' | 'artifact'> & { settings?: GenerationRun['settings'] }) | undefined
  if (lm && (options.prompt !== undefined || givenInputs)) {
    progress('generating')
    const source = options.prompt !== undefined ? { prompt: options.prompt } : { inputs: { ...fileInputs, ...options.inputs } }
    generated = await runGeneration(
      lm,
      source,
      { flags: options.generation ?? {} },
      {
        ...(options.onToken ? { onToken: options.onToken } : {}),
        ...(options.onText ? { onText: options.onText } : {}),
      },
    )
    inputs = generated.inputs
  } else if (options.prompt !== undefined && pipeline?.generate) {
    progress('generating')
    const { bytes, mime, ...tensors } = await pipeline.generate(options.prompt, (feeds) => runModel(model, feeds))
    generated = { ...tensors, artifact: { bytes, mime } }
    inputs = generated.inputs
  } else if (options.prompt !== undefined) {
    progress('encoding the prompt')
    inputs = await pipeline!.encode(options.prompt)
  } else if (givenInputs) {
    inputs = { ...(fileInputs ?? {}), ...(options.inputs ?? {}) }
    if (fileInputs && options.inputs)
      for (const name of Object.keys(options.inputs))
        if (Object.hasOwn(fileInputs, name)) throw new UsageError(`input "${name}" is given twice`)
  } else {
    const how = model.pipelinePath || lm ? '--prompt TEXT or --input FILE' : '--input FILE'
    throw new UsageError(`no input given: pass ${how}; the model expects ${describeValues(model.inputs)}`, {
      ...(model.pipelinePath || lm ? {} : { hint: noPipelineHint(model) }),
    })
  }

  if (!generated) progress('running the model')
  const outputs = generated ? generated.outputs : await runModel(model, inputs)
  const inputEncoding = encodeTensors(inputs)
  const outputEncoding = encodeTensors(outputs)
  const inputHash = sha256Hex(inputEncoding)
  const outputHash = sha256Hex(outputEncoding)

  let artifact: InferenceResult['artifact']
  if (generated) artifact = { ...generated.artifact, file: artifactFileName(generated.artifact.mime) }
  else if (pipeline) {
    progress('decoding the outputs')
    const decoded = await pipeline.decode(outputs)
    artifact = { bytes: decoded.bytes, mime: decoded.mime, file: artifactFileName(decoded.mime) }
  } else artifact = { bytes: outputEncoding, mime: TENSOR_MIME, file: OUTPUT_FILES.outputs }

  const aigcDataMode = options.aigcDataMode ?? 'digest'
  const prompt = options.prompt ?? null
  const promptBytes = erc7007PromptBytes({ prompt, inputEncoding })
  const aigcData = aigcDataBytes(artifact.bytes, aigcDataMode)
  const config = generated?.settings ? { ...model.config, generation: generated.settings } : { ...model.config }
  const configHash = computeConfigHash(config)
  const commitment = computeCommitment({ modelHash: model.modelHash, inputHash, outputHash, configHash })
  const npy = npyFileNames(outputs, artifact.file)
  const finished = new Date()
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
      pipeline: lm ? LM_PIPELINE_FILE : pipeline ? PIPELINE_FILE : null,
    },
    prompt,
    promptHash: keccak256(promptBytes) as Bytes32,
    aigcDataMode,
    aigcDataHash: keccak256(aigcData) as Bytes32,
    inputs: { file: OUTPUT_FILES.inputs, size: inputEncoding.byteLength, tensors: summarize(inputs) },
    outputs: {
      file: OUTPUT_FILES.outputs,
      size: outputEncoding.byteLength,
      tensors: summarize(outputs),
      json: OUTPUT_FILES.json,
      npy,
    },
    artifact: { file: artifact.file, mime: artifact.mime, sha256: sha256Hex(artifact.bytes), size: artifact.bytes.byteLength },
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
  }
  const result: InferenceResult = { record, inputs, outputs, inputEncoding, outputEncoding, artifact, promptBytes, aigcData }
  if (options.outDir !== undefined) {
    progress('writing the outputs')
    result.outDir = writeInferenceOutputs(result, options.outDir)
  }
  return result
}

/**
 * What a model without a pipeline needs for --prompt: a decoder exported as Hugging Face Optimum does it
 * (input_ids in, logits out) runs imo's built-in loop once its folder holds imo.pipeline.json; any
 * other model needs its own imo.pipeline.mjs.
 */
function noPipelineHint(model: LoadedModel): string {
  const json = `${LM_PIPELINE_FILE} holding {"kind": "causal-lm"}`
  const code = `${PIPELINE_FILE} (encode/decode code of its author)`
  const decoder =
    model.inputs.some((value) => value.name === 'input_ids') && model.outputs.some((value) => value.name === 'logits')
  return decoder
    ? `this looks like a language model (input_ids in, logits out): put ${json} beside it, with its tokenizer.json, to run it with --prompt`
    : `--prompt needs ${code} in the model folder, or ${json} for a decoder exported by Hugging Face Optimum`
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
 * @example
 * artifactFileName('image/png') // 'image.png'
 */
function artifactFileName(mime: string): string {
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
