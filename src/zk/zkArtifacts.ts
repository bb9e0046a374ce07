/**
 * The files derived from a zk model, in one folder (docs/formats.md section 11): the circuit
 * (`circuit.circom`, `circuit.r1cs`, `circuit_js/circuit.wasm`, described by `circuit.json`) and, once a
 * powers-of-tau file is given, the PLONK setup (`circuit.zkey`, `verification_key.json`, the Solidity
 * verifier `ZkVerifier.sol` and its compiled `ZkVerifier.json`, described by `setup.json`). Everything
 * here is re-derivable from the model (and the ptau file): the JSON descriptions record the digests of
 * what they were made from, and a step whose inputs did not change is not redone.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { ImoError, UsageError } from '../errors.js'
import { writeFileAtomic } from '../util/writeFileAtomic.js'
import { buildCircuit } from './buildCircuit.js'
import { checkPtau, type PtauInfo } from './checkPtau.js'
import { compileCircom } from './compileCircom.js'
import { compileVerifier } from './compileVerifier.js'
import { hashField } from './publicSignals.js'
import type { ZkModel } from './readZkModel.js'
import { capturingLogger, withSnarkjs } from './snarkjs.js'

export const CIRCUIT_FORMAT = 'imo-zk-circuit-v1'
export const SETUP_FORMAT = 'imo-zk-setup-v1'

/** circuit.json */
export interface ZkCircuitInfo {
  format: typeof CIRCUIT_FORMAT
  modelHash: `0x${string}`
  /** SHA-256 (hex) of circuit.circom, circuit.r1cs, circuit_js/circuit.wasm. */
  sha256: { circom: string; r1cs: string; wasm: string }
  /** Packed output field elements (the first public signals). */
  outputFields: number
  /** Bytes of the aigcData prefix (BMP headers) and of the payload (pixels). */
  prefixBytes: number
  payloadBytes: number
  /** The prefix itself (the collection is deployed with it and checks every aigcData starts with it). */
  prefixHex: `0x${string}`
  constraints: { nonLinear: number; linear: number; multiplications: number; rangeChecks: number; rangeCheckBits: number }
}

/** setup.json */
export interface ZkSetupInfo {
  format: typeof SETUP_FORMAT
  modelHash: `0x${string}`
  r1csSha256: string
  ptau: { power: number; blake2b512: string; name: string | null }
  /** True unless the ptau file is a published ceremony file. */
  insecure: boolean
  /** PLONK domain 2^power, and the PLONK constraints (gates) snarkjs counted. */
  power: number
  plonkConstraints: number
  nPublic: number
  sha256: { zkey: string; verificationKey: string; verifierSource: string }
  verifier: { contractName: string; compiler: string; bytecodeSha256: string }
}

/** Where a model's artifacts live. */
export interface ZkArtifactPaths {
  dir: string
  circom: string
  r1cs: string
  wasm: string
  circuitJson: string
  zkey: string
  verificationKey: string
  verifierSource: string
  verifierJson: string
  setupJson: string
}

/**
 * The artifact folder of a model: under `IMO_ZK_CACHE` (default ~/.cache/imo/zk), by model hash.
 * @example
 * zkCacheDir('0xab…') // '/home/me/.cache/imo/zk/ab…'
 */
export function zkCacheDir(modelHash: `0x${string}`, env: NodeJS.ProcessEnv = process.env): string {
  return join(zkCacheRoot(env), modelHash.slice(2))
}

/**
 * The root of imo's zk cache: `IMO_ZK_CACHE`, default ~/.cache/imo/zk.
 * @example
 * zkCacheRoot() // '/home/me/.cache/imo/zk'
 */
export function zkCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.IMO_ZK_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'imo', 'zk')
}

/**
 * The file names inside an artifact folder.
 * @example
 * artifactPaths('out/circuit').zkey // 'out/circuit/circuit.zkey'
 */
export function artifactPaths(dir: string): ZkArtifactPaths {
  return {
    dir,
    circom: join(dir, 'circuit.circom'),
    r1cs: join(dir, 'circuit.r1cs'),
    wasm: join(dir, 'circuit_js', 'circuit.wasm'),
    circuitJson: join(dir, 'circuit.json'),
    zkey: join(dir, 'circuit.zkey'),
    verificationKey: join(dir, 'verification_key.json'),
    verifierSource: join(dir, 'ZkVerifier.sol'),
    verifierJson: join(dir, 'ZkVerifier.json'),
    setupJson: join(dir, 'setup.json'),
  }
}

const sha256File = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex')
const sha256Text = (text: string | Uint8Array) => createHash('sha256').update(text).digest('hex')

function readJsonIf<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T
  } catch {
    return undefined
  }
}

/**
 * The circuit of a model in `dir`: generated, compiled with circom, described in circuit.json. Reused
 * when circuit.json names this model and the files still have the recorded digests.
 * @param model - the zk model.
 * @param dir - the artifact folder (created when missing).
 * @param onStep - progress words ('compiling the circuit (circom)').
 * @example
 * const { info } = await ensureZkCircuit(model, zkCacheDir(model.modelHash))
 * info.constraints.nonLinear // 14553
 */
export async function ensureZkCircuit(
  model: ZkModel,
  dir: string,
  onStep?: (step: string) => void,
): Promise<{ paths: ZkArtifactPaths; info: ZkCircuitInfo }> {
  const paths = artifactPaths(dir)
  onStep?.('building the circuit')
  const built = buildCircuit(model.graph, { modelField: hashField(model.modelHash), payloadOrder: model.payloadOrder })
  const circomSha256 = sha256Text(built.source)
  const known = readJsonIf<ZkCircuitInfo>(paths.circuitJson)
  if (
    known?.format === CIRCUIT_FORMAT &&
    known.modelHash === model.modelHash &&
    known.sha256.circom === circomSha256 &&
    existsSync(paths.r1cs) &&
    existsSync(paths.wasm) &&
    sha256File(paths.r1cs) === known.sha256.r1cs &&
    sha256File(paths.wasm) === known.sha256.wasm
  )
    return { paths, info: known }
  onStep?.('compiling the circuit (circom)')
  mkdirSync(dir, { recursive: true })
  // circom writes several files: compile in a scratch folder, then move them in, circuit.json last.
  const scratch = mkdtempSync(join(dir, '.circom-'))
  try {
    const compiled = await compileCircom(built.source, scratch, 'circuit')
    mkdirSync(dirname(paths.wasm), { recursive: true })
    renameSync(join(scratch, 'circuit.circom'), paths.circom)
    renameSync(compiled.r1cs, paths.r1cs)
    renameSync(compiled.wasm, paths.wasm)
    const info: ZkCircuitInfo = {
      format: CIRCUIT_FORMAT,
      modelHash: model.modelHash,
      sha256: { circom: circomSha256, r1cs: sha256File(paths.r1cs), wasm: sha256File(paths.wasm) },
      outputFields: built.outputFields,
      prefixBytes: model.prefix.length,
      payloadBytes: model.payloadOrder.length,
      prefixHex: `0x${Buffer.from(model.prefix).toString('hex')}`,
      constraints: {
        nonLinear: compiled.nonLinearConstraints,
        linear: compiled.linearConstraints,
        multiplications: built.stats.multiplications,
        rangeChecks: built.stats.decompositions,
        rangeCheckBits: built.stats.bits,
      },
    }
    writeFileAtomic(paths.circuitJson, `${JSON.stringify(info, null, 2)}\n`)
    return { paths, info }
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

/** Reads setup.json and checks it belongs to this model and circuit; undefined when there is none. */
export function readZkSetup(paths: ZkArtifactPaths, circuit: ZkCircuitInfo): ZkSetupInfo | undefined {
  const setup = readJsonIf<ZkSetupInfo>(paths.setupJson)
  if (setup?.format !== SETUP_FORMAT || setup.modelHash !== circuit.modelHash || setup.r1csSha256 !== circuit.sha256.r1cs)
    return undefined
  if (!existsSync(paths.zkey) || !existsSync(paths.verificationKey) || !existsSync(paths.verifierJson)) return undefined
  return setup
}

/**
 * The PLONK setup of a circuit over a powers-of-tau file: proving key, verification key and the
 * compiled Solidity verifier, described in setup.json. Reused when setup.json names the same circuit
 * and ptau digest.
 * @param ptauPath - the `.ptau` file (checked: published, or accepted with allowInsecure).
 * @throws UsageError (exit 2) for a ptau that is unknown (without allowInsecure), not prepared, or too
 *   small for the circuit.
 * @example
 * const setup = await ensureZkSetup(model, circuit, 'powersOfTau28_hez_final_15.ptau', {})
 * setup.info.insecure // false
 */
export async function ensureZkSetup(
  circuit: { paths: ZkArtifactPaths; info: ZkCircuitInfo },
  ptauPath: string,
  options: { allowInsecure?: boolean; onStep?: (step: string) => void } = {},
): Promise<{ paths: ZkArtifactPaths; info: ZkSetupInfo; ptau: PtauInfo }> {
  const { paths } = circuit
  options.onStep?.('checking the powers-of-tau file')
  const ptau = await checkPtau(ptauPath, { allowInsecure: options.allowInsecure ?? false })
  const known = readZkSetup(paths, circuit.info)
  if (known && known.ptau.blake2b512 === ptau.blake2b512 && sha256File(paths.zkey) === known.sha256.zkey)
    return { paths, info: known, ptau }
  options.onStep?.('PLONK setup')
  const logger = capturingLogger()
  const scratch = `${paths.zkey}.tmp-${process.pid}`
  try {
    const result = await withSnarkjs((snarkjs) => snarkjs.plonk.setup(paths.r1cs, ptauPath, scratch, logger))
    if (result === -1) {
      const tooBig = /circuit too big.*?(\d+) > 2\*\*(\d+)/.exec(logger.errors.join('\n'))
      if (tooBig) {
        const needed = Math.ceil(Math.log2(Number(tooBig[1])))
        throw new UsageError(
          `the powers-of-tau file ${ptauPath} holds 2^${tooBig[2]} powers, the circuit has ${tooBig[1]} PLONK constraints and needs 2^${needed}: use powersOfTau28_hez_final_${String(needed).padStart(2, '0')}.ptau or a larger one`,
        )
      }
      throw new UsageError(`PLONK setup refused ${ptauPath}: ${logger.errors.join('; ') || 'unknown reason'}`)
    }
    renameSync(scratch, paths.zkey)
  } finally {
    rmSync(scratch, { force: true })
  }
  const plonkConstraints = Number(/Plonk constraints: (\d+)/.exec(logger.messages.join('\n'))?.[1] ?? Number.NaN)
  options.onStep?.('exporting the verifier')
  const { vk, source } = await withSnarkjs(async (snarkjs) => {
    // snarkjs exports only its entry point: find its templates/ folder from there (build/main.cjs).
    const entry = createRequire(import.meta.url).resolve('snarkjs')
    const template = readFileSync(join(dirname(entry), '..', 'templates', 'verifier_plonk.sol.ejs'), 'utf8')
    return {
      vk: await snarkjs.zKey.exportVerificationKey(paths.zkey),
      source: await snarkjs.zKey.exportSolidityVerifier(paths.zkey, { plonk: template }),
    }
  })
  const vkText = `${JSON.stringify(vk, null, 2)}\n`
  writeFileAtomic(paths.verificationKey, vkText)
  writeFileAtomic(paths.verifierSource, source)
  options.onStep?.('compiling the verifier (solc)')
  const compiled = compileVerifier(source, 'ZkVerifier.sol')
  writeFileAtomic(paths.verifierJson, `${JSON.stringify(compiled, null, 2)}\n`)
  if (ptau.power < vk.power) throw new ImoError(`snarkjs accepted a ptau of 2^${ptau.power} for a domain of 2^${vk.power}`)
  const info: ZkSetupInfo = {
    format: SETUP_FORMAT,
    modelHash: circuit.info.modelHash,
    r1csSha256: circuit.info.sha256.r1cs,
    ptau: { power: ptau.power, blake2b512: ptau.blake2b512, name: ptau.published?.name ?? null },
    insecure: !ptau.published,
    power: vk.power,
    plonkConstraints,
    nPublic: vk.nPublic,
    sha256: { zkey: sha256File(paths.zkey), verificationKey: sha256Text(vkText), verifierSource: sha256Text(source) },
    verifier: { contractName: compiled.contractName, compiler: compiled.compiler, bytecodeSha256: sha256Text(compiled.bytecode) },
  }
  writeFileAtomic(paths.setupJson, `${JSON.stringify(info, null, 2)}\n`)
  return { paths, info, ptau }
}
