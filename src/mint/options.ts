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

/** How a mint sets the token URI, the recipient and the attester form, from the shared flags. */
export interface MintSettings {
  tokenUriMode: 'ipfs' | 'data'
  tokenUri?: string
  to?: `0x${string}`
  attesterContract?: `0x${string}`
}

/**
 * Turns the shared mint flags into mint settings, refusing a malformed address (or a mixed-case one
 * that fails its EIP-55 checksum) up front, before any inference or RPC.
 * @throws UsageError (exit 2) naming the flag.
 * @example
 * await mintSettingsFrom({ tokenUriMode: 'ipfs', to: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' })
 */
export async function mintSettingsFrom(options: MintOptionValues): Promise<MintSettings> {
  const { parseAddress } = await import('../util/parseAddress.js')
  const address = (value: string | undefined, flag: string) =>
    value === undefined || value === '' ? undefined : parseAddress(value, flag)
  const to = await address(options.to, '--to')
  const attesterContract = await address(options.attesterContract, '--attester-contract')
  return {
    tokenUriMode: options.tokenUriMode,
    ...(options.tokenUri !== undefined ? { tokenUri: options.tokenUri } : {}),
    ...(to ? { to } : {}),
    ...(attesterContract ? { attesterContract } : {}),
  }
}
