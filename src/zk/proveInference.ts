/**
 * `imo infer --prove` (and `infer-and-mint`, `demo` on zk models): the PLONK proof of one inference of
 * a zk model, bound to a recipient, written as `proof.json` beside the record (docs/formats.md
 * section 11). The payload proved is the inference's own aigcData after its prefix, so the proof is
 * about exactly the bytes the record and the mint carry.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { UsageError } from '../errors.js'
import type { InferenceResult } from '../inference/assembleInference.js'
import { parseJson } from '../util/parseJson.js'
import { writeFileAtomic } from '../util/writeFileAtomic.js'
import { type EnsureZkKeysOptions, ensureZkKeys, type ZkKeys } from './ensureZkKeys.js'
import type { ZkPipeline } from './loadZkPipeline.js'
import { PROOF_FORMAT, type ProofStats, proveZk, type ZkProofFile } from './proveZk.js'

/** The proof's file name in an inference's output folder. */
export const ZK_PROOF_FILE = 'proof.json'

export interface ProveInferenceOptions extends EnsureZkKeysOptions {
  /** The token's recipient the proof is bound to. */
  recipient: `0x${string}`
  /** Progress words for a spinner: 'computing the witness', 'proving: round 2 of 5', … */
  onProgress?: (step: string) => void
}

/**
 * Proves an inference of a zk model.
 * @param inference - runInference's result (its aigcData is the BMP the proof is about).
 * @param zk - the model's zk pipeline (runInference's `zk`).
 * @returns the proof file, the keys used and the prover's time and peak memory.
 * @throws UsageError (2) without keys and --ptau; ImoError when the circuit disagrees with the inference.
 * @example
 * import { proveInference } from './zk/proveInference.js'
 * const { proof, stats } = await proveInference(result, result.zk!, { recipient: '0x7099…79C8' })
 * stats.peakRssBytes // 480000000
 */
export async function proveInference(
  inference: Pick<InferenceResult, 'record' | 'promptBytes' | 'aigcData'>,
  zk: ZkPipeline,
  options: ProveInferenceOptions,
): Promise<{ proof: ZkProofFile; keys: ZkKeys; stats: ProofStats }> {
  const model = zk.zkModel
  if (inference.record.modelHash !== model.modelHash)
    throw new UsageError(`the inference was made with model ${inference.record.modelHash}, not ${model.modelHash}`)
  const keys = await ensureZkKeys(model, { ...options, onStep: options.onStep ?? options.onProgress })
  const made = await proveZk({
    artifacts: keys,
    prompt: inference.promptBytes,
    payload: inference.aigcData.subarray(model.prefix.length),
    recipient: options.recipient,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  })
  return { ...made, keys }
}

/**
 * Writes a proof file atomically into an output folder.
 * @returns its path.
 * @example
 * writeZkProof('out/3fa2b4c1d9e0', proof) // 'out/3fa2b4c1d9e0/proof.json'
 */
export function writeZkProof(dir: string, proof: ZkProofFile): string {
  const path = join(dir, ZK_PROOF_FILE)
  writeFileAtomic(path, `${JSON.stringify(proof, null, 2)}\n`)
  return path
}

/**
 * Reads a proof file, checking its shape (not its validity: verifyZkProof does that).
 * @throws UsageError (2) when it is not an imo-zk-proof-v1 file.
 * @example
 * readZkProof('out/3fa2b4c1d9e0/proof.json').recipient
 */
export function readZkProof(path: string): ZkProofFile {
  const value = parseJson(readFileSync(path, 'utf8'), path, { expected: 'a zk proof file' }) as Partial<ZkProofFile>
  const proof = value.proof as Record<string, unknown> | undefined
  if (
    value.format !== PROOF_FORMAT ||
    value.scheme !== 'plonk' ||
    typeof value.recipient !== 'string' ||
    !/^0x[0-9a-fA-F]{40}$/.test(value.recipient) ||
    typeof proof !== 'object' ||
    proof === null ||
    !['A', 'B', 'C', 'Z', 'T1', 'T2', 'T3', 'Wxi', 'Wxiw'].every((k) => Array.isArray(proof[k])) ||
    !['eval_a', 'eval_b', 'eval_c', 'eval_s1', 'eval_s2', 'eval_zw'].every((k) => typeof proof[k] === 'string')
  )
    throw new UsageError(`${path} is not an ${PROOF_FORMAT} proof file`)
  return value as ZkProofFile
}
