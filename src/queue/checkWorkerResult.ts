/**
 * The dispatcher's check of a worker's result, with the deployment's model loaded in serve: everything
 * that does not need the model to run is re-derived here from what serve knows itself, and serve's
 * record is built from its own values by the same code as `imo infer` (assembleInference), so nothing
 * the worker wrote is signed unless serve computed the same bytes:
 * - the runtime and generation settings are serve's own (CPU, one thread each, sequential, optimisation
 *   `disabled`, this process's onnxruntime; the model folder's generation settings, with an off-chain
 *   call's own flags):
 *   a result recorded with any other is refused;
 * - the inputs are encoded from the request's prompt by the model's pipeline (`encode`, or the
 *   tokenizer for causal-lm), so the inputHash is serve's;
 * - the outputs are the tensors the worker sent (their hash is the record's outputHash), checked
 *   against the model's declared outputs (names, types, fixed dimensions; for causal-lm, at most
 *   max-new-tokens ids and a stop id only at the end);
 * - the artifact is decoded from those outputs by the pipeline (`decode`, or the tokenizer), so a
 *   file the worker labels `image/png` is never what is signed;
 * - the prompt and aigcData hashes, the config hash and the commitment follow from these.
 * What this cannot check is that the outputs are what the model computes from the inputs: that takes a
 * re-execution, which serve runs on a share of the results (--audit-rate, queueInference.ts). A custom
 * pipeline that makes its inputs and artifact in a loop of its own (`generate()`) gives nothing to
 * re-derive: serve re-executes every result of such a model (`mode: 'rerun'`).
 */

import type { GenerationFlags, GenerationSettings } from '../generate/generationSettings.js'
import { type CausalLm, loadCausalLm } from '../generate/loadCausalLm.js'
import { GENERATED_IDS, generationSettingsOf, idsOf, idsTensor, PROMPT_IDS, textOf } from '../generate/runGeneration.js'
import { assembleInference } from '../inference/assembleInference.js'
import { canonicalConfigJson, type InferenceConfig } from '../inference/config.js'
import type { AigcDataMode } from '../inference/erc7007.js'
import type { LoadedModel } from '../inference/loadModel.js'
import type { Pipeline } from '../inference/loadPipeline.js'
import type { InferenceRecord } from '../inference/record.js'
import type { InferenceResult } from '../inference/runInference.js'
import { decodeTensors } from '../tensor/decodeTensors.js'
import type { TensorSet } from '../tensor/dtypes.js'
import { quoteUntrusted, type ReceivedResult, WorkerResultError } from './workerResult.js'

/** serve's checker for one model. */
export interface ResultChecker {
  /** `rederive`: results are checked here; `rerun`: only a re-execution can check them (a generate() pipeline). */
  readonly mode: 'rederive' | 'rerun'
  /** The settings serve runs with and accepts, as committed (config.generation included for causal-lm). */
  readonly config: InferenceConfig
  /**
   * Re-derives the inference from the result's outputs and compares it with the worker's record.
   * @returns serve's own inference (its record, ERC-7007 bytes and files), ready to sign; undefined in
   *   `rerun` mode, where only the model, prompt and settings could be checked.
   * @throws WorkerResultError (forged) naming the first difference.
   */
  check(job: { prompt: string; generation?: GenerationFlags }, received: ReceivedResult): Promise<InferenceResult | undefined>
}

/**
 * Prepares the checks for the deployment's model (loaded and hashed by serve).
 * @param model - from loadModel, with the default (deterministic) settings.
 * @param options - the aigcData mode serve asks for.
 * @returns the checker.
 * @throws UsageError when the model's pipeline cannot be loaded.
 * @example
 * import { createResultChecker } from './queue/checkWorkerResult.js'
 * const checker = await createResultChecker(await loadModel('models/cppn'), { aigcDataMode: 'digest' })
 * const result = await checker.check({ prompt: 'a red spiral' }, received)
 * result.record.commitment // serve's own commitment, equal to the worker's
 */
export async function createResultChecker(model: LoadedModel, options: { aigcDataMode: AigcDataMode }): Promise<ResultChecker> {
  const lm = await loadCausalLm(model)
  const pipeline = lm ? undefined : await model.pipeline()
  const defaultGeneration = lm ? generationSettingsOf(lm) : undefined
  const config: InferenceConfig = defaultGeneration ? { ...model.config, generation: defaultGeneration } : { ...model.config }
  const mode = pipeline?.generate ? 'rerun' : 'rederive'
  return {
    mode,
    config,
    async check(job, received) {
      const { record } = received
      // An off-chain call's own flags (max_tokens...), resolved as the worker resolves them.
      const generation = lm && job.generation ? generationSettingsOf(lm, job.generation) : defaultGeneration
      const config: InferenceConfig = generation ? { ...model.config, generation } : { ...model.config }
      const forged = (what: string): never => {
        throw new WorkerResultError(what, { forged: true })
      }
      if (record.modelHash !== model.modelHash) forged(`it was made with model ${record.modelHash}, not ${model.modelHash}`)
      if (record.prompt !== job.prompt) forged("its prompt is not the request's")
      if (record.aigcDataMode !== options.aigcDataMode)
        forged(`its aigcData mode is ${record.aigcDataMode}, not ${options.aigcDataMode}`)
      const settings = differences(config, record.config)
      if (settings) forged(`it was recorded with other settings than serve runs: ${settings}`)
      if (mode === 'rerun') return undefined

      let outputs: TensorSet
      try {
        outputs = decodeTensors(received.outputEncoding, 'its outputs')
      } catch (error) {
        return forged((error as Error).message.split('\n')[0]!)
      }
      let inputs: TensorSet
      let artifact: { bytes: Uint8Array; mime: string }
      try {
        if (lm) {
          const ids = checkGeneratedIds(outputs, generation!)
          inputs = { [PROMPT_IDS]: idsTensor(await lm.tokenizer.encode(job.prompt)) }
          artifact = (await textOf(lm as CausalLm, ids)).artifact
        } else {
          checkDeclaredOutputs(model, outputs)
          inputs = await (pipeline as Pipeline).encode(job.prompt)
          artifact = await (pipeline as Pipeline).decode(outputs)
        }
      } catch (error) {
        if (error instanceof WorkerResultError) throw error
        return forged(`serve cannot re-make its artifact: ${(error as Error).message.split('\n')[0]}`)
      }
      const at = (text: string) => (Number.isNaN(Date.parse(text)) ? new Date() : new Date(text))
      const own = assembleInference({
        model,
        pipeline: lm ? 'causal-lm' : 'module',
        prompt: job.prompt,
        inputs,
        outputs,
        artifact,
        ...(generation ? { generation } : {}),
        aigcDataMode: options.aigcDataMode,
        outputEncoding: received.outputEncoding,
        startedAt: at(record.startedAt),
        finishedAt: at(record.finishedAt),
      })
      const mine = own.record
      if (mine.inputHash !== record.inputHash)
        forged(
          `its inputHash ${record.inputHash} is not the hash of the inputs the pipeline encodes from the prompt (${mine.inputHash})`,
        )
      if (
        mine.artifact.sha256 !== record.artifact.sha256 ||
        mine.artifact.mime !== record.artifact.mime ||
        mine.artifact.size !== record.artifact.size
      )
        forged(
          `its artifact (${quoteUntrusted(record.artifact.mime)}, ${record.artifact.size} bytes, ${record.artifact.sha256}) is not what the pipeline decodes from its outputs (${quoteUntrusted(mine.artifact.mime)}, ${mine.artifact.size} bytes)`,
        )
      for (const key of ['configHash', 'promptHash', 'aigcDataHash', 'commitment'] as const)
        if (mine[key] !== record[key]) forged(`its ${key} ${record[key]} is not the one serve recomputes (${mine[key]})`)
      // Nothing else of the record may differ either (file names, tensor summaries...): an imo worker
      // writes the very record serve does, but for its clock, its paths and its imo version.
      const other = firstDifference(comparable(mine), comparable(record))
      if (other) forged(`its record differs from serve's in ${quoteUntrusted(other)}`)
      return own
    },
  }
}

/** A record without what may differ between honest machines: the clock, the model's paths, imo's version. */
function comparable(record: InferenceRecord): unknown {
  const { startedAt, finishedAt, durationMs, imoVersion, model, ...rest } = record
  return { ...rest, model: { onnxFile: model.onnxFile, pipeline: model.pipeline } }
}

/** The path of the first value that differs between two JSON values (`artifact.file`), or ''. */
function firstDifference(a: unknown, b: unknown, path = ''): string {
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && Array.isArray(a) === Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
    for (const key of keys) {
      const found = firstDifference(
        (a as Record<string, unknown>)[key],
        (b as Record<string, unknown>)[key],
        path ? `${path}.${key}` : key,
      )
      if (found) return found
    }
    return ''
  }
  return JSON.stringify(a) === JSON.stringify(b) ? '' : path || 'the record'
}

/**
 * The settings that differ between serve's and a record's, as `key value (serve: value)`, or '' when
 * they are the same (compared as their canonical JSON, which configHash hashes).
 */
function differences(expected: InferenceConfig, recorded: InferenceConfig): string {
  if (canonicalConfigJson(expected) === canonicalConfigJson(recorded)) return ''
  const flat = (config: InferenceConfig) => {
    const { generation, ...runtime } = config
    const entries: Record<string, unknown> = { ...runtime }
    for (const [key, value] of Object.entries(generation ?? {})) entries[`generation.${key}`] = value
    return entries
  }
  const a = flat(expected)
  const b = flat(recorded)
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
  const shown = (value: unknown) => (value === undefined ? 'none' : quoteUntrusted(value))
  return keys
    .filter((key) => JSON.stringify(a[key]) !== JSON.stringify(b[key]))
    .map((key) => `${key} ${shown(b[key])} (serve: ${shown(a[key])})`)
    .join(', ')
}

/** The outputs are the ones the model declares: the same names, types, ranks and fixed dimensions. */
function checkDeclaredOutputs(model: LoadedModel, outputs: TensorSet): void {
  const declared = model.outputs.map((o) => o.name).sort()
  const given = Object.keys(outputs).sort()
  if (JSON.stringify(declared) !== JSON.stringify(given))
    throw new WorkerResultError(`its outputs are ${quoteUntrusted(given)}; the model's are ${quoteUntrusted(declared)}`, {
      forged: true,
    })
  for (const value of model.outputs) {
    const tensor = outputs[value.name]!
    const fixed =
      value.shape.length === 0 ||
      (tensor.dims.length === value.shape.length &&
        value.shape.every((d, i) => typeof d !== 'number' || d < 0 || d === tensor.dims[i]))
    if (tensor.type !== value.type || !fixed)
      throw new WorkerResultError(
        `its output ${quoteUntrusted(value.name)} is ${tensor.type}[${tensor.dims.join(',')}]; the model's is ${value.type}[${value.shape.join(',')}]`,
        { forged: true },
      )
  }
}

/** A causal-lm output: generated_ids alone, at most maxNewTokens ids, fewer only when the last is a stop id. */
function checkGeneratedIds(outputs: TensorSet, settings: GenerationSettings): number[] {
  const bad = (what: string): never => {
    throw new WorkerResultError(`its generated ids ${what}`, { forged: true })
  }
  if (Object.keys(outputs).length !== 1) bad(`come with other outputs (${quoteUntrusted(Object.keys(outputs))})`)
  let ids: number[]
  try {
    ids = idsOf(outputs, GENERATED_IDS)
  } catch {
    return bad(`are not one tensor ${GENERATED_IDS} int64[1,n]`)
  }
  const stops = new Set(settings.stopIds)
  if (ids.length > settings.maxNewTokens) bad(`are ${ids.length}, more than the ${settings.maxNewTokens} the settings allow`)
  if (ids.some((id) => !Number.isSafeInteger(id) || id < 0)) bad('hold a negative or out-of-range id')
  const early = ids.findIndex((id, i) => stops.has(id) && i < ids.length - 1)
  if (early >= 0) bad(`go on after the stop id ${ids[early]} at position ${early}`)
  if (ids.length < settings.maxNewTokens && !stops.has(ids[ids.length - 1]!))
    bad(`end after ${ids.length} of ${settings.maxNewTokens} tokens without a stop id`)
  return ids
}

/**
 * The first way a worker's record differs from serve's own run of the same request (an audit), as one
 * line, or '' when they agree on everything the attestation covers: the inputs, outputs and settings
 * (so the commitment) and the artifact.
 * @example
 * recordDifference(local.record, received.record) // 'its outputHash 0x… is not the re-execution's 0x…'
 */
export function recordDifference(ours: InferenceRecord, theirs: InferenceRecord): string {
  for (const key of ['inputHash', 'outputHash', 'configHash', 'commitment', 'promptHash', 'aigcDataHash'] as const)
    if (ours[key] !== theirs[key]) return `its ${key} ${theirs[key]} is not the re-execution's ${ours[key]}`
  if (ours.artifact.sha256 !== theirs.artifact.sha256 || ours.artifact.mime !== theirs.artifact.mime)
    return `its artifact ${theirs.artifact.sha256} is not the re-execution's ${ours.artifact.sha256}`
  return ''
}
