import { encodeAbiParameters, keccak256, toHex } from 'viem'
import { UsageError } from '../errors.js'
import type { Bytes32 } from '../tensor/encodeTensors.js'

/** keccak256("imo.inference.v1"), the domain tag that opens every commitment. */
export const INFERENCE_TAG: Bytes32 = keccak256(toHex('imo.inference.v1'))

/** The four hashes an inference commits to. */
export interface CommitmentInputs {
  modelHash: Bytes32
  inputHash: Bytes32
  outputHash: Bytes32
  configHash: Bytes32
}

/**
 * commitment = keccak256(abi.encode(keccak256("imo.inference.v1"), modelHash, inputHash, outputHash,
 * configHash)), all bytes32 (docs/formats.md section 4). Solidity reproduces it with the same expression.
 * @param hashes - the model, input, output and config hashes, each 0x + 64 hex digits.
 * @returns the commitment as 0x-hex.
 * @throws UsageError when a hash is not a bytes32.
 * @example
 * import { computeCommitment } from './inference/commitment.js'
 * computeCommitment({ modelHash: `0x${'11'.repeat(32)}`, inputHash: `0x${'22'.repeat(32)}`, outputHash: `0x${'33'.repeat(32)}`, configHash: `0x${'44'.repeat(32)}` })
 * // '0x…' (golden value in commitment.test.ts)
 */
export function computeCommitment(hashes: CommitmentInputs): Bytes32 {
  for (const key of ['modelHash', 'inputHash', 'outputHash', 'configHash'] as const)
    if (!isBytes32(hashes[key])) throw new UsageError(`${key} is not a bytes32 (0x + 64 hex digits): ${String(hashes[key])}`)
  return keccak256(
    encodeAbiParameters(
      [{ type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'bytes32' }],
      [INFERENCE_TAG, hashes.modelHash, hashes.inputHash, hashes.outputHash, hashes.configHash],
    ),
  )
}

/**
 * True for a 0x-prefixed 32-byte hex string.
 * @example
 * isBytes32(`0x${'ab'.repeat(32)}`) // true
 */
export function isBytes32(value: unknown): value is Bytes32 {
  return typeof value === 'string' && /^0x[0-9a-fA-F]{64}$/.test(value)
}
