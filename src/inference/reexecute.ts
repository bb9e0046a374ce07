import { LM_PIPELINE_FILE } from '../generate/loadCausalLm.js'
import { reexecuteGeneration } from '../generate/reexecuteGeneration.js'
import { decodeTensors } from '../tensor/decodeTensors.js'
import { encodeTensors, sha256Hex } from '../tensor/encodeTensors.js'
import { loadZkPipeline } from '../zk/loadZkPipeline.js'
import { isZkModelFolder } from '../zk/readZkModel.js'
import { compareTensorSets } from './compareTensors.js'
import { computeConfigHash } from './config.js'
import { loadModel } from './loadModel.js'
import { PIPELINE_FILE } from './loadPipeline.js'
import type { InferenceRecord } from './record.js'
import { committedRun, hashChecks, type ReexecuteOptions, type ReexecuteResult } from './reexecuteChecks.js'
import { runModel } from './runModel.js'

/** The options and result types, declared beside the checks both re-executions share (kept importable from here). */
export type { ReexecuteOptions, ReexecuteResult } from './reexecuteChecks.js'

/**
 * Re-executes a recorded inference (docs/formats.md section 7): hashes the model, runs it on the committed
 * inputs with the recorded settings, and compares the outputs bit for bit, reporting the largest
 * float difference when they differ. Every check is reported, none throws, so verify can explain.
 * @param record - from readRecord.
 * @param options - where the record's files and the model are, and whether to run the pipeline.
 * @returns each hash as recomputed and whether it matches.
 * @throws UsageError when the inputs do not decode or the model cannot be loaded.
 * @example
 * import { readRecord } from './inference/record.js'
 * import { reexecute } from './inference/reexecute.js'
 * const result = await reexecute(record, { inputEncoding, allowPipeline: (sha256, path) => pipelineTrust(sha256, path, true) })
 * result.matches // true
 */
export async function reexecute(record: InferenceRecord, options: ReexecuteOptions): Promise<ReexecuteResult> {
  const { modelPath, inputs, inputHash } = committedRun(record, options)
  // imo's own pipelines (imo.pipeline.json): no code from the model folder runs, so no gate is asked.
  const builtin = record.model.pipeline === LM_PIPELINE_FILE
  if (builtin && !isZkModelFolder(modelPath)) return reexecuteGeneration(record, options)

  const model = await loadModel(modelPath, { config: record.config })
  // Someone else's pipeline is loaded once, only for a model whose hash was just checked, and through
  // the gate (which decides on the bytes imported). One with generate(prompt, run) made inputs and
  // outputs in a loop of its own: re-run that loop.
  const pipeline =
    builtin && model.modelHash === record.modelHash
      ? await loadZkPipeline(model)
      : options.allowPipeline && model.modelHash === record.modelHash && record.model.pipeline === PIPELINE_FILE
        ? await model.pipeline(options.allowPipeline)
        : undefined
  const looped =
    pipeline?.generate && record.prompt !== null
      ? await pipeline.generate(record.prompt, (feeds) => runModel(model, feeds))
      : undefined
  const outputs = looped ? looped.outputs : await runModel(model, inputs)
  const outputEncoding = encodeTensors(outputs)
  const outputHash = sha256Hex(outputEncoding)
  const configHash = computeConfigHash(model.config)
  const matches = outputHash === record.outputHash

  let comparison: ReturnType<typeof compareTensorSets> | undefined
  if (!matches && options.outputEncoding)
    try {
      comparison = compareTensorSets(decodeTensors(options.outputEncoding, record.outputs.file), outputs)
    } catch {
      // recorded outputs that do not decode: the output hash check says so
    }

  let promptMatches: boolean | null = null
  let artifactMatches: boolean | null = null
  if (record.model.pipeline === null) artifactMatches = sha256Hex(outputEncoding) === record.artifact.sha256
  else if (looped) {
    promptMatches = sha256Hex(encodeTensors(looped.inputs)) === record.inputHash
    artifactMatches = sha256Hex(looped.bytes) === record.artifact.sha256 && looped.mime === record.artifact.mime
  } else if (pipeline) {
    if (record.prompt !== null)
      promptMatches = sha256Hex(encodeTensors(await pipeline.encode(record.prompt))) === record.inputHash
    const decoded = await pipeline.decode(outputs)
    artifactMatches = sha256Hex(decoded.bytes) === record.artifact.sha256 && decoded.mime === record.artifact.mime
  }

  return {
    ...hashChecks(record, { modelHash: model.modelHash, inputHash, outputHash, configHash }),
    promptMatches,
    matches,
    ...(comparison?.maxAbsDiff !== undefined ? { maxAbsDiff: comparison.maxAbsDiff } : {}),
    ...(comparison?.firstMismatch ? { firstMismatch: comparison.firstMismatch } : {}),
    artifactMatches,
  }
}
