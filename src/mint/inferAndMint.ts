import { existsSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Address } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import type { Deployment } from '../deployment/deploymentFile.js'
import { UsageError } from '../errors.js'
import type { AigcDataMode } from '../inference/erc7007.js'
import { readRecord } from '../inference/record.js'
import type { InferenceResult, RunInferenceOptions } from '../inference/runInference.js'
import type { ZkProofFile } from '../zk/proveZk.js'
import { type MintItem, type MintResult, mintRecords, type TokenUriMode } from './mintRecords.js'

export interface InferAndMintParams {
  prompts: string[]
  /** The model folder or file; its hash must equal the deployment's. */
  modelPath: string
  deployment: Deployment
  /** One PROMPT (folder = --out, else out/<c12>) or a --prompts batch (folders <--out or out>/<c12>). */
  batch: boolean
  out?: string
  aigcDataMode?: AigcDataMode
  to?: Address
  tokenUriMode?: TokenUriMode
  tokenUri?: string
  attesterContract?: Address
  onProgress?(text: string): void
  /** causal-lm models: generation flags and per-token hooks (see runInference). */
  generation?: RunInferenceOptions['generation']
  onToken?: RunInferenceOptions['onToken']
  onText?: RunInferenceOptions['onText']
  /** zk models: the powers-of-tau file for the first proof's keys (see ensureZkKeys). */
  zk?: { ptau?: string; allowInsecurePtau?: boolean }
}

export interface InferAndMintResult extends MintResult {
  modelPath: string
  timings: { inferenceMs: number; chainMs: number; totalMs: number; proveMs?: number }
  /** zk models: the process's peak resident memory after proving, bytes. */
  peakRssBytes?: number
}

/**
 * `imo infer-and-mint`: runs the deployment's model on every prompt first (one cached session), writes
 * each inference's folder, then mints them all pipelined with mintRecords.
 * @param ctx - chain context with the attester signer.
 * @param params - prompts, model, deployment and the shared mint options.
 * @returns the mint result, the model path and the time spent in inference vs on the chain.
 * @throws UsageError when the model's hash is not the deployment's (before any inference or send),
 *   or an output folder holds another inference; the errors of mintRecords.
 * @example
 * import { inferAndMint } from './mint/inferAndMint.js'
 * const result = await inferAndMint(ctx, { prompts: ['a red spiral'], modelPath: deployment.model.path, deployment, batch: false })
 * result.outcomes[0].tokenIdHex // '0x…'
 */
export async function inferAndMint(ctx: ChainContext, params: InferAndMintParams): Promise<InferAndMintResult> {
  const started = performance.now()
  const progress = params.onProgress ?? (() => {})
  const { loadModel } = await import('../inference/loadModel.js')
  const { runInference } = await import('../inference/runInference.js')
  progress('loading the model')
  const model = await loadModel(params.modelPath)
  if (model.modelHash.toLowerCase() !== params.deployment.modelHash.toLowerCase())
    throw new UsageError(
      `the model ${params.modelPath} hashes to ${model.modelHash}, but the deployment's collection is bound to ${params.deployment.modelHash}; nothing was sent`,
      { hint: "pass the deployment's model with --model PATH (imo hash PATH shows a model's hash)" },
    )
  const items: MintItem[] = []
  const dryRun = ctx.tx.dryRun
  let proveMs = 0
  const { writeZkProof } = await import('../zk/proveInference.js')
  for (const [index, prompt] of params.prompts.entries()) {
    progress(`inference ${index + 1}/${params.prompts.length}`)
    const result = await runInference({
      modelPath: model,
      prompt,
      aigcDataMode: params.aigcDataMode ?? 'digest',
      ...(params.generation ? { generation: params.generation } : {}),
      ...(params.onToken ? { onToken: params.onToken } : {}),
      ...(params.onText ? { onText: params.onText } : {}),
    })
    const folderName = result.record.commitment.slice(2, 14)
    const outDir = params.batch ? join(params.out ?? 'out', folderName) : (params.out ?? join('out', folderName))
    const item = await toMintItem(result, dryRun ? undefined : outDir)
    if (result.zk) {
      const proveStarted = performance.now()
      const label = `proof ${index + 1}/${params.prompts.length}`
      item.zkProof = await zkProofFor(result, outDir, params.to ?? ctx.account!.address, {
        ...params.zk,
        onProgress: (step) => progress(`${label}: ${step}`),
      })
      proveMs += performance.now() - proveStarted
      const write = item.writeInference
      if (write)
        item.writeInference = () => {
          write()
          writeZkProof(outDir, item.zkProof!)
        }
    }
    items.push(item)
  }
  const inferenceMs = performance.now() - started
  const mintStarted = performance.now()
  const minted = await mintRecords(ctx, items, {
    deployment: params.deployment,
    ...(params.to ? { to: params.to } : {}),
    ...(params.tokenUriMode ? { tokenUriMode: params.tokenUriMode } : {}),
    ...(params.tokenUri !== undefined ? { tokenUri: params.tokenUri } : {}),
    ...(params.attesterContract ? { attesterContract: params.attesterContract } : {}),
    onProgress: progress,
  })
  const chainMs = performance.now() - mintStarted
  const zk = items.some((item) => item.zkProof)
  return {
    ...minted,
    modelPath: model.absolutePath,
    timings: { inferenceMs, chainMs, totalMs: performance.now() - started, ...(zk ? { proveMs } : {}) },
    ...(zk ? { peakRssBytes: process.resourceUsage().maxRSS * 1024 } : {}),
  }
}

/**
 * The zk proof of an inference for a recipient: the one already in `outDir` when it is for this very
 * output and recipient (a re-run after a crash sends the transaction the journal holds: PLONK proofs
 * are randomised, so a new proof would be other calldata), else a new one.
 */
async function zkProofFor(
  result: InferenceResult & { zk?: import('../zk/loadZkPipeline.js').ZkPipeline },
  outDir: string,
  recipient: Address,
  options: NonNullable<InferAndMintParams['zk']> & { onProgress: (step: string) => void },
): Promise<ZkProofFile> {
  const { proveInference, readZkProof, ZK_PROOF_FILE } = await import('../zk/proveInference.js')
  const { publicSignals } = await import('../zk/publicSignals.js')
  const zk = result.zk!
  const expected = publicSignals({
    modelHash: result.record.modelHash,
    prompt: result.promptBytes,
    payload: result.aigcData.subarray(zk.zkModel.prefix.length),
    recipient,
  }).map(String)
  const path = join(outDir, ZK_PROOF_FILE)
  if (existsSync(path)) {
    const previous = readZkProof(path)
    if (previous.publicSignals.length === expected.length && previous.publicSignals.every((s, i) => s === expected[i]))
      return previous
  }
  return (await proveInference(result, zk, { ...options, recipient })).proof
}

/**
 * The mint item of one inference: its bytes, and (unless `outDir` is undefined: a dry run) the folder
 * its files go to, written only after every check passed.
 * @throws UsageError now, before any send, when `outDir` holds other files.
 * @example
 * const item = await toMintItem(await runInference({ modelPath: model, prompt }), 'out/3fa2b4c1d9e0')
 */
export async function toMintItem(result: InferenceResult, outDir: string | undefined): Promise<MintItem> {
  const item: MintItem = {
    record: result.record,
    artifactBytes: result.artifact.bytes,
    promptBytes: result.promptBytes,
    aigcData: result.aigcData,
  }
  if (outDir === undefined) return item
  const { writeInferenceOutputs } = await import('../inference/writeInferenceOutputs.js')
  holdsSameInference(outDir, result.record.commitment)
  return {
    ...item,
    outDir: resolve(outDir),
    writeInference: () => {
      if (!holdsSameInference(outDir, result.record.commitment)) writeInferenceOutputs(result, outDir)
    },
  }
}

/** True when `dir` already holds this inference (a re-run); false when missing or empty; else an error. */
function holdsSameInference(dir: string, commitment: string): boolean {
  if (!existsSync(dir) || readdirSync(dir).length === 0) return false
  const recordPath = join(dir, 'record.json')
  if (existsSync(recordPath)) {
    try {
      if (readRecord(recordPath).commitment === commitment) return true
    } catch {
      // not a record: fall through to the error
    }
  }
  throw new UsageError(`output folder ${dir} already holds other files: choose another --out or remove it`)
}
