import { resolve } from 'node:path'
import { UsageError } from '../errors.js'
import type { GenerateOptions } from '../generate/generateTokens.js'
import type { GenerationFlags } from '../generate/generationSettings.js'
import { hasLmPipeline, LM_PIPELINE_FILE, loadCausalLm } from '../generate/loadCausalLm.js'
import { prewarmTokenizer } from '../generate/loadTokenizer.js'
import { type GenerationRun, runGeneration } from '../generate/runGeneration.js'
import type { TensorSet } from '../tensor/dtypes.js'
import { readTensorFiles } from '../tensor/readTensorFiles.js'
import type { ZkPipeline } from '../zk/loadZkPipeline.js'
import { assembleInference, type InferenceResult } from './assembleInference.js'
import type { GraphOptimizationLevel } from './config.js'
import type { AigcDataMode } from './erc7007.js'
import { type LoadedModel, loadModel } from './loadModel.js'
import { PIPELINE_FILE } from './loadPipeline.js'
import { describeValues, runModel } from './runModel.js'
import { checkOutDirAvailable, writeInferenceOutputs } from './writeInferenceOutputs.js'

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
export type { InferenceResult } from './assembleInference.js'

/**
 * Runs a model once with the deterministic settings and computes everything docs/formats.md sections 2-5 ask:
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
export async function runInference(options: RunInferenceOptions): Promise<InferenceResult & { zk?: ZkPipeline }> {
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
  // A zk model (imo.pipeline.json of kind zk-image) runs imo's own pipeline; its aigcData is the image.
  const { loadZkPipeline } = await import('../zk/loadZkPipeline.js')
  const zk = lm ? undefined : await loadZkPipeline(model)
  const flagsGiven = Object.entries(options.generation ?? {}).filter(([, value]) => value !== undefined)
  if (!lm && flagsGiven.length)
    throw new UsageError(
      `generation settings (${flagsGiven.map(([key]) => key).join(', ')}) apply only to causal-lm models (a folder with ${LM_PIPELINE_FILE})`,
    )
  if (!lm && !zk && options.prompt !== undefined && !model.pipelinePath)
    throw new UsageError(`model ${model.path} has no pipeline for --prompt: give --input files instead`, {
      hint: noPipelineHint(model),
    })
  const pipeline = zk ?? (!lm && (options.prompt !== undefined || model.pipelinePath) ? await model.pipeline() : undefined)

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
    const how = pipeline || lm ? '--prompt TEXT or --input FILE' : '--input FILE'
    throw new UsageError(`no input given: pass ${how}; the model expects ${describeValues(model.inputs)}`, {
      ...(pipeline || lm ? {} : { hint: noPipelineHint(model) }),
    })
  }

  if (!generated) progress('running the model')
  const outputs = generated ? generated.outputs : await runModel(model, inputs)
  let artifact: { bytes: Uint8Array; mime: string } | undefined = generated?.artifact
  if (!generated && pipeline) {
    progress('decoding the outputs')
    artifact = await pipeline.decode(outputs)
  }
  const result = assembleInference({
    model,
    pipeline: lm ? 'causal-lm' : zk ? 'zk-image' : pipeline ? 'module' : null,
    prompt: options.prompt ?? null,
    inputs,
    outputs,
    ...(artifact ? { artifact } : {}),
    ...(generated?.settings ? { generation: generated.settings } : {}),
    // The zk collection checks the image itself (docs/formats.md section 11): always inline.
    aigcDataMode: zk ? 'inline' : (options.aigcDataMode ?? 'digest'),
    startedAt: started,
    finishedAt: new Date(),
  })
  if (options.outDir !== undefined) {
    progress('writing the outputs')
    result.outDir = writeInferenceOutputs(result, options.outDir)
  }
  return zk ? { ...result, zk } : result
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
