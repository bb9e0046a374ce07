/**
 * The attestation every paid API response carries (docs/formats.md section 12): the attester's EIP-712
 * signature over `AigcApiResponse(modelHash, promptHash, aigcDataHash, commitment, payer)` in the
 * collection's domain, so a saved response names the model, the prompt, the output's digest, the
 * inference's commitment and who paid, and `imo verify RESPONSE.json` can re-check each.
 */
import type { Address, Hex, LocalAccount, TypedDataDefinition } from 'viem'
import { API_RESPONSE_KIND } from '../mint/proofKinds.js'
import { attestationDomain, recoverTypedSigner } from '../mint/signAttestation.js'

/** The signed values of one response. */
export interface ApiResponseAttestation {
  chainId: number
  collection: Address
  modelHash: Hex
  promptHash: Hex
  /** keccak256 of the ERC-7007 aigcData bytes: the 32-byte sha256 of the output (digest mode). */
  aigcDataHash: Hex
  commitment: Hex
  /** Who paid for the call (the x402 settlement's payer). */
  payer: Address
}

/**
 * The typed data of a response attestation.
 * @example
 * apiResponseTypedData({ chainId: 31337, collection, modelHash, promptHash, aigcDataHash, commitment, payer }).primaryType // 'AigcApiResponse'
 */
export function apiResponseTypedData(a: ApiResponseAttestation): TypedDataDefinition {
  return {
    domain: attestationDomain(a.chainId, a.collection),
    types: { [API_RESPONSE_KIND.primaryType]: API_RESPONSE_KIND.fields } as unknown as TypedDataDefinition['types'],
    primaryType: API_RESPONSE_KIND.primaryType,
    message: {
      modelHash: a.modelHash,
      promptHash: a.promptHash,
      aigcDataHash: a.aigcDataHash,
      commitment: a.commitment,
      payer: a.payer,
    },
  }
}

/**
 * Signs a response attestation with the attester's key.
 * @example
 * const signature = await signApiResponse(ctx.account, attestation)
 */
export async function signApiResponse(account: LocalAccount, attestation: ApiResponseAttestation): Promise<Hex> {
  return account.signTypedData(apiResponseTypedData(attestation))
}

/**
 * The EOA that signed a response attestation, or undefined for a malformed signature.
 * @example
 * await recoverApiResponseSigner(attestation, signature) // '0xf39F…2266'
 */
export async function recoverApiResponseSigner(
  attestation: ApiResponseAttestation,
  signature: Hex,
): Promise<Address | undefined> {
  return recoverTypedSigner(apiResponseTypedData(attestation), signature)
}
