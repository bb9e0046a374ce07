/**
 * The offering record `<deployment file>.offer.json` beside the deployment (e.g.
 * `.imo/deployments/31337/default.offer.json`) that `imo offer create` writes atomically, and the
 * allowlist proofs file `<deployment file>.allowlist.json` beside it (what buyers pass as --proof-file).
 * A record is first written as `pending` with the resolved times, so a re-run after a crash reuses them
 * (same step ids, no second sale).
 */
import { existsSync, readFileSync } from 'node:fs'
import type { Address, Hex } from 'viem'
import { UsageError } from '../errors.js'
import { writeFileAtomic } from '../util/writeFileAtomic.js'
import type { Allowlist } from './buildAllowlist.js'

export interface OfferingParameters {
  /** Tokens for sale, base units (decimal string). */
  amount: string
  /** Wei per whole token at the start and at the end (equal: fixed price). */
  startPriceWei: string
  floorPriceWei: string
  /** Unix seconds. */
  startTime: number
  endTime: number
  softCapWei: string
  /** Base units, '0' = no cap. */
  maxPerAddress: string
  merkleRoot: Hex
}

export interface OfferingRecord {
  format: 'imo-offering-v1'
  status: 'pending' | 'created'
  chainId: number
  token: Address
  seller: Address
  parameters: OfferingParameters
  /** The flags as typed (a re-run with the same flags resumes this record). */
  request: string
  sale?: Address
  txHash?: Hex
  blockNumber?: string
  allowlistFile?: string
  createdAt: string
  imoVersion: string
}

/**
 * The offering record and allowlist paths beside a deployment file.
 * @example
 * offeringPaths('/w/.imo/deployments/31337/default.json').record // '/w/.imo/deployments/31337/default.offer.json'
 */
export function offeringPaths(deploymentFile: string): { record: string; allowlist: string } {
  const base = deploymentFile.replace(/\.json$/, '')
  return { record: `${base}.offer.json`, allowlist: `${base}.allowlist.json` }
}

/**
 * Reads an offering record.
 * @returns the record, or undefined when the file does not exist.
 * @throws UsageError when it is not an offering record.
 * @example
 * readOfferingFile('.imo/deployments/31337/default.offer.json')?.sale
 */
export function readOfferingFile(path: string): OfferingRecord | undefined {
  if (!existsSync(path)) return undefined
  let value: OfferingRecord
  try {
    value = JSON.parse(readFileSync(path, 'utf8')) as OfferingRecord
  } catch {
    throw new UsageError(`${path} is not valid JSON`)
  }
  if (value?.format !== 'imo-offering-v1') throw new UsageError(`${path} is not an imo offering record`)
  return value
}

/**
 * Writes an offering record atomically.
 * @example
 * writeOfferingFile(path, record)
 */
export function writeOfferingFile(path: string, record: OfferingRecord): void {
  writeFileAtomic(path, `${JSON.stringify(record, null, 2)}\n`)
}

/**
 * Writes the allowlist proofs file (`imo-allowlist-v1`: root, and per address its cap and proof).
 * @example
 * writeAllowlistFile(path, await buildAllowlist(entries))
 */
export function writeAllowlistFile(path: string, allowlist: Allowlist): void {
  writeFileAtomic(path, `${JSON.stringify({ format: 'imo-allowlist-v1', ...allowlist }, null, 2)}\n`)
}

/**
 * Reads a proofs file written by `imo offer create --allowlist`.
 * @throws UsageError (exit 2) when it is missing or not a proofs file.
 * @example
 * readAllowlistFile('default.allowlist.json').entries['0x7099…79C8']?.proof
 */
export function readAllowlistFile(path: string): Allowlist {
  if (!existsSync(path)) throw new UsageError(`proofs file ${path} does not exist`)
  let value: Allowlist & { format?: string }
  try {
    value = JSON.parse(readFileSync(path, 'utf8'))
  } catch {
    throw new UsageError(`${path} is not valid JSON`)
  }
  if (value?.format !== 'imo-allowlist-v1' || typeof value.root !== 'string' || !value.entries)
    throw new UsageError(`${path} is not an imo allowlist proofs file`)
  return value
}
