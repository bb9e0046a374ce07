/**
 * The public signals of a zk proof (docs/formats.md section 11), computed from the same bytes the
 * collection sees, so prover, offline verifier, tests and the contract agree on one layout:
 *
 *   [ out_0 … out_{K-1}, model, prompt, recipient ]
 *
 * - out_i: the payload (aigcData after its fixed prefix), 31 bytes per field element, big-endian; the
 *   last one holds the remaining bytes;
 * - model: the first 31 bytes of the model hash, big-endian (uint256(modelHash) >> 8);
 * - prompt: the first 31 bytes of keccak256(prompt bytes) (uint256(keccak256(prompt)) >> 8), from which
 *   the circuit derives its input: latent j is byte j as a signed 8-bit integer;
 * - recipient: the token's recipient address as an integer.
 */
import { keccak256 } from 'viem'
import { BYTES_PER_FIELD } from './buildCircuit.js'

/**
 * The field element of a 32-byte hash: its first 31 bytes, big-endian.
 * @example
 * hashField(`0x${'ff'.repeat(32)}`) // 2n ** 248n - 1n
 */
export function hashField(hash: `0x${string}`): bigint {
  return BigInt(hash) >> 8n
}

/**
 * The prompt's field element.
 * @param prompt - the ERC-7007 prompt bytes (the UTF-8 text).
 * @example
 * promptField(new TextEncoder().encode('a red spiral'))
 */
export function promptField(prompt: Uint8Array): bigint {
  return hashField(keccak256(prompt))
}

/**
 * The model's input latent for a prompt: the first `count` bytes of keccak256(prompt) as int8.
 * @example
 * promptLatent(new TextEncoder().encode('a red spiral'), 8) // [-37, 102, …] (8 values in -128..127)
 */
export function promptLatent(prompt: Uint8Array, count: number): number[] {
  const digest = Buffer.from(keccak256(prompt).slice(2), 'hex')
  return Array.from(digest.subarray(0, count), (b) => (b >= 128 ? b - 256 : b))
}

/**
 * Packs payload bytes into field elements, 31 per element, big-endian.
 * @example
 * packBytes(Uint8Array.of(1, 2)) // [258n]
 */
export function packBytes(payload: Uint8Array): bigint[] {
  const out: bigint[] = []
  for (let at = 0; at < payload.length; at += BYTES_PER_FIELD) {
    let v = 0n
    for (const b of payload.subarray(at, at + BYTES_PER_FIELD)) v = (v << 8n) | BigInt(b)
    out.push(v)
  }
  return out
}

/**
 * Unpacks field elements into `length` payload bytes (the inverse of {@link packBytes}).
 * @throws Error when an element does not fit its bytes.
 * @example
 * unpackBytes([258n], 2) // Uint8Array [1, 2]
 */
export function unpackBytes(fields: bigint[], length: number): Uint8Array {
  const out = new Uint8Array(length)
  fields.forEach((field, i) => {
    const start = i * BYTES_PER_FIELD
    const size = Math.min(BYTES_PER_FIELD, length - start)
    let v = field
    for (let j = size - 1; j >= 0; j--) {
      out[start + j] = Number(v & 0xffn)
      v >>= 8n
    }
    if (v !== 0n) throw new Error(`public output ${i} does not fit ${size} bytes`)
  })
  return out
}

/** What the public signals bind. */
export interface PublicSignalInputs {
  /** The collection's model hash. */
  modelHash: `0x${string}`
  /** The ERC-7007 prompt bytes. */
  prompt: Uint8Array
  /** The payload bytes (aigcData without its prefix). */
  payload: Uint8Array
  /** The token's recipient. */
  recipient: `0x${string}`
}

/**
 * The public signals in circuit order, as the verifier and the contract compute them.
 * @example
 * publicSignals({ modelHash, prompt, payload, recipient }) // [out_0, …, model, prompt, recipient]
 */
export function publicSignals(inputs: PublicSignalInputs): bigint[] {
  return [...packBytes(inputs.payload), hashField(inputs.modelHash), promptField(inputs.prompt), BigInt(inputs.recipient)]
}
