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
import type { InferenceRecord } from './record.js'
import type { ReexecuteOptions, ReexecuteResult } from './reexecute.js'

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
