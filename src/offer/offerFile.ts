/**
 * The offering record `<deployment file>.offer.json` beside the deployment (e.g.
 * `.imo/deployments/31337/default.offer.json`) that `imo offer create` writes atomically, and the
 * allowlist proofs file `<deployment file>.allowlist.json` beside it (what buyers pass as --proof-file).
 * A record is first written as `pending` with the resolved times, so a re-run after a crash reuses them
 * (same step ids, no second sale).
 */
import { existsSync, renameSync, rmSync } from 'node:fs'
import type { Address, Hex } from 'viem'
import { UsageError } from '../errors.js'
import { parseJson } from '../util/parseJson.js'
import { readRegularFile } from '../util/readRegularFile.js'
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
 * @throws UsageError when it is not an offering record, or not a regular file.
 * @example
 * readOfferingFile('.imo/deployments/31337/default.offer.json')?.sale
 */
export function readOfferingFile(path: string): OfferingRecord | undefined {
  if (!existsSync(path)) return undefined
  const text = readRegularFile(path, 'offering record', { maxBytes: 1024 * 1024 }).toString('utf8')
  const value = parseJson(text, path, { expected: 'an imo offering record' }) as OfferingRecord
  if (value?.format !== 'imo-offering-v1') throw new UsageError(`${path} is not an imo offering record`)
  return value
}

/**
 * Keeps a finalized sale's record, and its proofs file, under names of their own
 * (`default.offer.<sale>.json`, `default.allowlist.<sale>.json`) so a new offering does not replace
 * them: buyers may still need the proofs, and the seller the history.
 * @param paths - the current record and proofs file paths (offeringPaths).
 * @param record - the finalized sale's record.
 * @returns where they went.
 * @example
 * archiveOfferingFile(offeringPaths(file), record) // { sale: '0xe7f1…', recordPath: '…/default.offer.0xe7f1….json' }
 */
export function archiveOfferingFile(
  paths: { record: string; allowlist: string },
  record: OfferingRecord & { sale: Address },
): { sale: Address; recordPath: string; allowlistPath?: string } {
  const aside = (path: string) => path.replace(/\.json$/, `.${record.sale}.json`)
  const kept: { sale: Address; recordPath: string; allowlistPath?: string } = {
    sale: record.sale,
    recordPath: aside(paths.record),
  }
  let moved = record
  if (record.allowlistFile === paths.allowlist && existsSync(paths.allowlist)) {
    kept.allowlistPath = aside(paths.allowlist)
    renameSync(paths.allowlist, kept.allowlistPath)
    moved = { ...record, allowlistFile: kept.allowlistPath }
  }
  writeOfferingFile(kept.recordPath, moved)
  rmSync(paths.record, { force: true })
  return kept
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

/** Largest proofs file read: 256 MiB, about 200,000 addresses with their proofs. */
export const MAX_PROOFS_FILE_BYTES = 256 * 1024 * 1024

/**
 * Reads a proofs file written by `imo offer create --allowlist`: a regular file (a FIFO or a device is
 * refused before it is read), size-capped, every entry checked (an address, a decimal cap, 32-byte hex
 * proof nodes), so a bad file is one line and exit 2, never a crash later.
 * @throws UsageError (exit 2) when it is missing, not a regular file, too large or not a proofs file.
 * @example
 * readAllowlistFile('default.allowlist.json').entries['0x7099…79C8']?.proof
 */
export function readAllowlistFile(path: string): Allowlist {
  const text = readRegularFile(path, 'proofs file', { maxBytes: MAX_PROOFS_FILE_BYTES }).toString('utf8')
  const value = parseJson(text, path, { expected: 'an imo allowlist proofs file' }) as Partial<Allowlist> & {
    format?: unknown
  }
  const hash = (v: unknown) => typeof v === 'string' && /^0x[0-9a-fA-F]{64}$/.test(v)
  if (value?.format !== 'imo-allowlist-v1' || !hash(value.root) || typeof value.entries !== 'object' || !value.entries)
    throw new UsageError(`${path} is not an imo allowlist proofs file`)
  for (const [address, entry] of Object.entries(value.entries)) {
    const where = `${path}: the entry of ${JSON.stringify(address)}`
    if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new UsageError(`${where} is not keyed by an address`)
    if (typeof entry?.cap !== 'string' || !/^\d{1,78}$/.test(entry.cap) || BigInt(entry.cap) >= 2n ** 256n)
      throw new UsageError(`${where} has no decimal cap (a uint256)`)
    if (!Array.isArray(entry.proof) || entry.proof.length > 256 || !entry.proof.every(hash))
      throw new UsageError(`${where} has a proof that is not a list of 32-byte hex values`)
  }
  return value as Allowlist
}
