import type { Address, Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import { type DecodedProof, decodeProof } from '../mint/encodeProof.js'
import { MINT_FILE } from '../mint/mintFile.js'
import { describeProofBinding } from '../mint/proofKinds.js'
import { attestationDigest, recoverAttester } from '../mint/signAttestation.js'
import { type CheckList, errorLine } from './checks.js'

export interface CheckAttestationParams {
  chainId: number
  collection: Address
  /** The model hash the collection is bound to (the attestation covers it). */
  modelHash: Hex
  promptBytes: Uint8Array
  /** keccak256 of the aigcData: what the attestation signs and the AigcData event's third topic holds. */
  aigcDataHash: Hex
  /**
   * The aigcData bytes, when known here: the collection's `verify(prompt, aigcData, proof)` is then
   * called too. Without them (a token's log holds only their hash) the caller runs
   * {@link checkOnChainVerify} once it has re-computed them.
   */
  aigcData?: Uint8Array
  proof: Hex
  /**
   * A chain to ask isAttester / verify / ERC-1271 on; without it those checks cannot run (skip), so
   * the result is at best "unverified".
   */
  ctx?: ChainContext
  /** What mint.json claims: the recovered signer and the attester must be these, the scheme this one. */
  expected?: { signer: Address; attester: Address; proofScheme: string }
}

const erc1271Abi = [
  {
    type: 'function',
    name: 'isValidSignature',
    stateMutability: 'view',
    inputs: [
      { name: 'hash', type: 'bytes32' },
      { name: 'signature', type: 'bytes' },
    ],
    outputs: [{ name: '', type: 'bytes4' }],
  },
] as const

/**
 * Checks an ERC-7007 proof of an imo collection: its kind and encoding, the EIP-712 signer (recovered,
 * or the ERC-1271 contract's answer) over the struct of that kind (an AigcFulfilment names its request)
 * with the hashes and the recipient the proof names, whether that signer
 * is an attester of the collection, and (with the aigcData bytes) the collection's own
 * `verify(prompt, aigcData, proof)`. Adds one check per step to `list`.
 * @param list - where the checks go.
 * @param params - the chain, collection, model hash, the bytes sent and the proof.
 * @returns the decoded proof (undefined when malformed) and the attester it names.
 * @example
 * import { CheckList } from './verify/checks.js'
 * import { checkAttestation } from './verify/checkAttestation.js'
 * const list = new CheckList()
 * await checkAttestation(list, { chainId: 31337, collection, modelHash, promptBytes, aigcDataHash, aigcData, proof, ctx })
 * list.ok // true
 */
export async function checkAttestation(
  list: CheckList,
  params: CheckAttestationParams,
): Promise<{ decoded?: DecodedProof; attester?: Address }> {
  const { keccak256 } = await import('viem')
  const decoded = decodeProof(params.proof)
  if (
    !list.add(
      'proof format',
      Boolean(decoded),
      decoded
        ? `${describeProofBinding(decoded)}: abi.encode(kind, ${decoded.kind === 'fulfilment' ? 'requestId, ' : ''}commitment, to ${decoded.to}, ${decoded.scheme === 'ecdsa' ? '65-byte ECDSA signature' : 'ERC-1271 (signer, signature)'})`
        : '',
      'not a canonical AigcMint or AigcFulfilment proof (abi.encode(kind, [requestId,] commitment, to, signature), docs/formats.md section 5)',
    )
  )
    return {}
  const attestation = {
    ...(decoded!.kind === 'fulfilment'
      ? { kind: 'fulfilment' as const, requestId: decoded!.requestId }
      : { kind: 'mint' as const }),
    chainId: params.chainId,
    collection: params.collection,
    modelHash: params.modelHash,
    promptHash: keccak256(params.promptBytes),
    aigcDataHash: params.aigcDataHash,
    commitment: decoded!.commitment,
    to: decoded!.to,
  }
  let attester: Address | undefined
  const expected = params.expected
  if (expected)
    list.add(
      'proof scheme',
      expected.proofScheme === decoded!.scheme,
      `${decoded!.scheme}, as ${MINT_FILE} says`,
      `the proof is ${decoded!.scheme}, ${MINT_FILE} says ${expected.proofScheme}`,
    )
  // The EOA whose key made the signature (for ERC-1271, the key the contract is asked about).
  const signer = await recoverAttester(attestation, decoded!.signature)
  if (expected)
    list.add(
      'signer',
      sameAddress(signer, expected.signer) && sameAddress(decoded!.contractSigner ?? signer, expected.attester),
      `the signature recovers to ${MINT_FILE}'s signer ${expected.signer}${decoded!.contractSigner ? `, for the ERC-1271 attester ${expected.attester}` : ', its attester'}`,
      `the signature recovers to ${signer ?? 'no address'}${decoded!.contractSigner ? ` for ${decoded!.contractSigner}` : ''}, but ${MINT_FILE} names signer ${expected.signer} and attester ${expected.attester} (forged, or signed for another chain or collection)`,
    )
  if (decoded!.scheme === 'ecdsa') {
    attester = signer
    list.add(
      'attestation signature',
      Boolean(attester),
      `EIP-712 signed by ${attester} (chain ${params.chainId}, collection ${params.collection})`,
      'the signature does not recover',
    )
  } else {
    attester = decoded!.contractSigner
    if (!params.ctx) list.add('attestation signature', null, `ERC-1271 signer ${attester}: needs an RPC to ask the contract`)
    else {
      let magic: string | undefined
      try {
        magic = (await params.ctx.publicClient.readContract({
          address: attester!,
          abi: erc1271Abi,
          functionName: 'isValidSignature',
          args: [attestationDigest(attestation), decoded!.signature],
        })) as string
      } catch (error) {
        magic = `error: ${errorLine(error)}`
      }
      list.add(
        'attestation signature',
        magic === '0x1626ba7e',
        `ERC-1271 contract ${attester} accepts the EIP-712 signature`,
        `ERC-1271 contract ${attester} rejects the signature (${magic})`,
      )
    }
  }
  if (!params.ctx) {
    list.add(
      'attester',
      null,
      `whether ${attester ?? 'the signer'} is an attester of ${params.collection} needs an RPC URL (--rpc-url) of chain ${params.chainId}`,
    )
    if (params.aigcData)
      list.add('on-chain verify', null, `the collection's verify() needs an RPC URL (--rpc-url) of chain ${params.chainId}`)
    return { decoded: decoded!, ...(attester ? { attester } : {}) }
  }
  if (attester) {
    const is = await readCollection<boolean>(params, 'isAttester', [attester])
    if ('failed' in is) {
      // An EOA or another contract named as the collection: the record's claim fails, one line (not an RPC error).
      list.add('attester', false, '', `${params.collection} ${is.notCollection}, so ${attester} is no attester of it`)
      if (params.aigcData) list.add('on-chain verify', false, '', `${params.collection} ${is.notCollection}`)
      return { decoded: decoded!, attester }
    }
    list.add(
      'attester',
      is.value,
      `${attester} is an attester of ${params.collection}`,
      `${attester} is NOT an attester of ${params.collection}`,
    )
  } else list.add('attester', false, '', 'no signer recovered')
  if (params.aigcData) await checkOnChainVerify(list, { ...params, aigcData: params.aigcData, ctx: params.ctx })
  return { decoded: decoded!, ...(attester ? { attester } : {}) }
}

/**
 * Adds the 'on-chain verify' check: the collection's own `verify(prompt, aigcData, proof)`.
 * @example
 * await checkOnChainVerify(list, { collection, promptBytes, aigcData, proof, ctx })
 */
export async function checkOnChainVerify(
  list: CheckList,
  params: Pick<CheckAttestationParams, 'collection' | 'promptBytes' | 'proof'> & { aigcData: Uint8Array; ctx: ChainContext },
): Promise<void> {
  const { toHex } = await import('viem')
  const verified = await readCollection<boolean>(params, 'verify', [
    toHex(params.promptBytes),
    toHex(params.aigcData),
    params.proof,
  ])
  if ('failed' in verified) {
    list.add('on-chain verify', false, '', `${params.collection} ${verified.notCollection}`)
    return
  }
  list.add(
    'on-chain verify',
    verified.value,
    `${params.collection}.verify(prompt, aigcData, proof) = true`,
    `${params.collection}.verify(prompt, aigcData, proof) = false`,
  )
}

/** A view of the collection, as read: its value, or how the address failed to answer as a contract would. */
export type CollectionRead<T> = { value: T } | { failed: 'no-data' | 'reverted'; notCollection: string }

/**
 * Calls a view of the collection a record or a token names. An address that answers with no data
 * (no code: an EOA) or reverts (another contract, e.g. the IMO token) is returned as `failed`, with
 * the words for a check that fails on it: that is the record's wrong claim, not a fault of the node.
 * A node that cannot be reached stays an RpcError (exit 6).
 * @example
 * const read = await readCollection<boolean>({ collection, ctx }, 'isAttester', [attester])
 * if ('failed' in read) list.add('attester', false, '', `${collection} ${read.notCollection}`)
 */
export async function readCollection<T>(
  params: { collection: Address; ctx?: ChainContext },
  functionName: 'isAttester' | 'verify' | 'aigcDataHash' | 'tokenURI',
  args: readonly unknown[],
): Promise<CollectionRead<T>> {
  const { aigcCollectionAbi } = await import('../../contracts-abi/index.js')
  try {
    const value = (await params.ctx!.publicClient.readContract({
      address: params.collection,
      abi: aigcCollectionAbi,
      functionName,
      args: args as never,
    })) as T
    return { value }
  } catch (error) {
    const { BaseError, ContractFunctionRevertedError, ContractFunctionZeroDataError } = await import('viem')
    if (error instanceof BaseError) {
      if (error.walk((e) => e instanceof ContractFunctionZeroDataError))
        return {
          failed: 'no-data',
          notCollection: `is not an imo collection (its ${functionName}() returned no data: no contract code there)`,
        }
      if (error.walk((e) => e instanceof ContractFunctionRevertedError))
        return { failed: 'reverted', notCollection: `is not an imo collection (its ${functionName}() reverted)` }
    }
    const { toImoError } = await import('../chain/toImoError.js')
    throw toImoError(error, { rpcUrl: params.ctx!.rpcUrl, action: `calling ${functionName} on ${params.collection}` })
  }
}

function sameAddress(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase()
}
