/**
 * `mint.json`, written beside a minted inference's metadata: where and how it was minted, with the
 * exact proof sent, so `imo verify RECORD` can check the attestation without reading logs. Format
 * `imo-mint-record-v1`; every field but `status`, `txHash` and `blockNumber` is fixed before sending.
 */
import { readFileSync } from 'node:fs'
import type { Address, Hex } from 'viem'
import { UsageError } from '../errors.js'
import { writeFileAtomic } from '../util/writeFileAtomic.js'
import type { ProofScheme } from './encodeProof.js'

/** File name of the mint record inside an output folder. */
export const MINT_FILE = 'mint.json'
/** File name of the metadata inside an output folder. */
export const METADATA_FILE = 'metadata.json'
export const MINT_FORMAT = 'imo-mint-record-v1'

export interface MintFile {
  format: typeof MINT_FORMAT
  chainId: number
  collection: Address
  /** Decimal. */
  tokenId: string
  tokenIdHex: Hex
  to: Address
  modelHash: Hex
  commitment: Hex
  promptHash: Hex
  aigcDataHash: Hex
  aigcDataMode: 'digest' | 'inline'
  proof: Hex
  proofScheme: ProofScheme
  /** The EOA whose key signed (for ERC-1271, the key the contract accepts). */
  signer: Address
  /** The attester the collection authorises: the signer, or the ERC-1271 contract. */
  attester: Address
  tokenUri: string
  metadata: { file: string; cid?: string }
  artifact: { file: string; cid?: string }
  /** Wei, decimal. */
  mintFeeWei: string
  status: 'pending' | 'minted' | 'existing'
  txHash?: Hex
  blockNumber?: string
}

/**
 * Writes a mint record atomically.
 * @example
 * writeMintFile('out/3fa2b4c1d9e0/mint.json', mint)
 */
export function writeMintFile(path: string, mint: MintFile): void {
  writeFileAtomic(path, `${JSON.stringify(mint, null, 2)}\n`)
}

/**
 * Reads a mint record.
 * @param path - mint.json.
 * @returns the record, or undefined when the file does not exist.
 * @throws UsageError when it exists but is not an imo mint record.
 * @example
 * readMintFile('out/3fa2b4c1d9e0/mint.json')?.proof
 */
export function readMintFile(path: string): MintFile | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  let value: MintFile
  try {
    value = JSON.parse(text) as MintFile
  } catch {
    throw new UsageError(`${path} is not JSON, so not a mint record`)
  }
  const hex = (v: unknown) => typeof v === 'string' && /^0x[0-9a-fA-F]*$/.test(v)
  if (
    value?.format !== MINT_FORMAT ||
    !Number.isSafeInteger(value.chainId) ||
    !hex(value.collection) ||
    !hex(value.proof) ||
    !/^\d+$/.test(String(value.tokenId))
  )
    throw new UsageError(`${path} is not a valid imo mint record (${MINT_FORMAT})`)
  return value
}
