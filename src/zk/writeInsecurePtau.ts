/**
 * Writes a small powers-of-tau file for tests and the demo, in seconds rather than the hours a real
 * ceremony (or snarkjs's own `powersoftau new` + `prepare phase2`, minutes already at power 12 here)
 * takes: its secret tau is PUBLIC (derived from a fixed string below), so anyone can forge a proof for
 * any circuit set up from it. It is insecure by construction, and imo says so wherever it is used:
 * {@link checkPtau} does not recognise it and refuses it without `--insecure-ptau`.
 *
 * Only what a PLONK setup reads is written (snarkjs 0.7.6 plonk_setup.js): the header (section 1),
 * tau^i·G1 for i < 2^power + 6 (section 2), G2 and tau·G2 (section 3), and the Lagrange basis
 * L_i(tau)·G1 for every domain 2^0 ... 2^power, concatenated (section 12). Points are affine, little
 * endian, Montgomery form, as snarkjs stores them. The file is the same bytes on every run.
 */
import { createHash } from 'node:crypto'
import { writeFileAtomic } from '../util/writeFileAtomic.js'

/** The public seed of the insecure tau: tau = SHA-256(seed) mod r. */
export const INSECURE_TAU_SEED = 'imo insecure powers of tau v1: the secret is this sentence'

/** Largest power it will write (2^16 points take about a minute on one core). */
export const MAX_INSECURE_POWER = 18

const SCALAR_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n

/**
 * The insecure tau, as an integer below the scalar field order.
 * @example
 * insecureTau() // 0x…n (the same on every machine)
 */
export function insecureTau(): bigint {
  return BigInt(`0x${createHash('sha256').update(INSECURE_TAU_SEED, 'utf8').digest('hex')}`) % SCALAR_FIELD
}

function section(id: number, body: Uint8Array): Buffer[] {
  const head = Buffer.alloc(12)
  head.writeUInt32LE(id, 0)
  head.writeBigUInt64LE(BigInt(body.length), 4)
  return [head, Buffer.from(body.buffer, body.byteOffset, body.length)]
}

/**
 * Writes an insecure, deterministic powers-of-tau file of 2^power (atomically).
 * @param path - where to write it.
 * @param power - 1 to {@link MAX_INSECURE_POWER}: the largest PLONK domain it supports is 2^power.
 * @param onProgress - points computed so far and in all.
 * @example
 * import { writeInsecurePtau } from './zk/writeInsecurePtau.js'
 * await writeInsecurePtau('/tmp/insecure-12.ptau', 12)
 */
export async function writeInsecurePtau(
  path: string,
  power: number,
  onProgress?: (done: number, total: number) => void,
): Promise<void> {
  if (!Number.isInteger(power) || power < 1 || power > MAX_INSECURE_POWER)
    throw new RangeError(`power must be 1..${MAX_INSECURE_POWER}, got ${power}`)
  const { curves } = await import('snarkjs')
  const curve = await curves.getCurveFromName('bn128', { singleThread: true })
  try {
    const { G1, G2, Fr } = curve
    const tau = Fr.e(insecureTau())
    const tauPowers = 2 ** power + 6
    const lagrangePoints = 2 ** (power + 1) - 1
    const total = tauPowers + lagrangePoints
    let done = 0
    const tick = () => {
      done++
      if (done % 1024 === 0 || done === total) onProgress?.(done, total)
    }
    const g1Point = (target: Uint8Array, index: number, scalar: Uint8Array) =>
      G1.toRprLEM(target, index * 64, G1.toAffine(G1.timesFr(G1.g, scalar)))

    const header = Buffer.alloc(4 + 32 + 8)
    header.writeUInt32LE(32, 0)
    let q = curve.q
    for (let i = 0; i < 32; i++, q >>= 8n) header[4 + i] = Number(q & 0xffn)
    header.writeUInt32LE(power, 36)
    header.writeUInt32LE(0, 40)

    const tauG1 = new Uint8Array(tauPowers * 64)
    let power_ = Fr.one
    for (let i = 0; i < tauPowers; i++) {
      g1Point(tauG1, i, power_)
      power_ = Fr.mul(power_, tau)
      tick()
    }

    const tauG2 = new Uint8Array(2 * 128)
    G2.toRprLEM(tauG2, 0, G2.toAffine(G2.g))
    G2.toRprLEM(tauG2, 128, G2.toAffine(G2.timesFr(G2.g, tau)))

    // L_i(tau) = (tau^m - 1) / m * w^i / (tau - w^i) over the domain of the m-th roots of unity w^i.
    const lagrange = new Uint8Array(lagrangePoints * 64)
    let at = 0
    for (let p = 0; p <= power; p++) {
      const m = 2 ** p
      const factor = Fr.div(Fr.sub(Fr.exp(tau, m), Fr.one), Fr.e(m))
      let root = Fr.one
      for (let i = 0; i < m; i++) {
        g1Point(lagrange, at++, Fr.mul(factor, Fr.div(root, Fr.sub(tau, root))))
        root = Fr.mul(root, Fr.w[p]!)
        tick()
      }
    }

    const head = Buffer.alloc(12)
    head.write('ptau', 0, 'latin1')
    head.writeUInt32LE(1, 4)
    head.writeUInt32LE(4, 8)
    writeFileAtomic(
      path,
      Buffer.concat([head, ...section(1, header), ...section(2, tauG1), ...section(3, tauG2), ...section(12, lagrange)]),
    )
  } finally {
    await curve.terminate()
  }
}

/**
 * The insecure test ptau of 2^power in imo's zk cache, written there once (`imo demo --model zk`: a
 * demo has no ceremony file; everything made with it is labelled INSECURE).
 * @returns its path.
 * @example
 * await cachedInsecurePtau(15) // '/home/me/.cache/imo/zk/insecure-v1-15.ptau'
 */
export async function cachedInsecurePtau(power: number, onProgress?: (done: number, total: number) => void): Promise<string> {
  const { existsSync } = await import('node:fs')
  const { join } = await import('node:path')
  const { zkCacheRoot } = await import('./zkArtifacts.js')
  const path = join(zkCacheRoot(), `insecure-v1-${power}.ptau`)
  if (!existsSync(path)) await writeInsecurePtau(path, power, onProgress)
  return path
}
