/**
 * `mint.json`, written beside a minted inference's metadata: where and how it was minted, with the
 * exact proof sent, so `imo verify RECORD` can check the attestation without reading logs. Format
 * `imo-mint-record-v1`; every field but `status`, `txHash` and `blockNumber` is fixed before sending.
 */

import { existsSync } from 'node:fs'
import { type Address, type Hex, isAddress } from 'viem'
import { UsageError } from '../errors.js'
import { parseJson } from '../util/parseJson.js'
import { readRegularFile } from '../util/readRegularFile.js'
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
  if (!existsSync(path)) return undefined
  // Read as a regular file only: a FIFO or device named mint.json is refused, never waited on.
  const text = readRegularFile(path, 'mint record', { maxBytes: 16 * 1024 * 1024 }).toString('utf8')
  return validateMintFile(parseJson(text, path, { expected: 'a mint record' }), path)
}

/**
 * Checks that a parsed value is an `imo-mint-record-v1`, every field of the right shape (addresses
 * with a valid checksum when mixed-case, 32-byte hashes, decimal integers).
 * @param value - the parsed JSON.
 * @param what - the source's name for messages.
 * @returns the value, typed.
 * @throws UsageError naming the first field that is missing or malformed.
 * @example
 * validateMintFile(JSON.parse(text), 'mint.json').proof
 */
export function validateMintFile(value: unknown, what: string): MintFile {
  const bad = (field: string, expected: string): never => {
    throw new UsageError(`${what} is not a valid imo mint record (${MINT_FORMAT}): ${field} must be ${expected}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('the top level', 'an object')
  const m = value as Record<string, unknown>
  const is = (key: string, test: (v: unknown) => boolean, expected: string, object = m, prefix = '') => {
    if (!test(object[key])) bad(prefix + key, expected)
  }
  const string = (v: unknown) => typeof v === 'string'
  const bytes32 = (v: unknown) => typeof v === 'string' && /^0x[0-9a-fA-F]{64}$/.test(v)
  const decimal = (v: unknown) => typeof v === 'string' && /^(0|[1-9]\d{0,77})$/.test(v) && BigInt(v) < 2n ** 256n
  const address = (v: unknown) => typeof v === 'string' && isAddress(v, { strict: true })
  if (m.format !== MINT_FORMAT) bad('format', `"${MINT_FORMAT}"`)
  is('chainId', (v) => Number.isSafeInteger(v) && (v as number) > 0, 'a chain id (a whole number > 0)')
  for (const key of ['collection', 'to', 'signer', 'attester'])
    is(key, address, 'an address (0x + 40 hex digits, with a valid checksum when mixed-case)')
  is('tokenId', decimal, 'a decimal uint256 string')
  for (const key of ['tokenIdHex', 'modelHash', 'commitment', 'promptHash', 'aigcDataHash'])
    is(key, bytes32, '0x + 64 hex digits')
  is('aigcDataMode', (v) => v === 'digest' || v === 'inline', 'digest | inline')
  is('proof', (v) => typeof v === 'string' && /^0x([0-9a-fA-F]{2})*$/.test(v), '0x-hex bytes')
  is('proofScheme', (v) => v === 'ecdsa' || v === 'erc1271' || v === 'plonk', 'ecdsa | erc1271 | plonk')
  is('tokenUri', string, 'a string')
  for (const key of ['metadata', 'artifact']) {
    const part = m[key] as Record<string, unknown> | null
    if (typeof part !== 'object' || part === null || Array.isArray(part)) bad(key, 'an object')
    is('file', string, 'a file name', part!, `${key}.`)
    if (part!.cid !== undefined) is('cid', string, 'a string', part!, `${key}.`)
  }
  is('mintFeeWei', decimal, 'a decimal wei amount')
  is('status', (v) => v === 'pending' || v === 'minted' || v === 'existing', 'pending | minted | existing')
  if (m.txHash !== undefined) is('txHash', bytes32, '0x + 64 hex digits')
  if (m.blockNumber !== undefined) is('blockNumber', decimal, 'a decimal block number')
  return value as MintFile
}
