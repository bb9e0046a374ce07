/**
 * The EIP-712 attestations of docs/formats.md section 5 / contracts/AigcCollection.sol, one struct per proof kind
 * (src/mint/proofKinds.ts): `AigcMint(...)` for a direct mint, `AigcFulfilment(uint256 requestId, ...)`
 * for the fulfilment of a paid request, in the domain `{ name: "imo", version: "3", chainId,
 * verifyingContract: collection }`, where `to` is the token's recipient (a proof copied from the mempool
 * cannot mint to anyone else) and the kind says where the proof is valid (a fulfilment proof never mints
 * directly).
 */
import { type Address, type Hex, hashTypedData, type LocalAccount, recoverTypedDataAddress, type TypedDataDefinition } from 'viem'
import { ATTESTATION_DOMAIN_VERSION, PROOF_KINDS, type ProofBinding } from './proofKinds.js'

/** The attested values. promptHash/aigcDataHash are keccak256 of the bytes sent on-chain. */
export type Attestation = ProofBinding & {
  chainId: number
  collection: Address
  modelHash: Hex
  promptHash: Hex
  aigcDataHash: Hex
  commitment: Hex
  /** The token's recipient: the `to` of `mint`, the recipient of a paid request. */
  to: Address
}

/**
 * The typed-data object of an attestation (what signers and `hashTypedData` take).
 * @example
 * attestationTypedData({ kind: 'fulfilment', requestId: 3n, chainId: 31337, collection, modelHash, promptHash, aigcDataHash, commitment, to }).primaryType // 'AigcFulfilment'
 */
export function attestationTypedData(a: Attestation): TypedDataDefinition {
  const { primaryType, fields } = PROOF_KINDS[a.kind]
  return {
    domain: attestationDomain(a.chainId, a.collection),
    // One struct per kind; viem's TypedData type cannot follow a computed key.
    types: { [primaryType]: fields } as unknown as TypedDataDefinition['types'],
    primaryType,
    message: {
      ...(a.kind === 'fulfilment' ? { requestId: a.requestId } : {}),
      modelHash: a.modelHash,
      promptHash: a.promptHash,
      aigcDataHash: a.aigcDataHash,
      commitment: a.commitment,
      to: a.to,
    },
  }
}

/**
 * Signs an attestation with the operator's attester key (any viem LocalAccount: key, keystore, mnemonic).
 * @param account - the signer (`ctx.account`).
 * @param attestation - its kind (and request), chain, collection, the four hashes and the recipient.
 * @returns the 65-byte signature (r, s, v with v 27/28, low s), as 0x-hex.
 * @example
 * import { signAttestation } from './mint/signAttestation.js'
 * const signature = await signAttestation(ctx.account, { kind: 'mint', chainId: 31337, collection, modelHash, promptHash, aigcDataHash, commitment, to })
 */
export async function signAttestation(account: LocalAccount, attestation: Attestation): Promise<Hex> {
  return account.signTypedData(attestationTypedData(attestation))
}

/**
 * The EIP-712 digest an attester signs (equals the collection's `mintDigest` or `fulfilmentDigest`).
 * @example
 * attestationDigest(attestation) // '0x…'
 */
export function attestationDigest(attestation: Attestation): Hex {
  return hashTypedData(attestationTypedData(attestation))
}

/**
 * Recovers the EOA that signed an attestation, or undefined when the signature is malformed.
 * @example
 * await recoverAttester(attestation, signature) // '0xf39F…2266'
 */
export async function recoverAttester(attestation: Attestation, signature: Hex): Promise<Address | undefined> {
  return recoverTypedSigner(attestationTypedData(attestation), signature)
}

/**
 * The EIP-712 domain of a collection's attestations (every kind, and the API answers of src/api/).
 * @example
 * attestationDomain(31337, collection) // { name: 'imo', version: '3', chainId: 31337, verifyingContract: collection }
 */
export function attestationDomain(chainId: number, collection: Address): TypedDataDefinition['domain'] {
  return { name: 'imo', version: ATTESTATION_DOMAIN_VERSION, chainId, verifyingContract: collection }
}

/**
 * The EOA that signed typed data, or undefined when the signature is malformed.
 * @example
 * await recoverTypedSigner(attestationTypedData(attestation), signature) // '0xf39F…2266'
 */
export async function recoverTypedSigner(typedData: TypedDataDefinition, signature: Hex): Promise<Address | undefined> {
  try {
    return await recoverTypedDataAddress({ ...typedData, signature } as Parameters<typeof recoverTypedDataAddress>[0])
  } catch {
    return undefined
  }
}
