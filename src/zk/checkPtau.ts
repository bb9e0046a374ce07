/**
 * Decides whether a powers-of-tau file may be used for a PLONK setup: it must be a bn128 `.ptau`
 * prepared for phase 2 (it holds the Lagrange section PLONK reads), large enough for the circuit, and
 * either one of the published ceremony files (recognised by the BLAKE2b-512 of its bytes) or accepted
 * explicitly as insecure. A universal setup is only as good as its ceremony: whoever knows the secret
 * tau of a file can forge proofs for every circuit set up from it, so an unknown file is refused unless
 * the caller says `--insecure-ptau`, and then everything downstream is labelled insecure.
 */
import { createHash } from 'node:crypto'
import { closeSync, constants, createReadStream, fstatSync, openSync, readSync } from 'node:fs'
import { UsageError } from '../errors.js'
import { describeReadError, fileKind } from '../util/readRegularFile.js'
import { findPublishedPtau, type PublishedPtau } from './publishedPtau.js'

/** The bn128 (BN254) base field modulus, which a ptau header names its curve by. */
export const BN128_BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583n

/** What a ptau file is, once checked. */
export interface PtauInfo {
  /** The file as given. */
  path: string
  /** 2^power is the largest PLONK domain it supports. */
  power: number
  /** BLAKE2b-512 of the whole file, 128 lowercase hex digits. */
  blake2b512: string
  /** The published ceremony file it is; undefined for an insecure (unknown) file. */
  published: PublishedPtau | undefined
}

export interface CheckPtauOptions {
  /** Accept a file whose digest is not a published one (`--insecure-ptau`). */
  allowInsecure?: boolean
  /** The circuit's PLONK domain power; a smaller file is refused. */
  neededPower?: number
  /** Hashing progress, in bytes. */
  onProgress?: (done: number, total: number) => void
}

interface PtauHeader {
  power: number
  sections: Set<number>
  size: number
}

/** Reads the section table and header of a `.ptau` file (a few bytes; data sections are skipped). */
function readPtauHeader(path: string): PtauHeader {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    throw new UsageError(`cannot read the powers-of-tau file ${path}: ${describeReadError(error)}`, { cause: error })
  }
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile()) throw new UsageError(`the powers-of-tau file ${path} is ${fileKind(stat)}, not a regular file`)
    const notPtau = (why: string) => new UsageError(`${path} is not a powers-of-tau (.ptau) file: ${why}`)
    const read = (at: number, length: number) => {
      const buffer = Buffer.alloc(length)
      if (readSync(fd, buffer, 0, length, at) !== length) throw notPtau('it ends too early')
      return buffer
    }
    const head = read(0, 12)
    if (head.toString('latin1', 0, 4) !== 'ptau') throw notPtau('no "ptau" magic')
    const count = head.readUInt32LE(8)
    const sections = new Set<number>()
    let power = -1
    let at = 12
    for (let i = 0; i < count; i++) {
      const sectionHead = read(at, 12)
      const type = sectionHead.readUInt32LE(0)
      const size = Number(sectionHead.readBigUInt64LE(4))
      at += 12
      if (at + size > stat.size) throw notPtau(`section ${type} runs past the end`)
      if (type === 1) {
        const header = read(at, Math.min(size, 48))
        const n8 = header.readUInt32LE(0)
        if (n8 !== 32 || size < 4 + n8 + 8) throw notPtau('its header is not bn128')
        let q = 0n
        for (let b = n8 - 1; b >= 0; b--) q = (q << 8n) | BigInt(header[4 + b]!)
        if (q !== BN128_BASE_FIELD) throw new UsageError(`${path} is for another curve than bn128, which imo's circuits use`)
        power = header.readUInt32LE(4 + n8)
      }
      sections.add(type)
      at += size
    }
    if (power < 1 || power > 28) throw notPtau('no valid header section')
    return { power, sections, size: stat.size }
  } finally {
    closeSync(fd)
  }
}

/** BLAKE2b-512 of a file, streamed in 1 MiB chunks. */
async function blake2b512File(path: string, total: number, onProgress?: (done: number, total: number) => void): Promise<string> {
  const hash = createHash('blake2b512')
  let done = 0
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer)
    done += (chunk as Buffer).length
    onProgress?.(done, total)
  }
  return hash.digest('hex')
}

/**
 * Checks a powers-of-tau file for a PLONK setup.
 * @param path - the `.ptau` file (`--ptau FILE`).
 * @param options - whether an unknown file is accepted, the power the circuit needs, progress.
 * @returns its power, digest, and the published file it is (undefined when accepted as insecure).
 * @throws UsageError (exit 2, one line): not a bn128 ptau, not prepared for phase 2, smaller than the
 *   circuit needs, or unknown without `allowInsecure`.
 * @example
 * import { checkPtau } from './zk/checkPtau.js'
 * const ptau = await checkPtau('powersOfTau28_hez_final_15.ptau', { neededPower: 15 })
 * ptau.published?.name // 'powersOfTau28_hez_final_15.ptau'
 */
export async function checkPtau(path: string, options: CheckPtauOptions = {}): Promise<PtauInfo> {
  const header = readPtauHeader(path)
  if (options.neededPower !== undefined && header.power < options.neededPower)
    throw new UsageError(
      `the powers-of-tau file ${path} holds 2^${header.power} powers, the circuit needs 2^${options.neededPower}: use powersOfTau28_hez_final_${String(options.neededPower).padStart(2, '0')}.ptau or a larger one`,
    )
  if (!header.sections.has(2) || !header.sections.has(3) || !header.sections.has(12))
    throw new UsageError(
      `the powers-of-tau file ${path} is not prepared for phase 2 (no Lagrange section): run \`snarkjs powersoftau prepare phase2\` on it, or use a published *_hez_final_*.ptau`,
    )
  const blake2b512 = await blake2b512File(path, header.size, options.onProgress)
  const published = findPublishedPtau(blake2b512)
  if (!published && !options.allowInsecure)
    throw new UsageError(
      `unknown powers-of-tau file ${path} (blake2b-512 ${blake2b512.slice(0, 16)}…): it is none of the published Hermez ceremony files, so whoever made it may know its secret and forge proofs; use powersOfTau28_hez_final_NN.ptau, or pass --insecure-ptau to accept it for testing`,
    )
  return { path, power: header.power, blake2b512, published }
}

/**
 * How output names a ptau: the published file's name, or INSECURE with its digest's start.
 * @example
 * describePtau(info) // 'powersOfTau28_hez_final_15.ptau (Hermez ceremony)' or 'INSECURE ptau 3fa2b4c1d9e0f1a2…'
 */
export function describePtau(info: Pick<PtauInfo, 'published' | 'blake2b512'>): string {
  return info.published
    ? `${info.published.name} (Hermez ceremony)`
    : `INSECURE ptau ${info.blake2b512.slice(0, 16)}… (not a published ceremony file: proofs can be forged by whoever made it)`
}
