/**
 * The kinds of attestation an imo collection accepts (docs/formats.md section 5,
 * contracts/AigcCollection.sol): each is its own EIP-712 struct whose type name says what its proof may
 * be used for, and the proof bytes start with that struct's type hash (the kind tag), so a proof of one
 * kind is never read, nor its signature accepted, as another.
 *
 * - `mint`: `AigcMint(bytes32 modelHash,bytes32 promptHash,bytes32 aigcDataHash,bytes32 commitment,address to)`,
 *   valid in `mint` and `addAigcData` only;
 * - `fulfilment`: `AigcFulfilment(uint256 requestId,bytes32 modelHash,...,address to)`, valid only in
 *   `fulfill` of that request (so a paid request's proof cannot mint its prompt directly, skipping the fee).
 *
 * A new kind (say an HTTP API response bound to a payer) is a new entry here with its own type name: its
 * tag differs from every other, and the collection refuses tags it does not know.
 */
import { type Hex, keccak256, toHex } from 'viem'

/** EIP-712 domain `version` of collections that take these kinds ("2" had one kind, `AigcAttestation`). */
export const ATTESTATION_DOMAIN_VERSION = '3'

/** The fields shared by the token kinds, after the kind's own leading fields. */
const TOKEN_FIELDS = [
  { name: 'modelHash', type: 'bytes32' },
  { name: 'promptHash', type: 'bytes32' },
  { name: 'aigcDataHash', type: 'bytes32' },
  { name: 'commitment', type: 'bytes32' },
  { name: 'to', type: 'address' },
] as const

/** Each kind's EIP-712 primary type and fields. */
export const PROOF_KINDS = {
  mint: { primaryType: 'AigcMint', fields: TOKEN_FIELDS },
  fulfilment: { primaryType: 'AigcFulfilment', fields: [{ name: 'requestId', type: 'uint256' }, ...TOKEN_FIELDS] },
} as const

/**
 * The attestation of a paid HTTP API response (`imo serve --http`, docs/formats.md section 12):
 * `AigcApiResponse(bytes32 modelHash,bytes32 promptHash,bytes32 aigcDataHash,bytes32 commitment,address payer)`
 * in the same domain as the proofs. It is deliberately NOT in PROOF_KINDS: its tag is known to no
 * collection, so a response's signature is never a mint or fulfilment proof (the contracts refuse
 * unknown tags), and proofKindOfTag never names it.
 */
export const API_RESPONSE_KIND = {
  primaryType: 'AigcApiResponse',
  fields: [...TOKEN_FIELDS.slice(0, 4), { name: 'payer', type: 'address' }],
} as const

/** What a proof may be used for. */
export type ProofKind = keyof typeof PROOF_KINDS

/** A proof's kind with what binds it: a fulfilment names its request. */
export type ProofBinding = { kind: 'mint' } | { kind: 'fulfilment'; requestId: bigint }

/**
 * The EIP-712 type string of a kind (its `encodeType`: no nested structs).
 * @example
 * proofTypeString('mint') // 'AigcMint(bytes32 modelHash,bytes32 promptHash,bytes32 aigcDataHash,bytes32 commitment,address to)'
 */
export function proofTypeString(kind: ProofKind): string {
  const { primaryType, fields } = PROOF_KINDS[kind]
  return `${primaryType}(${fields.map((field) => `${field.type} ${field.name}`).join(',')})`
}

/** The kind tags: each kind's EIP-712 type hash, the first word of its proofs. */
export const PROOF_KIND_TAGS: Record<ProofKind, Hex> = {
  mint: keccak256(toHex(proofTypeString('mint'))),
  fulfilment: keccak256(toHex(proofTypeString('fulfilment'))),
}

/**
 * The kind whose tag is `tag`, or undefined for a tag no collection of this version knows.
 * @example
 * proofKindOfTag(PROOF_KIND_TAGS.fulfilment) // 'fulfilment'
 */
export function proofKindOfTag(tag: Hex): ProofKind | undefined {
  const lower = tag.toLowerCase()
  return (Object.keys(PROOF_KIND_TAGS) as ProofKind[]).find((kind) => PROOF_KIND_TAGS[kind] === lower)
}

/**
 * One line naming a binding, for messages.
 * @example
 * describeProofBinding({ kind: 'fulfilment', requestId: 3n }) // 'AigcFulfilment of request 3'
 */
export function describeProofBinding(binding: ProofBinding): string {
  return binding.kind === 'fulfilment' ? `AigcFulfilment of request ${binding.requestId}` : 'AigcMint'
}
