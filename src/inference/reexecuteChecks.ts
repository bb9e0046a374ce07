/**
 * What every re-execution shares (the ONNX one in reexecute.ts and the causal-lm one in
 * reexecuteGeneration.ts): which model and inputs it re-runs, and the hash checks it reports from what
 * it recomputed, so the two cannot drift apart on what "matches" means.
 */
import { existsSync } from 'node:fs'
import { decodeTensors } from '../tensor/decodeTensors.js'
import type { TensorSet } from '../tensor/dtypes.js'
import { type Bytes32, sha256Hex } from '../tensor/encodeTensors.js'
import { computeCommitment } from './commitment.js'
import type { TensorMismatch } from './compareTensors.js'
import type { PipelineGate } from './loadPipeline.js'
import type { InferenceRecord } from './record.js'

export interface ReexecuteOptions {
  /** The record's inputs (the bytes of inputs.file, read once by the caller): what is re-run. */
  inputEncoding: Uint8Array
  /** The record's outputs (outputs.file), for the largest difference on a mismatch. */
  outputEncoding?: Uint8Array
  /** The record's artifact (artifact.file), for the first differing byte of a causal-lm text. */
  artifactBytes?: Uint8Array
  /** The model to run; default the record's model.absolutePath, else model.path. */
  modelPath?: string
  /**
   * Run the model's pipeline (someone else's code) to check that the prompt gives the committed inputs
   * and the outputs give the recorded artifact; the gate decides on the bytes imported. Without it, or
   * when the model's hash is not the record's, the pipeline is not loaded and those checks are null.
   */
  allowPipeline?: PipelineGate
}

export interface ReexecuteResult {
  modelHash: Bytes32
  modelMatches: boolean
  /** configHash of the settings the re-run used (this process's onnxruntime version). */
  configHash: Bytes32
  configMatches: boolean
  /** SHA-256 of the record's inputs file, which is what was re-run. */
  inputHash: Bytes32
  inputMatches: boolean
  /** The pipeline's encode(prompt) gives the committed inputs; null when not checked. */
  promptMatches: boolean | null
  /** outputHash of the re-run. */
  outputHash: Bytes32
  /** The re-run's outputs are bit for bit the recorded ones (outputHash equal). */
  matches: boolean
  /** On mismatch: the largest absolute difference over float outputs, and where they first differ. */
  maxAbsDiff?: number
  firstMismatch?: TensorMismatch
  /** The artifact re-made from the outputs has the recorded SHA-256; null when not checked. */
  artifactMatches: boolean | null
  /** The commitment recomputed from the re-run's hashes, and whether it equals the record's. */
  commitment: Bytes32
  commitmentMatches: boolean
  /** On an artifact mismatch, where the bytes first differ (causal-lm text). */
  artifactDifference?: string
}

/**
 * The model path and the committed inputs a re-execution runs: `--model`, else the record's absolute
 * model path when it exists here, else its relative one; the inputs decoded from the bytes the caller
 * read once, and their SHA-256.
 * @throws UsageError when the inputs do not decode.
 * @example
 * const { modelPath, inputs, inputHash } = committedRun(record, { inputEncoding })
 */
export function committedRun(
  record: InferenceRecord,
  options: Pick<ReexecuteOptions, 'inputEncoding' | 'modelPath'>,
): { modelPath: string; inputs: TensorSet; inputHash: Bytes32 } {
  const modelPath = options.modelPath ?? (existsSync(record.model.absolutePath) ? record.model.absolutePath : record.model.path)
  return {
    modelPath,
    inputs: decodeTensors(options.inputEncoding, record.inputs.file),
    inputHash: sha256Hex(options.inputEncoding),
  }
}

/** The hash checks of a re-execution, each recomputed value beside whether it equals the record's. */
export type HashChecks = Pick<
  ReexecuteResult,
  | 'modelHash'
  | 'modelMatches'
  | 'configHash'
  | 'configMatches'
  | 'inputHash'
  | 'inputMatches'
  | 'outputHash'
  | 'commitment'
  | 'commitmentMatches'
>

/**
 * Compares what a re-execution recomputed with the record, and recomputes the commitment from it.
 * @example
 * const checks = hashChecks(record, { modelHash: model.modelHash, inputHash, outputHash, configHash })
 * checks.commitmentMatches // true when all four hashes are the record's
 */
export function hashChecks(
  record: InferenceRecord,
  recomputed: { modelHash: Bytes32; inputHash: Bytes32; outputHash: Bytes32; configHash: Bytes32 },
): HashChecks {
  const { modelHash, inputHash, outputHash, configHash } = recomputed
  const commitment = computeCommitment({ modelHash, inputHash, outputHash, configHash })
  return {
    modelHash,
    modelMatches: modelHash === record.modelHash,
    configHash,
    configMatches: configHash === record.configHash,
    inputHash,
    inputMatches: inputHash === record.inputHash,
    outputHash,
    commitment,
    commitmentMatches: commitment === record.commitment,
  }
}
