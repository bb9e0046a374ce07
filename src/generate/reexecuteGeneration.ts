import { resolve } from 'node:path'
import { UsageError } from '../errors.js'
import { computeConfigHash } from '../inference/config.js'
import { loadModel } from '../inference/loadModel.js'
import type { InferenceRecord } from '../inference/record.js'
import { committedRun, hashChecks, type ReexecuteOptions, type ReexecuteResult } from '../inference/reexecuteChecks.js'
import { decodeTensors } from '../tensor/decodeTensors.js'
import { encodeTensors, sha256Hex } from '../tensor/encodeTensors.js'
import { checkRecordedGeneration } from './generationSettings.js'
import { type CausalLm, hasLmPipeline, LM_PIPELINE_FILE, loadCausalLm } from './loadCausalLm.js'
import { prewarmTokenizer } from './loadTokenizer.js'
import { GENERATED_IDS, idsOf, runGeneration } from './runGeneration.js'

/**
 * Re-executes a recorded causal-lm generation: re-generates from the committed prompt ids with the
 * committed settings, compares the token ids with the recorded ones (naming the first differing
 * position and both tokens), re-encodes the prompt and re-decodes the text (imo's own code, so no
 * --trust-pipeline is needed).
 * @param record - a record whose model.pipeline is imo.pipeline.json.
 * @param options - the record's bytes (read once by the caller) and where the model is.
 * @returns the same checks as reexecute().
 * @throws UsageError when the inputs do not decode or the model is not a causal-lm folder.
 * @example
 * import { reexecuteGeneration } from './generate/reexecuteGeneration.js'
 * (await reexecuteGeneration(record, { inputEncoding, outputEncoding, artifactBytes })).matches // true
 */
export async function reexecuteGeneration(record: InferenceRecord, options: ReexecuteOptions): Promise<ReexecuteResult> {
  const { modelPath, inputs, inputHash } = committedRun(record, options)
  const settings = checkRecordedGeneration(record.config.generation)

  if (hasLmPipeline(modelPath)) prewarmTokenizer(resolve(modelPath))
  const model = await loadModel(modelPath, { config: record.config })
  const lm = await loadCausalLm(model)
  if (!lm) throw new UsageError(`the record was made by the causal-lm pipeline, but ${modelPath} has no ${LM_PIPELINE_FILE}`)
  const run = await runGeneration(lm, { inputs }, { recorded: settings })
  const outputHash = sha256Hex(encodeTensors(run.outputs))
  const configHash = computeConfigHash({ ...model.config, generation: settings })

  let recordedIds: number[] | undefined
  if (options.outputEncoding)
    try {
      recordedIds = idsOf(decodeTensors(options.outputEncoding, record.outputs.file), GENERATED_IDS)
    } catch {
      recordedIds = undefined
    }
  const firstMismatch = recordedIds ? await firstDifference(lm, recordedIds, run.result.ids) : undefined
  const matches = outputHash === record.outputHash && !firstMismatch

  const promptMatches =
    record.prompt === null
      ? null
      : sha256Hex(encodeTensors({ input_ids: idsTensor(await lm.tokenizer.encode(record.prompt)) })) === inputHash
  // The re-made text against the recorded hash and against the artifact file, naming the first differing byte.
  const artifactDifference = options.artifactBytes ? byteDifference(options.artifactBytes, run.artifact.bytes) : ''
  const artifactMatches =
    sha256Hex(run.artifact.bytes) === record.artifact.sha256 && run.artifact.mime === record.artifact.mime && !artifactDifference

  return {
    ...hashChecks(record, { modelHash: model.modelHash, inputHash, outputHash, configHash }),
    promptMatches,
    matches,
    ...(firstMismatch ? { firstMismatch } : {}),
    artifactMatches,
    ...(artifactDifference ? { artifactDifference } : {}),
  }
}

function idsTensor(ids: readonly number[]) {
  return { type: 'int64' as const, dims: [1, ids.length], data: BigInt64Array.from(ids, BigInt) }
}

/** The first position where two token sequences differ, with both tokens shown as id and text. */
async function firstDifference(lm: CausalLm, recorded: readonly number[], rerun: readonly number[]) {
  const length = Math.max(recorded.length, rerun.length)
  for (let i = 0; i < length; i++) {
    if (recorded[i] === rerun[i]) continue
    const show = async (id: number | undefined) =>
      id === undefined
        ? '(none: the sequence ends)'
        : lm.tokenizer.has(id)
          ? `token ${id} ${JSON.stringify(await lm.tokenizer.decode([id]))}`
          : `token ${id} (not in the tokenizer's vocabulary)`
    return { tensor: GENERATED_IDS, index: i, expected: await show(recorded[i]), actual: await show(rerun[i]) }
  }
  return undefined
}

function byteDifference(recorded: Uint8Array, rerun: Uint8Array): string {
  const length = Math.max(recorded.length, rerun.length)
  for (let i = 0; i < length; i++)
    if (recorded[i] !== rerun[i])
      return `first differing byte at offset ${i}: recorded ${recorded[i] ?? 'end of file'}, re-run ${rerun[i] ?? 'end of text'}`
  return ''
}
