/**
 * The CLI side of a zk proof (`imo infer --prove`, `imo infer-and-mint` and `imo demo` on zk models):
 * proves under a spinner that names the prover's round and the seconds so far, writes `proof.json`
 * beside the record, says INSECURE when the keys come from a test powers-of-tau file, and reports the
 * prover's time and the process's peak memory (stderr; the same figures in --json).
 */
import type { InferenceResult } from '../inference/assembleInference.js'
import type { ZkPipeline } from '../zk/loadZkPipeline.js'
import type { ProveInferenceOptions } from '../zk/proveInference.js'
import type { ZkProofFile } from '../zk/proveZk.js'
import { formatBytes, note, warn, withSpinner } from './ui.js'

/** What --json shows of a proof. */
export interface ProofSummary {
  file: string
  recipient: `0x${string}`
  insecure: boolean
  ptau: string | null
  witnessMs: number
  proveMs: number
  /** Peak resident memory of the process (process.resourceUsage().maxRSS), bytes. */
  peakRssBytes: number
}

/**
 * Proves an inference and writes its proof into `outDir`.
 * @returns the summary (and the proof itself, for a mint that follows).
 * @example
 * const { summary } = await proveAndWrite(result, result.zk!, outDir, { recipient })
 * summary.peakRssBytes // 484442112
 */
export async function proveAndWrite(
  inference: Pick<InferenceResult, 'record' | 'promptBytes' | 'aigcData'>,
  zk: ZkPipeline,
  outDir: string,
  options: Omit<ProveInferenceOptions, 'onProgress' | 'onStep'>,
): Promise<{ summary: ProofSummary; proof: ZkProofFile }> {
  const { proveInference, writeZkProof } = await import('../zk/proveInference.js')
  const started = performance.now()
  const seconds = () => `${Math.round((performance.now() - started) / 1000)} s`
  const { proof, stats, file } = await withSpinner(
    'proving (PLONK)',
    async (spin) => {
      const onProgress = (step: string) => spin.update(`${step} (${seconds()})`)
      const made = await proveInference(inference, zk, { ...options, onProgress, onStep: onProgress })
      return { ...made, file: writeZkProof(outDir, made.proof) }
    },
    (made) => `proved in ${(made.stats.proveMs / 1000).toFixed(1)} s`,
  )
  if (proof.insecure) warn('INSECURE setup: this proof was made with a test powers-of-tau file, anyone can forge such proofs')
  note(`peak memory ${formatBytes(stats.peakRssBytes)}`)
  const summary: ProofSummary = {
    file,
    recipient: proof.recipient,
    insecure: proof.insecure,
    ptau: proof.ptau,
    witnessMs: Math.round(stats.witnessMs),
    proveMs: Math.round(stats.proveMs),
    peakRssBytes: stats.peakRssBytes,
  }
  return { summary, proof }
}
