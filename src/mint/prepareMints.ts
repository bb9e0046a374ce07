/**
 * mintRecords' third stage: everything each token needs, built before anything is sent. Per item: its
 * metadata and token URI, its recipient, its proof (an EIP-712 attestation signed now: AigcMint for a
 * direct mint, AigcFulfilment of the request for serve's fulfilments; or a zk item's PLONK proof), the
 * calldata (`mint`, or `fulfill` without a fee), mint.json, and the transaction step. The item's folder is
 * written here (its inference files, metadata.json, the artifact, mint.json `pending`), unless it is a dry
 * run. The calldata is deterministic (no timestamps, RFC 6979 signatures), so an interrupted run rebuilds
 * the very transaction its journal holds.
 */
import { type Address, encodeFunctionData, getAddress, type Hex, keccak256, type LocalAccount, toHex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import type { TxStep } from '../chain/sendStep.js'
import { proofWords } from '../zk/proveZk.js'
import { buildTokenMetadata } from './buildTokenMetadata.js'
import { IPFS_MAX_RAW_BLOCK } from './computeCid.js'
import { describeRecord } from './describeRecord.js'
import { encodeProof, encodeZkProof } from './encodeProof.js'
import { METADATA_FILE, MINT_FORMAT, type MintFile } from './mintFile.js'
import type { MintItem, MintOptions, MintPhases } from './mintTypes.js'
import type { ProofBinding } from './proofKinds.js'
import type { MintTerms } from './readMintTerms.js'
import { readTokenState, type TokenState } from './readTokenState.js'
import { signAttestation } from './signAttestation.js'
import { writeMintFolder } from './writeMintFolder.js'
import { zkRecipient } from './zkRecipient.js'

/** One item, ready to send. */
export interface PreparedMint {
  item: MintItem
  tokenId: bigint
  tokenIdHex: Hex
  tokenUri: string
  metadataCid: string | undefined
  artifactCid: string | undefined
  proof: Hex
  /** mint.json as written before sending. */
  mintFile: MintFile
  step: TxStep
  /** Who receives the token. */
  itemTo: Address
  /** Wei sent with it (0 for a fulfilment). */
  itemFeeWei: bigint
}

/** What the earlier stages established, for {@link prepareMints}. */
export interface PrepareContext {
  ctx: ChainContext
  account: LocalAccount
  terms: MintTerms
  tokenIds: bigint[]
  existing: Array<TokenState | undefined>
  options: MintOptions
  /** Notes for the user (an artifact too large for a local CID). */
  notes: string[]
  /** Books the time since the last lap to a phase. */
  lap(phase: keyof MintPhases): void
}

/**
 * @param items - the records to mint, checked by the earlier stages.
 * @param p - the earlier stages' results and where to book notes and time.
 * @returns one prepared mint per item, in order.
 * @throws UsageError (2) for metadata too large for one IPFS block without another URI.
 * @example
 * const prepared = await prepareMints(items, { ctx, account, terms, tokenIds, existing, options, notes, lap })
 * prepared[0].step.id // 'mint:<collection>:<token id>'
 */
export async function prepareMints(items: MintItem[], p: PrepareContext): Promise<PreparedMint[]> {
  const { aigcCollectionAbi, zkAigcCollectionAbi } = await import('../../contracts-abi/index.js')
  const { ctx, terms } = p
  const { collection } = terms
  const prepared: PreparedMint[] = []
  for (const [index, item] of items.entries()) {
    const tokenId = p.tokenIds[index]!
    const tokenIdHex = toHex(tokenId, { size: 32 })
    const { metadataBytes, metadataCid, artifactCid, tokenUri } = buildTokenMetadata(
      item,
      terms.attester,
      terms.proofScheme,
      p.options,
    )
    if (!artifactCid && index === 0)
      p.notes.push(
        `the artifact (${item.artifactBytes.byteLength} bytes) is larger than one IPFS block (${IPFS_MAX_RAW_BLOCK} bytes): its CID is not computed locally, so the metadata has no ipfs:// link to it; pin it yourself and pass --token-uri`,
      )
    const itemTo = item.request ? getAddress(item.request.recipient) : (zkRecipient(terms.zk, item, terms.askedTo) ?? terms.to)
    const proof = await mintProof(p, item, itemTo)
    const data = item.request
      ? encodeFunctionData({
          abi: aigcCollectionAbi,
          functionName: 'fulfill',
          args: [item.request.id, toHex(item.aigcData), proof, tokenUri],
        })
      : encodeFunctionData({
          abi: aigcCollectionAbi,
          functionName: 'mint',
          args: [itemTo, toHex(item.promptBytes), toHex(item.aigcData), tokenUri, proof],
        })
    const itemFeeWei = item.request ? 0n : terms.mintFeeWei
    const mintFile: MintFile = {
      format: MINT_FORMAT,
      chainId: ctx.chainId,
      collection,
      tokenId: tokenId.toString(),
      tokenIdHex,
      to: itemTo,
      modelHash: terms.modelHash,
      commitment: item.record.commitment,
      promptHash: keccak256(item.promptBytes),
      aigcDataHash: keccak256(item.aigcData),
      aigcDataMode: item.record.aigcDataMode,
      proof,
      proofScheme: terms.proofScheme,
      signer: p.account.address,
      attester: terms.attester,
      tokenUri,
      metadata: { file: METADATA_FILE, ...(metadataCid ? { cid: metadataCid } : {}) },
      artifact: { file: item.record.artifact.file, ...(artifactCid ? { cid: artifactCid } : {}) },
      mintFeeWei: itemFeeWei.toString(),
      status: p.existing[index] ? 'existing' : 'pending',
    }
    p.lap('prepareMs')
    if (item.outDir !== undefined && !ctx.tx.dryRun) {
      item.writeInference?.()
      writeMintFolder(item, metadataBytes, mintFile)
    }
    p.lap('writeMs')
    const step: TxStep = {
      id: item.request ? item.request.stepId : `mint:${collection.toLowerCase()}:${tokenIdHex}`,
      label: item.request
        ? `fulfil request #${item.request.id} ${describeRecord(item.record)}`
        : `mint ${describeRecord(item.record)}`,
      to: collection,
      data,
      value: itemFeeWei,
      abi: (terms.zk ? zkAigcCollectionAbi : aigcCollectionAbi) as never,
      // Replaced by another transaction: done if the token exists anyway.
      effect: async () => (await readTokenState(ctx, collection, aigcCollectionAbi, tokenId)) !== undefined,
    }
    prepared.push({ item, tokenId, tokenIdHex, tokenUri, metadataCid, artifactCid, proof, mintFile, step, itemTo, itemFeeWei })
  }
  return prepared
}

/**
 * The proof the collection checks: a zk item's PLONK proof bound to its recipient, or an attestation
 * signed now. A request's attestation is an AigcFulfilment of that request: valid in its fulfill only,
 * never in a direct mint (where it would skip the request's fee).
 */
async function mintProof(p: PrepareContext, item: MintItem, itemTo: Address): Promise<Hex> {
  const { terms } = p
  if (terms.zk) return encodeZkProof(itemTo, proofWords(item.zkProof!.proof))
  const binding: ProofBinding = item.request ? { kind: 'fulfilment', requestId: item.request.id } : { kind: 'mint' }
  return encodeProof({
    ...binding,
    commitment: item.record.commitment,
    to: itemTo,
    signature: await signAttestation(p.account, {
      ...binding,
      chainId: p.ctx.chainId,
      collection: terms.collection,
      modelHash: terms.modelHash,
      promptHash: keccak256(item.promptBytes),
      aigcDataHash: keccak256(item.aigcData),
      commitment: item.record.commitment,
      to: itemTo,
    }),
    ...(p.options.attesterContract ? { contractSigner: terms.attester } : {}),
  })
}
