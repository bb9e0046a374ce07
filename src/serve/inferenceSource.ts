/**
 * "Get an inference result for a request" behind one small interface, so that `imo serve` does not
 * care where the model runs: in this process (createLocalInference, the default, one inference at a
 * time) or on BullMQ workers behind `--queue redis://…` (createQueueInference in queueInference.ts:
 * job id = request id, many jobs in flight). Whatever the source, the result is a MintItem: the record
 * and the bytes the chain gets, with the folder its files go to.
 */
import { join } from 'node:path'
import type { Hex } from 'viem'
import type { GenerationFlags } from '../generate/generationSettings.js'
import type { AigcDataMode } from '../inference/erc7007.js'
import type { InferenceResult } from '../inference/runInference.js'
import type { MintItem } from '../mint/mintRecords.js'
import { isOffChainRequest } from '../queue/inferenceJob.js'

/** One request's prompt to run the model on. */
export interface InferenceJob {
  requestId: bigint
  /** The prompt as UTF-8 text (requests with other bytes are skipped before they get here). */
  prompt: string
  promptHash: Hex
  /** The request's recipient (a queued job carries it along; the attestation is bound to it). */
  recipient?: Hex
  /** causal-lm generation flags of an off-chain call (max_tokens...); a chain request runs the model's own settings. */
  generation?: GenerationFlags
}

/**
 * infer() rejects with this when the job has used up its attempts and waits in the queue's failed set:
 * serve reports the request as failed but keeps it (and its cursor block) until a retry brings a result.
 */
export class ParkedInferenceError extends Error {
  override name = 'ParkedInferenceError'
}

/** The model's output for a job, ready for mintRecords (without its `request`, which serve adds). */
export interface InferenceOutcome {
  item: MintItem
  /** Time the model took (wall clock, this process or the worker). */
  inferenceMs: number
  /**
   * An off-chain call's whole inference (its answer shows token counts and the finish reason); its
   * files are not written (the caller gets the record in its answer).
   */
  result?: InferenceResult
}

/** What a source says of its own health (`health()`), read in the background by serve. */
export interface SourceHealth {
  /** It answered (a queue: Redis did). */
  reachable: boolean
  /** Jobs by state (a queue). */
  jobs?: Record<string, number>
  /** Workers connected (a queue). */
  workers?: number
  /** Connection and read failures so far. */
  errors: number
}

/** Where inference happens. */
export interface InferenceSource {
  /** The model hash every result is made with (checked against the collection at start). */
  readonly modelHash: Hex
  /** How many infer() calls serve may have running at once (default 1: the local source). */
  readonly capacity?: number
  /**
   * Registers the one listener for results that arrive when nobody waits for them (a job of the failed
   * set retried by the operator, `imo requests retry`): serve then re-checks that request and asks again.
   */
  onAvailable?(listener: (requestId: bigint) => void): void
  /** Runs (or obtains) the model's output on one job's prompt. */
  infer(job: InferenceJob): Promise<InferenceOutcome>
  /** Its health, for serve's metrics and /healthz (a queue: Redis, jobs, workers); absent in-process. */
  health?(): Promise<SourceHealth>
  /** Releases what the source holds. */
  close(): Promise<void>
}

/**
 * The folder of one request's inference files under serve's output folder: `<first 12 hex of the
 * commitment>-request-<id>`, one per request, so two requests never share a folder (nor a record.json
 * or mint.json), even with one commitment.
 * @example
 * requestOutDir('out', 7n, '0x3fa2b4c1d9e0…') // 'out/3fa2b4c1d9e0-request-7'
 */
export function requestOutDir(outRoot: string, requestId: bigint, commitment: string): string {
  return join(outRoot, `${commitment.slice(2, 14)}-request-${requestId}`)
}

export interface LocalInferenceOptions {
  modelPath: string
  /** Folder whose per-request subfolders (requestOutDir) receive each inference's files. */
  outRoot: string
  aigcDataMode?: AigcDataMode
}

/**
 * The in-process source: one cached onnxruntime session, the same path as `imo infer-and-mint --prompts`;
 * each inference's files are in its output folder when infer() resolves.
 * @example
 * import { createLocalInference } from './serve/inferenceSource.js'
 * const source = await createLocalInference({ modelPath: 'models/cppn', outRoot: 'out' })
 * const { item } = await source.infer({ requestId: 1n, prompt: 'a red spiral', promptHash })
 */
export async function createLocalInference(options: LocalInferenceOptions): Promise<InferenceSource> {
  const { loadModel } = await import('../inference/loadModel.js')
  const { runInference } = await import('../inference/runInference.js')
  const { toMintItem } = await import('../mint/inferAndMint.js')
  const model = await loadModel(options.modelPath)
  // One run at a time: the session is shared by serve's loop and the paid API.
  let tail: Promise<unknown> = Promise.resolve()
  const runOne = (job: InferenceJob): Promise<{ result: InferenceResult; inferenceMs: number }> => {
    const run = tail.then(async () => {
      const started = performance.now()
      const result = await runInference({
        modelPath: model,
        prompt: job.prompt,
        aigcDataMode: options.aigcDataMode ?? 'digest',
        ...(job.generation ? { generation: job.generation } : {}),
      })
      return { result, inferenceMs: performance.now() - started }
    })
    tail = run.catch(() => undefined)
    return run
  }
  return {
    modelHash: model.modelHash as Hex,
    async infer(job) {
      const { result, inferenceMs } = await runOne(job)
      if (isOffChainRequest(job.requestId)) return { item: await toMintItem(result, undefined), inferenceMs, result }
      // The inference's files are written now rather than just before the send (as infer-and-mint
      // does, to write nothing for a batch that fails its checks): the item waiting to be sent then
      // holds the record and the artifact only, not the output tensors (megabytes each).
      const { writeInference, ...item } = await toMintItem(
        result,
        requestOutDir(options.outRoot, job.requestId, result.record.commitment),
      )
      writeInference?.()
      return { item, inferenceMs }
    },
    async close() {},
  }
}
