/**
 * The ERC-7007 proof of an imo collection (docs/formats.md section 5,
 * contracts/AigcCollection.sol): its first word is its kind's tag (src/mint/proofKinds.ts), then the
 * attested fields the call does not supply, then the signature:
 * `abi.encode(bytes32 tag, bytes32 commitment, address to, bytes signature)` for an AigcMint proof,
 * `abi.encode(bytes32 tag, uint256 requestId, bytes32 commitment, address to, bytes signature)` for an
 * AigcFulfilment proof, where `to` is the token's recipient and `signature` is either the attester EOA's
 * 65-byte ECDSA signature (r, s, v) or, for a contract attester (ERC-1271), `abi.encode(address signer,
 * bytes signerSignature)`. Decoding mirrors the contract's canonical checks (a known tag, offsets as
 * abi.encode writes them, address words with zero upper bytes, exact padded length, zero padding), so
 * what decodes here is what `verify` accepts.
 */
import { type Address, encodeAbiParameters, getAddress, type Hex, hexToBytes, isAddress, toHex } from 'viem'
import { UsageError } from '../errors.js'
import { PROOF_KIND_TAGS, type ProofBinding, proofKindOfTag } from './proofKinds.js'

/** How the proof was made: an attester's signature (EOA or ERC-1271 contract), or a PLONK zk proof. */
export type ProofScheme = 'ecdsa' | 'erc1271' | 'plonk'

export type EncodeProofParams = ProofBinding & {
  commitment: Hex
  /** The token's recipient the attestation was signed for. */
  to: Address
  /** The 65-byte EIP-712 signature (for ERC-1271, the signature the contract checks). */
  signature: Hex
  /** For an ERC-1271 attester: the contract's address; the signature is then wrapped for it. */
  contractSigner?: Address
}

export type DecodedProof = ProofBinding & {
  commitment: Hex
  /** The recipient the attestation binds the token to. */
  to: Address
  scheme: ProofScheme
  /** The signature checked: the 65 bytes for ECDSA, the inner signerSignature for ERC-1271. */
  signature: Hex
  /** The ERC-1271 contract signer (erc1271 only). */
  contractSigner?: Address
}

/**
 * Encodes a proof the collection's `verify` accepts.
 * @param params - its kind (and request), commitment, recipient, signature and, for a contract attester,
 *   its address.
 * @returns the proof bytes as 0x-hex.
 * @throws UsageError when an ECDSA signature is not 65 bytes, the commitment not a bytes32 or `to` not an address.
 * @example
 * import { encodeProof } from './mint/encodeProof.js'
 * encodeProof({ kind: 'mint', commitment: '0x…32 bytes', to: '0x…', signature: '0x…65 bytes' }) // '0x…' (256 bytes)
 */
export function encodeProof(params: EncodeProofParams): Hex {
  if (!/^0x[0-9a-fA-F]{64}$/.test(params.commitment)) throw new UsageError('the commitment must be a bytes32')
  if (!isAddress(params.to, { strict: false })) throw new UsageError('the proof recipient must be an address')
  let signature = params.signature
  if (params.contractSigner) {
    if (!isAddress(params.contractSigner, { strict: false })) throw new UsageError('the contract signer must be an address')
    signature = encodeAbiParameters([{ type: 'address' }, { type: 'bytes' }], [getAddress(params.contractSigner), signature])
  } else if (hexToBytes(signature).length !== 65) throw new UsageError('an ECDSA attestation signature must be 65 bytes')
  const to = getAddress(params.to)
  if (params.kind === 'fulfilment')
    return encodeAbiParameters(
      [{ type: 'bytes32' }, { type: 'uint256' }, { type: 'bytes32' }, { type: 'address' }, { type: 'bytes' }],
      [PROOF_KIND_TAGS.fulfilment, params.requestId, params.commitment, to, signature],
    )
  return encodeAbiParameters(
    [{ type: 'bytes32' }, { type: 'bytes32' }, { type: 'address' }, { type: 'bytes' }],
    [PROOF_KIND_TAGS.mint, params.commitment, to, signature],
  )
}

/**
 * Decodes a proof with the contract's canonical rules.
 * @param proof - the proof bytes.
 * @returns the kind (and request), commitment, recipient, scheme and signature, or undefined when the
 *   kind is unknown or the encoding not canonical (the contract's `verify` returns false for it).
 * @example
 * import { decodeProof } from './mint/encodeProof.js'
 * decodeProof(proof) // { kind: 'fulfilment', requestId: 3n, commitment: '0x…', to: '0x…', scheme: 'ecdsa', signature: '0x…' }
 */
export function decodeProof(proof: Hex | Uint8Array): DecodedProof | undefined {
  const bytes = typeof proof === 'string' ? hexToBytes(proof) : proof
  if (bytes.length < 32) return undefined
  const kind = proofKindOfTag(toHex(bytes.slice(0, 32)))
  if (!kind) return undefined
  // The static words after the tag: (commitment, to), or (requestId, commitment, to).
  const heads = kind === 'fulfilment' ? 4 : 3
  const outer = decodeWordsAndBytes(bytes, heads)
  if (!outer || !isAddressWord(outer.lastHead)) return undefined
  const binding: ProofBinding = kind === 'fulfilment' ? { kind, requestId: BigInt(toHex(bytes.slice(32, 64))) } : { kind }
  const commitment = toHex(bytes.slice(32 * (heads - 2), 32 * (heads - 1)))
  const to = getAddress(toHex(outer.lastHead.slice(12)))
  if (outer.tail.length === 65) return { ...binding, commitment, to, scheme: 'ecdsa', signature: toHex(outer.tail) }
  const inner = decodeWordsAndBytes(outer.tail, 1)
  if (!inner || !isAddressWord(inner.lastHead)) return undefined
  return {
    ...binding,
    commitment,
    to,
    scheme: 'erc1271',
    signature: toHex(inner.tail),
    contractSigner: getAddress(toHex(inner.lastHead.slice(12))),
  }
}

const isAddressWord = (word: Uint8Array) => word.slice(0, 12).every((b) => b === 0)

/**
 * The contract's `_decodeWordsAndBytes`: `heads` static words, then one `bytes`, canonically encoded
 * (offset word exactly 32 * (heads + 1), exact padded length, zero padding).
 */
function decodeWordsAndBytes(data: Uint8Array, heads: number): { lastHead: Uint8Array; tail: Uint8Array } | undefined {
  const start = 32 * (heads + 1)
  if (data.length < start + 32) return undefined
  const word = (at: number) => BigInt(toHex(data.slice(at, at + 32)))
  const offset = word(32 * heads)
  const length = word(start)
  if (offset !== BigInt(start) || length > BigInt(data.length)) return undefined
  const n = Number(length)
  const body = start + 32
  if (data.length !== body + Math.ceil(n / 32) * 32) return undefined
  if (data.slice(body + n).some((b) => b !== 0)) return undefined
  return { lastHead: data.slice(32 * (heads - 1), 32 * heads), tail: data.slice(body, body + n) }
}

/**
 * The proof of a zk collection (docs/formats.md section 11): `abi.encode(address to, uint256[24] p)`,
 * 800 bytes, with `p` the PLONK proof in snarkjs's Solidity call data order.
 * @example
 * import { encodeZkProof } from './mint/encodeProof.js'
 * encodeZkProof('0x7099…79C8', proofWords(file.proof)) // '0x…' (800 bytes)
 */
export function encodeZkProof(to: Address, words: readonly bigint[]): Hex {
  if (words.length !== 24) throw new UsageError(`a PLONK proof is 24 words, not ${words.length}`)
  return encodeAbiParameters([{ type: 'address' }, { type: 'uint256[24]' }], [getAddress(to), words as never])
}

/**
 * Decodes a zk collection's proof.
 * @returns the recipient and the 24 words, or undefined when it is not exactly 800 canonical bytes.
 * @example
 * decodeZkProof(proof)?.to // '0x7099…79C8'
 */
export function decodeZkProof(proof: Hex | Uint8Array): { to: Address; words: bigint[] } | undefined {
  const bytes = typeof proof === 'string' ? hexToBytes(proof) : proof
  if (bytes.length !== 800 || !isAddressWord(bytes.slice(0, 32))) return undefined
  const words = Array.from({ length: 24 }, (_, i) => BigInt(toHex(bytes.slice(32 * (i + 1), 32 * (i + 2)))))
  return { to: getAddress(toHex(bytes.slice(12, 32))), words }
}
