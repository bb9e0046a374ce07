import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Hex } from 'viem'
import { UsageError } from '../errors.js'
import { LM_PIPELINE_FILE } from '../generate/loadCausalLm.js'
import { computeCommitment } from '../inference/commitment.js'
import { computeConfigHash, defaultInferenceConfig } from '../inference/config.js'
import { aigcDataBytes, erc7007PromptBytes } from '../inference/erc7007.js'
import type { PipelineGate } from '../inference/loadPipeline.js'
import { type InferenceRecord, readRecord, recordJsonPath, type TensorSummary } from '../inference/record.js'
import { decodeTensors } from '../tensor/decodeTensors.js'
import type { TensorSet } from '../tensor/dtypes.js'
import { sha256Hex } from '../tensor/encodeTensors.js'
import { writeNpy } from '../tensor/npy.js'
import { tensorsToJsonDocument } from '../tensor/tensorToJson.js'
import { readRegularFile } from '../util/readRegularFile.js'
import { isZkModelFolder } from '../zk/readZkModel.js'
import { type CheckList, errorLine } from './checks.js'
import { PipelineNotTrustedError, pipelineTrust } from './pipelineTrust.js'

export interface CheckInferenceOptions {
  /** The model to re-run; default the record's model.absolutePath, else model.path. */
  modelPath?: string
  /** Allow running a pipeline that is not imo's bundled one. */
  trustPipeline?: boolean
  /**
   * A model hash whose pipeline is trusted as the caller's own (imo mint: the deployment's model). A
   * record of this model may run its pipeline without trustPipeline; it runs only after the model on
   * disk hashed to it.
   */
  trustedModelHash?: Hex
}

/** A record whose files were read once and checked: the exact bytes that were hashed. */
export interface CheckedInference {
  record: InferenceRecord
  /** Absolute path of record.json and its folder. */
  file: string
  dir: string
  modelPath: string
  inputEncoding: Uint8Array
  outputEncoding: Uint8Array
  artifactBytes: Uint8Array
  /** ERC-7007 `prompt` bytes and `aigcData` bytes (in the record's mode). */
  promptBytes: Uint8Array
  aigcData: Uint8Array
}

/**
 * Checks an inference record against its files and its model, adding one check per claim to `list`:
 * every file is read once and every hash recomputed from those bytes (inputs, outputs, artifact,
 * prompt, aigcData, config, commitment), the tensor summaries and sizes against the decoded tensors,
 * outputs.json and the .npy files against the outputs, the model's hash, a bit-exact re-run on the
 * committed inputs, and the pipeline's prompt -> inputs and outputs -> artifact. The pipeline is
 * loaded only after the model hashed to the record's model hash, from the bytes that hash covers.
 * @param list - where the checks go.
 * @param recordPath - record.json or its folder.
 * @param options - model override and pipeline trust.
 * @returns the record and the bytes that were checked; undefined when the record does not parse or a
 *   file is missing (a failed check says which).
 * @throws UsageError when the record does not exist, or a foreign pipeline would run without trust.
 * @example
 * import { CheckList } from './verify/checks.js'
 * import { checkInference } from './verify/checkInference.js'
 * const list = new CheckList()
 * const checked = await checkInference(list, 'out/3fa2b4c1d9e0')
 * list.ok // true
 */
export async function checkInference(
  list: CheckList,
  recordPath: string,
  options: CheckInferenceOptions = {},
): Promise<CheckedInference | undefined> {
  const file = recordJsonPath(recordPath)
  if (!existsSync(file)) throw new UsageError(`no inference record at ${recordPath} (expected record.json or its folder)`)
  const dir = dirname(file)
  let record: InferenceRecord
  try {
    record = readRecord(file)
  } catch (error) {
    list.add('record format', false, '', errorLine(error))
    return undefined
  }
  const { keccak256 } = await import('viem')
  const ort = await import('onnxruntime-node')
  const ourVersion = ort.env.versions.common ?? 'unknown'

  // Said first: a different runtime or non-default settings.
  const defaults = defaultInferenceConfig(record.config.onnxruntimeVersion)
  const changed = (Object.keys(defaults) as Array<keyof typeof defaults>).filter((key) => defaults[key] !== record.config[key])
  const settings = changed.length
    ? `; recorded non-default settings, used for the re-run: ${changed.map((k) => `${k}=${record.config[k]}`).join(', ')}`
    : ''
  list.push(
    record.config.onnxruntimeVersion === ourVersion
      ? { name: 'runtime', status: 'pass', detail: `onnxruntime ${ourVersion}, as recorded${settings}` }
      : {
          name: 'runtime',
          status: 'warn',
          detail: `recorded with onnxruntime ${record.config.onnxruntimeVersion}, this imo runs ${ourVersion}: output bits may differ${settings}`,
        },
  )

  // Every hash, from the files, each read once.
  const readBytes = (name: string): Uint8Array | undefined => {
    try {
      return new Uint8Array(readRegularFile(join(dir, name), 'file'))
    } catch {
      return undefined
    }
  }
  const inputs = readBytes(record.inputs.file)
  const outputs = readBytes(record.outputs.file)
  const artifact = record.artifact.file === record.outputs.file ? outputs : readBytes(record.artifact.file)
  const hashCheck = (name: string, bytes: Uint8Array | undefined, file: string, expected: string, size: number) =>
    bytes === undefined
      ? list.add(name, false, '', `${file} is missing`)
      : list.add(
          name,
          sha256Hex(bytes) === expected && bytes.byteLength === size,
          `sha256(${file}) = ${expected}, ${size} bytes`,
          `sha256(${file}) = ${sha256Hex(bytes)} (${bytes.byteLength} bytes), the record says ${expected} (${size} bytes)`,
        )
  hashCheck('input hash', inputs, record.inputs.file, record.inputHash, record.inputs.size)
  hashCheck('output hash', outputs, record.outputs.file, record.outputHash, record.outputs.size)
  hashCheck('artifact hash', artifact, record.artifact.file, record.artifact.sha256, record.artifact.size)
  const promptBytes = inputs ? erc7007PromptBytes({ prompt: record.prompt, inputEncoding: inputs }) : undefined
  if (promptBytes) {
    const h = keccak256(promptBytes)
    list.add(
      'prompt hash',
      h === record.promptHash,
      `keccak256(prompt) = ${h}`,
      `keccak256(prompt) = ${h}, the record says ${record.promptHash}`,
    )
  }
  const aigcData = artifact ? aigcDataBytes(artifact, record.aigcDataMode) : undefined
  if (aigcData) {
    const h = keccak256(aigcData)
    list.add(
      'aigcData hash',
      h === record.aigcDataHash,
      `keccak256(aigcData, ${record.aigcDataMode}) = ${h}`,
      `keccak256(aigcData) = ${h}, the record says ${record.aigcDataHash}`,
    )
  }
  const configHash = computeConfigHash(record.config)
  list.add(
    'config hash',
    configHash === record.configHash,
    `keccak256(settings) = ${configHash}`,
    `keccak256(settings) = ${configHash}, the record says ${record.configHash}`,
  )
  const commitment = computeCommitment(record)
  list.add(
    'commitment',
    commitment === record.commitment,
    commitment,
    `recomputed ${commitment}, the record says ${record.commitment}`,
  )
  checkTensorFiles(list, record, dir, inputs, outputs)

  // The model and its re-execution.
  const modelPath = options.modelPath ?? (existsSync(record.model.absolutePath) ? record.model.absolutePath : record.model.path)
  // The built-in pipelines (causal-lm, zk-image) run no code from the model folder: they need no trust.
  let trust: string | undefined =
    record.model.pipeline === LM_PIPELINE_FILE ? `built-in ${isZkModelFolder(modelPath) ? 'zk-image' : 'causal-lm'}` : undefined
  const allowPipeline: PipelineGate = (sha256, path) => {
    trust =
      options.trustedModelHash !== undefined && options.trustedModelHash.toLowerCase() === record.modelHash
        ? "the deployment's"
        : pipelineTrust(sha256, path, Boolean(options.trustPipeline))
  }
  const { reexecute } = await import('../inference/reexecute.js')
  // The model not being on this machine says nothing about the record: the check cannot run
  // (unverified), it did not fail.
  if (!existsSync(modelPath))
    list.add('re-execution', null, `the model ${modelPath} is not on this machine: the re-execution needs it (pass --model PATH)`)
  else
    try {
      if (!inputs) throw new UsageError(`the record's inputs file ${record.inputs.file} is missing`)
      const rerun = await reexecute(record, {
        inputEncoding: inputs,
        ...(outputs ? { outputEncoding: outputs } : {}),
        ...(artifact ? { artifactBytes: artifact } : {}),
        modelPath,
        allowPipeline,
      })
      list.add(
        'model hash',
        rerun.modelMatches,
        `${modelPath} hashes to ${rerun.modelHash}`,
        `${modelPath} hashes to ${rerun.modelHash}, the record says ${record.modelHash}`,
      )
      const where = rerun.firstMismatch
        ? `; first at ${rerun.firstMismatch.tensor}${rerun.firstMismatch.index !== undefined ? `[${rerun.firstMismatch.index}]` : ''}: recorded ${rerun.firstMismatch.expected}, re-run ${rerun.firstMismatch.actual}`
        : ''
      list.add(
        're-execution',
        rerun.matches,
        `outputs bit-identical (sha256 ${rerun.outputHash})`,
        `outputs differ: re-run sha256 ${rerun.outputHash}${rerun.maxAbsDiff !== undefined ? `, largest difference ${rerun.maxAbsDiff}` : ''}${where}`,
      )
      const notRun = rerun.modelMatches ? 'not run' : 'not run: the model is not the recorded one'
      if (record.model.pipeline !== null) {
        if (record.prompt !== null)
          list.add(
            'prompt -> inputs',
            rerun.promptMatches === null ? (rerun.modelMatches ? null : false) : rerun.promptMatches,
            rerun.promptMatches === null
              ? `pipeline ${notRun}`
              : `the pipeline encodes the prompt into the committed inputs (${trust} pipeline)`,
            rerun.promptMatches === null ? `pipeline ${notRun}` : 'the pipeline encodes the prompt into other inputs',
          )
        list.add(
          'outputs -> artifact',
          rerun.artifactMatches === null ? (rerun.modelMatches ? null : false) : rerun.artifactMatches,
          rerun.artifactMatches === null
            ? `pipeline ${notRun}`
            : `the pipeline decodes the outputs into the recorded artifact (${trust} pipeline)`,
          rerun.artifactMatches === null
            ? `pipeline ${notRun}`
            : `the pipeline decodes the outputs into another artifact${rerun.artifactDifference ? ` (${rerun.artifactDifference})` : ''}`,
        )
      } else
        list.add(
          'outputs -> artifact',
          rerun.artifactMatches,
          "the artifact is the outputs' encoding",
          "the artifact is not the outputs' encoding",
        )
    } catch (error) {
      if (error instanceof PipelineNotTrustedError) throw error // the operator decides (exit 2)
      list.add('re-execution', false, '', `could not re-run ${modelPath}: ${errorLine(error)}`)
    }
  if (!inputs || !outputs || !artifact || !promptBytes || !aigcData) return undefined
  return {
    record,
    file,
    dir,
    modelPath,
    inputEncoding: inputs,
    outputEncoding: outputs,
    artifactBytes: artifact,
    promptBytes,
    aigcData,
  }
}

/**
 * The record's tensor summaries (names, types, dims) against the decoded inputs and outputs, and
 * outputs.json and each .npy file against the outputs they were written from.
 */
function checkTensorFiles(
  list: CheckList,
  record: InferenceRecord,
  dir: string,
  inputs: Uint8Array | undefined,
  outputs: Uint8Array | undefined,
): void {
  const decode = (bytes: Uint8Array | undefined, name: string): TensorSet | undefined => {
    if (!bytes) return undefined
    try {
      return decodeTensors(bytes, name)
    } catch (error) {
      list.add(`${name} tensors`, false, '', errorLine(error))
      return undefined
    }
  }
  const summary = (set: TensorSet): TensorSummary[] =>
    Object.entries(set).map(([name, t]) => ({ name, type: t.type, dims: t.dims.map(Number) }))
  const same = (a: TensorSummary[], b: TensorSummary[]) =>
    JSON.stringify([...a].sort(byName).map(({ name, type, dims }) => [name, type, dims])) ===
    JSON.stringify([...b].sort(byName).map(({ name, type, dims }) => [name, type, dims]))
  const decodedInputs = decode(inputs, record.inputs.file)
  const decodedOutputs = decode(outputs, record.outputs.file)
  if (decodedInputs && decodedOutputs) {
    const ok = same(summary(decodedInputs), record.inputs.tensors) && same(summary(decodedOutputs), record.outputs.tensors)
    list.add(
      'tensor summaries',
      ok,
      "inputs.tensors and outputs.tensors (names, types, dims) describe the files' tensors",
      "inputs.tensors or outputs.tensors (names, types, dims) do not describe the files' tensors",
    )
  }
  if (!decodedOutputs) return
  const problems: string[] = []
  const readOr = (name: string) => {
    try {
      return readRegularFile(join(dir, name), 'file')
    } catch {
      problems.push(`${name} is missing`)
      return undefined
    }
  }
  const npy = record.outputs.npy
  for (const [name, file] of Object.entries(npy)) {
    const bytes = readOr(file)
    const tensor = decodedOutputs[name]
    if (!tensor) problems.push(`outputs.npy names ${name}, which is not an output`)
    else if (bytes && !bytes.equals(writeNpy(tensor))) problems.push(`${file} is not the output ${name}`)
  }
  const json = readOr(record.outputs.json)
  if (json && json.toString('utf8') !== `${JSON.stringify(tensorsToJsonDocument(decodedOutputs, npy), null, 2)}\n`)
    problems.push(`${record.outputs.json} is not the outputs' JSON`)
  list.add(
    'output files',
    problems.length === 0,
    `${[record.outputs.json, ...Object.values(npy)].join(', ')} hold the outputs of ${record.outputs.file}`,
    problems.join('; '),
  )
}

function byName(a: TensorSummary, b: TensorSummary): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}
