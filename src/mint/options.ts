/**
 * Flags shared by `imo mint` and `imo infer-and-mint`, defined once and attached to both (a test
 * checks they are the same Option objects).
 */
import { Option } from 'commander'

export const mintOptions = {
  out: new Option(
    '--out <DIR>',
    "output folder for metadata.json, the artifact and mint.json (mint: default the record's folder; infer-and-mint: default out/<first 12 hex of the commitment>, or DIR/<…> with --prompts)",
  ),
  aigcData: new Option(
    '--aigc-data <MODE>',
    "ERC-7007 aigcData: digest (32-byte SHA-256 of the artifact) or inline (the artifact bytes on-chain); mint: default the record's mode",
  ).choices(['digest', 'inline']),
  tokenUri: new Option('--token-uri <URI>', 'token URI to set instead of the computed one (single mint only)'),
  tokenUriMode: new Option(
    '--token-uri-mode <MODE>',
    'ipfs: ipfs://<CIDv1 of metadata.json> (pin the output folder with `ipfs add --cid-version=1`); data: the metadata inline as a data: URI',
  )
    .choices(['ipfs', 'data'])
    .default('ipfs'),
  to: new Option('--to <ADDRESS>', 'recipient of the token (default: the signer)'),
  attesterContract: new Option(
    '--attester-contract <ADDRESS>',
    "an ERC-1271 contract attester of the collection that accepts the signer's signatures (proof wraps the signature for it)",
  ),
} as const

/** Parsed values of mintOptions. */
export interface MintOptionValues {
  out?: string
  aigcData?: 'digest' | 'inline'
  tokenUri?: string
  tokenUriMode: 'ipfs' | 'data'
  to?: string
  attesterContract?: string
}
