/**
 * The ERC-7007 proof of an imo collection (DESIGN section 4, contracts/AigcCollection.sol):
 * `proof = abi.encode(bytes32 commitment, bytes signature)`, where `signature` is either the
 * attester EOA's 65-byte ECDSA signature (r, s, v) or, for a contract attester (ERC-1271),
 * `abi.encode(address signer, bytes signerSignature)`. Decoding mirrors the contract's canonical
 * checks (offset exactly 64, exact padded length), so what decodes here is what `verify` accepts.
 */
import { type Address, encodeAbiParameters, getAddress, type Hex, hexToBytes, isAddress, toHex } from 'viem'
import { UsageError } from '../errors.js'

/** How the attestation was signed. */
export type ProofScheme = 'ecdsa' | 'erc1271'

export interface EncodeProofParams {
  commitment: Hex
  /** The 65-byte EIP-712 signature (for ERC-1271, the signature the contract checks). */
  signature: Hex
  /** For an ERC-1271 attester: the contract's address; the signature is then wrapped for it. */
  contractSigner?: Address
}

export interface DecodedProof {
  commitment: Hex
  scheme: ProofScheme
  /** The signature checked: the 65 bytes for ECDSA, the inner signerSignature for ERC-1271. */
  signature: Hex
  /** The ERC-1271 contract signer (erc1271 only). */
  contractSigner?: Address
}

/**
 * Encodes a proof the collection's `verify` accepts.
 * @param params - commitment, signature and, for a contract attester, its address.
 * @returns the proof bytes as 0x-hex.
 * @throws UsageError when an ECDSA signature is not 65 bytes or the commitment not a bytes32.
 * @example
 * import { encodeProof } from './mint/encodeProof.js'
 * encodeProof({ commitment: '0x…32 bytes', signature: '0x…65 bytes' }) // '0x…' (192 bytes)
 */
export function encodeProof(params: EncodeProofParams): Hex {
  if (!/^0x[0-9a-fA-F]{64}$/.test(params.commitment)) throw new UsageError('the commitment must be a bytes32')
  let signature = params.signature
  if (params.contractSigner) {
    if (!isAddress(params.contractSigner, { strict: false })) throw new UsageError('the contract signer must be an address')
    signature = encodeAbiParameters([{ type: 'address' }, { type: 'bytes' }], [getAddress(params.contractSigner), signature])
  } else if (hexToBytes(signature).length !== 65) throw new UsageError('an ECDSA attestation signature must be 65 bytes')
  return encodeAbiParameters([{ type: 'bytes32' }, { type: 'bytes' }], [params.commitment, signature])
}

/**
 * Decodes a proof with the contract's canonical rules.
 * @param proof - the proof bytes.
 * @returns the commitment, the scheme and the signature, or undefined when the encoding is not
 *   canonical (the contract's `verify` returns false for it).
 * @example
 * import { decodeProof } from './mint/encodeProof.js'
 * decodeProof(proof) // { commitment: '0x…', scheme: 'ecdsa', signature: '0x…' }
 */
export function decodeProof(proof: Hex | Uint8Array): DecodedProof | undefined {
  const bytes = typeof proof === 'string' ? hexToBytes(proof) : proof
  const outer = decodeWordAndBytes(bytes)
  if (!outer) return undefined
  const commitment = toHex(outer.head)
  if (outer.tail.length === 65) return { commitment, scheme: 'ecdsa', signature: toHex(outer.tail) }
  const inner = decodeWordAndBytes(outer.tail)
  if (!inner || inner.head.slice(0, 12).some((b) => b !== 0)) return undefined
  return {
    commitment,
    scheme: 'erc1271',
    signature: toHex(inner.tail),
    contractSigner: getAddress(toHex(inner.head.slice(12))),
  }
}

function decodeWordAndBytes(data: Uint8Array): { head: Uint8Array; tail: Uint8Array } | undefined {
  if (data.length < 96) return undefined
  const word = (at: number) => BigInt(toHex(data.slice(at, at + 32)))
  const offset = word(32)
  const length = word(64)
  if (offset !== 64n || length > BigInt(data.length)) return undefined
  const n = Number(length)
  const padded = Math.ceil(n / 32) * 32
  if (data.length !== 96 + padded) return undefined
  return { head: data.slice(0, 32), tail: data.slice(96, 96 + n) }
}
