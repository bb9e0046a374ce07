/**
 * Proves that a zk model's circuit, on a prompt, gives an output, bound to a recipient: computes the
 * witness with the circuit's own generator (circom's wasm), checks that the circuit's output bytes are
 * exactly the ones imo's inference (onnxruntime on model.onnx) produced, then makes the PLONK proof.
 * The proof file (`imo-zk-proof-v1`, docs/formats.md section 11) holds the public signals and the proof.
 */
import { ImoError } from '../errors.js'
import { promptField, publicSignals } from './publicSignals.js'
import { capturingLogger, quietConsole, withSnarkjs } from './snarkjs.js'
import type { ZkArtifactPaths, ZkCircuitInfo, ZkSetupInfo } from './zkArtifacts.js'

export const PROOF_FORMAT = 'imo-zk-proof-v1'

/** A proof file. */
export interface ZkProofFile {
  format: typeof PROOF_FORMAT
  scheme: 'plonk'
  modelHash: `0x${string}`
  recipient: `0x${string}`
  /** Decimal strings, circuit order: packed output, model, prompt, recipient. */
  publicSignals: string[]
  /** snarkjs's PLONK proof object. */
  proof: import('snarkjs').PlonkProof
  /** The proving key's ptau was not a published ceremony file: anyone who knows its tau can forge. */
  insecure: boolean
  ptau: string | null
  /** SHA-256 of the verification key the proof is for. */
  verificationKeySha256: string
}

/** Timings and memory of one proof. */
export interface ProofStats {
  witnessMs: number
  proveMs: number
  /** Peak resident memory of this process so far, in bytes (the prover's threads included). */
  peakRssBytes: number
}

export interface ProveOptions {
  artifacts: { paths: ZkArtifactPaths; circuit: ZkCircuitInfo; setup: ZkSetupInfo }
  /** The ERC-7007 prompt bytes. */
  prompt: Uint8Array
  /** The payload imo's inference produced (aigcData after the prefix). */
  payload: Uint8Array
  recipient: `0x${string}`
  /** Progress words: 'witness', 'round 1/5', ... */
  onProgress?: (step: string) => void
}

/**
 * Makes a PLONK proof for one output.
 * @returns the proof file's content and how long it took.
 * @throws ImoError when the circuit rejects the input or computes other bytes than the inference did.
 * @example
 * import { proveZk } from './zk/proveZk.js'
 * const { proof, stats } = await proveZk({ artifacts, prompt, payload, recipient })
 * stats.proveMs // 12000
 */
export async function proveZk(options: ProveOptions): Promise<{ proof: ZkProofFile; stats: ProofStats }> {
  const { paths, circuit, setup } = options.artifacts
  const expected = publicSignals({
    modelHash: circuit.modelHash,
    prompt: options.prompt,
    payload: options.payload,
    recipient: options.recipient,
  })
  const progress = options.onProgress ?? (() => {})
  return withSnarkjs(async (snarkjs) => {
    progress('computing the witness')
    const started = performance.now()
    const witness: { type: 'mem'; data?: Uint8Array } = { type: 'mem' }
    const input = { model: expected.at(-3)!, prompt: promptField(options.prompt), recipient: BigInt(options.recipient) }
    try {
      await quietConsole(() => snarkjs.wtns.calculate(input, paths.wasm, witness))
    } catch (error) {
      throw new ImoError(`the circuit rejects this input: ${String((error as Error).message).split('\n')[0]}`, { cause: error })
    }
    const witnessMs = performance.now() - started
    const logger = capturingLogger((message) => {
      const round = /^> ROUND (\d)/.exec(message)
      if (round) progress(`proving: round ${round[1]} of 5`)
    })
    progress('proving')
    const proveStarted = performance.now()
    const { proof, publicSignals: signals } = await snarkjs.plonk.prove(paths.zkey, witness, logger)
    const proveMs = performance.now() - proveStarted
    const differs = signals.findIndex((s, i) => BigInt(s) !== expected[i])
    if (signals.length !== expected.length || differs >= 0)
      throw new ImoError(
        differs < circuit.outputFields && differs >= 0
          ? `the circuit computes other output bytes than the inference (packed output ${differs} differs): the model and its circuit disagree`
          : `the proof's public signals differ from the expected ones at ${differs}`,
      )
    return {
      proof: {
        format: PROOF_FORMAT,
        scheme: 'plonk',
        modelHash: circuit.modelHash,
        recipient: options.recipient,
        publicSignals: signals,
        proof,
        insecure: setup.insecure,
        ptau: setup.ptau.name,
        verificationKeySha256: setup.sha256.verificationKey,
      },
      stats: { witnessMs, proveMs, peakRssBytes: process.resourceUsage().maxRSS * 1024 },
    }
  })
}

/**
 * The proof as the verifier contract's `uint256[24]` (snarkjs's Solidity call data order).
 * @example
 * proofWords(file.proof).length // 24
 */
export function proofWords(proof: import('snarkjs').PlonkProof): bigint[] {
  const points = [proof.A, proof.B, proof.C, proof.Z, proof.T1, proof.T2, proof.T3, proof.Wxi, proof.Wxiw]
  return [
    ...points.flatMap((p) => [BigInt(p[0]!), BigInt(p[1]!)]),
    ...[proof.eval_a, proof.eval_b, proof.eval_c, proof.eval_s1, proof.eval_s2, proof.eval_zw].map(BigInt),
  ]
}

/**
 * The snarkjs proof object of the verifier's `uint256[24]` (the inverse of {@link proofWords}), to
 * check a proof read from the chain with snarkjs.
 * @example
 * proofFromWords(proofWords(file.proof)).eval_zw === file.proof.eval_zw // true
 */
export function proofFromWords(words: readonly bigint[]): import('snarkjs').PlonkProof {
  const point = (i: number) => [words[2 * i]!.toString(), words[2 * i + 1]!.toString(), '1']
  const scalar = (i: number) => words[18 + i]!.toString()
  return {
    A: point(0),
    B: point(1),
    C: point(2),
    Z: point(3),
    T1: point(4),
    T2: point(5),
    T3: point(6),
    Wxi: point(7),
    Wxiw: point(8),
    eval_a: scalar(0),
    eval_b: scalar(1),
    eval_c: scalar(2),
    eval_s1: scalar(3),
    eval_s2: scalar(4),
    eval_zw: scalar(5),
    protocol: 'plonk',
    curve: 'bn128',
  }
}
