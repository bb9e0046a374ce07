/**
 * The EIP-712 attestation of DESIGN section 4 / contracts/AigcCollection.sol:
 * `AigcAttestation(bytes32 modelHash,bytes32 promptHash,bytes32 aigcDataHash,bytes32 commitment,address to)`
 * in the domain `{ name: "imo", version: "2", chainId, verifyingContract: collection }`, where `to` is the
 * token's recipient (a proof copied from the mempool cannot mint to anyone else).
 */
import { type Address, type Hex, hashTypedData, type LocalAccount, recoverTypedDataAddress } from 'viem'

/** The attested values. promptHash/aigcDataHash are keccak256 of the bytes sent on-chain. */
export interface Attestation {
  chainId: number
  collection: Address
  modelHash: Hex
  promptHash: Hex
  aigcDataHash: Hex
  commitment: Hex
  /** The token's recipient: the `to` of `mint`, the recipient of a paid request. */
  to: Address
}

/** EIP-712 types of the attestation. */
export const ATTESTATION_TYPES = {
  AigcAttestation: [
    { name: 'modelHash', type: 'bytes32' },
    { name: 'promptHash', type: 'bytes32' },
    { name: 'aigcDataHash', type: 'bytes32' },
    { name: 'commitment', type: 'bytes32' },
    { name: 'to', type: 'address' },
  ],
} as const

/**
 * The typed-data object of an attestation (what signers and `hashTypedData` take).
 * @example
 * attestationTypedData({ chainId: 31337, collection, modelHash, promptHash, aigcDataHash, commitment, to }).domain.version // '2'
 */
export function attestationTypedData(a: Attestation) {
  return {
    domain: { name: 'imo', version: '2', chainId: a.chainId, verifyingContract: a.collection },
    types: ATTESTATION_TYPES,
    primaryType: 'AigcAttestation' as const,
    message: {
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
 * @param attestation - chain, collection, the four hashes and the recipient.
 * @returns the 65-byte signature (r, s, v with v 27/28, low s), as 0x-hex.
 * @example
 * import { signAttestation } from './mint/signAttestation.js'
 * const signature = await signAttestation(ctx.account, { chainId: 31337, collection, modelHash, promptHash, aigcDataHash, commitment, to })
 */
export async function signAttestation(account: LocalAccount, attestation: Attestation): Promise<Hex> {
  return account.signTypedData(attestationTypedData(attestation))
}

/**
 * The EIP-712 digest an attester signs (equals the collection's `attestationDigest`).
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
  try {
    return await recoverTypedDataAddress({ ...attestationTypedData(attestation), signature })
  } catch {
    return undefined
  }
}
