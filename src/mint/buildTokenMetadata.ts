/**
 * A token's metadata (docs/formats.md section 6) and the URI the chain stores for it: ipfs://<CID of the
 * metadata> (computed locally, no upload), the metadata inline as a data: URI, or the --token-uri given.
 */
import type { Address } from 'viem'
import { UsageError } from '../errors.js'
import { buildMetadata, metadataDataUri, metadataJson } from './buildMetadata.js'
import { computeCid, IPFS_MAX_RAW_BLOCK } from './computeCid.js'
import { describeRecord } from './describeRecord.js'
import type { ProofScheme } from './encodeProof.js'
import type { MintItem, MintOptions } from './mintTypes.js'

export interface TokenMetadata {
  /** metadata.json's exact bytes (hashed into its CID, written to the item's folder). */
  metadataBytes: Uint8Array
  metadataCid: string | undefined
  /** undefined when the artifact is larger than one IPFS block. */
  artifactCid: string | undefined
  tokenUri: string
}

/**
 * @param item - the item to mint.
 * @param attester - who attests (zero for zk), recorded in the metadata.
 * @param proofScheme - the proof's scheme, recorded in the metadata.
 * @param options - --token-uri and --token-uri-mode.
 * @returns the metadata bytes, the CIDs and the token URI.
 * @throws UsageError (2) when the metadata is too large for one IPFS block and no other URI was asked for.
 * @example
 * const { tokenUri } = buildTokenMetadata(item, signer, 'ecdsa', {}) // 'ipfs://bafkrei…'
 */
export function buildTokenMetadata(
  item: MintItem,
  attester: Address,
  proofScheme: ProofScheme,
  options: Pick<MintOptions, 'tokenUri' | 'tokenUriMode'>,
): TokenMetadata {
  const artifactCid = computeCid(item.artifactBytes)
  const metadata = buildMetadata({
    record: item.record,
    promptBytes: item.promptBytes,
    ...(artifactCid ? { artifactCid } : {}),
    attester,
    proofScheme,
  })
  const metadataBytes = metadataJson(metadata)
  const metadataCid = computeCid(metadataBytes)
  let tokenUri: string
  if (options.tokenUri !== undefined) tokenUri = options.tokenUri
  else if ((options.tokenUriMode ?? 'ipfs') === 'data') tokenUri = metadataDataUri(metadataBytes)
  else if (metadataCid) tokenUri = `ipfs://${metadataCid}`
  else
    throw new UsageError(
      `the metadata of ${describeRecord(item.record)} is larger than one IPFS block (${IPFS_MAX_RAW_BLOCK} bytes): pin it yourself and pass --token-uri, or use --token-uri-mode data`,
    )
  return { metadataBytes, metadataCid, artifactCid, tokenUri }
}
