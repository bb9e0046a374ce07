/**
 * A worker's answer to a job, as it travels back through Redis (the job's BullMQ return value), and
 * its check on the dispatcher's side before anything is signed.
 *
 * Size limit: an artifact of up to INLINE_ARTIFACT_LIMIT bytes (1 MiB) travels inline, base64, in the
 * return value (BullMQ also copies the return value into its event stream, so large values cost Redis
 * memory twice). A larger artifact is written by the worker to `--artifact-dir`, a folder shared by
 * the workers and the dispatcher (NFS, a mounted bucket), content-addressed as `<sha256>.<ext>`, and
 * only its name and hash travel; a worker without `--artifact-dir` fails such a job with a message
 * saying so. The dispatcher re-checks every hash it can without re-running the model.
 */
import { readFileSync } from 'node:fs'
import { basename, isAbsolute, join } from 'node:path'
import { keccak256 } from 'viem'
import { computeCommitment } from '../inference/commitment.js'
import { computeConfigHash } from '../inference/config.js'
import { aigcDataBytes, erc7007PromptBytes } from '../inference/erc7007.js'
import { type InferenceRecord, validateRecord } from '../inference/record.js'
import type { InferenceResult } from '../inference/runInference.js'
import { sha256Hex } from '../tensor/encodeTensors.js'
import { writeFileAtomic } from '../util/writeFileAtomic.js'
import type { InferenceJobData } from './inferenceJob.js'

/** Artifacts up to this many bytes travel inline through Redis; larger ones through --artifact-dir. */
export const INLINE_ARTIFACT_LIMIT = 1024 * 1024

/** Who ran a job. */
export interface WorkerIdentity {
  /** `<host>:<pid>`. */
  id: string
  host: string
  pid: number
}

/** The return value of a completed job (JSON in Redis). */
export interface WorkerResultWire {
  format: 'imo-worker-result-v1'
  record: InferenceRecord
  /** The artifact: inline base64, or a file name in the shared artifact folder. */
  artifact: { base64: string } | { file: string }
  worker: WorkerIdentity
  /** Which run of the job this was: 1, then 2... after a failure (a stalled run is not counted). */
  attempt: number
}

/** A checked result, ready for a mint or fulfilment (the fields of mintRecords' MintItem). */
export interface WorkerOutput {
  requestId: string
  record: InferenceRecord
  artifactBytes: Uint8Array
  promptBytes: Uint8Array
  aigcData: Uint8Array
  worker: WorkerIdentity
}

/** Why a result was not accepted: a one-line reason. */
export class WorkerResultError extends Error {
  override name = 'WorkerResultError'
}

/**
 * Packs an inference for the return value: inline when small, else into the shared artifact folder.
 * @param result - what runInference returned.
 * @param run - who ran it, which attempt, and the shared folder for large artifacts (absolute), if any.
 * @returns the wire value.
 * @throws WorkerResultError when the artifact is too large and there is no artifact folder.
 * @example
 * packWorkerResult(await runInference({ modelPath: model, prompt }), { worker: identity, attempt: 1 })
 */
export function packWorkerResult(
  result: InferenceResult,
  run: { worker: WorkerIdentity; attempt: number; artifactDir?: string | undefined },
): WorkerResultWire {
  const { worker, attempt, artifactDir } = run
  const bytes = result.artifact.bytes
  if (bytes.byteLength <= INLINE_ARTIFACT_LIMIT) {
    const artifact = { base64: Buffer.from(bytes).toString('base64') }
    return { format: 'imo-worker-result-v1', record: result.record, artifact, worker, attempt }
  }
  if (!artifactDir)
    throw new WorkerResultError(
      `the artifact is ${bytes.byteLength} bytes, over the ${INLINE_ARTIFACT_LIMIT}-byte limit for Redis: start the workers with --artifact-dir on a folder the dispatcher reads too`,
    )
  const extension = result.artifact.file.includes('.') ? result.artifact.file.slice(result.artifact.file.lastIndexOf('.')) : ''
  const file = `${result.record.artifact.sha256.slice(2)}${extension}`
  writeFileAtomic(join(artifactDir, file), bytes)
  return { format: 'imo-worker-result-v1', record: result.record, artifact: { file }, worker, attempt }
}

/**
 * Checks a worker's return value against the job it answers and turns it into bytes ready to sign:
 * the record is well formed, for the job's model and prompt; the artifact's SHA-256 and size, the
 * prompt and aigcData hashes, the config hash and the commitment are all recomputed here. (Whether
 * the output is what the model computes needs a re-execution: `imo verify` does that.)
 * @param wire - the job's return value.
 * @param job - the job's data.
 * @param artifactDir - the shared artifact folder, for results that name a file.
 * @returns the checked output.
 * @throws WorkerResultError naming the first check that failed.
 * @example
 * const output = checkWorkerResult(job.returnvalue, job.data, '/mnt/imo-artifacts')
 * output.aigcData // 32 bytes: the artifact's SHA-256
 */
export function checkWorkerResult(wire: unknown, job: InferenceJobData, artifactDir?: string): WorkerOutput {
  const value = wire as Partial<WorkerResultWire> | null
  if (value?.format !== 'imo-worker-result-v1') throw new WorkerResultError('the worker returned no imo-worker-result-v1')
  let record: InferenceRecord
  try {
    record = validateRecord(value.record, 'the worker result')
  } catch (error) {
    throw new WorkerResultError((error as Error).message)
  }
  const fail = (what: string): never => {
    throw new WorkerResultError(`the worker result does not check: ${what}`)
  }
  if (record.modelHash.toLowerCase() !== job.modelHash.toLowerCase())
    fail(`model ${record.modelHash} is not the job's ${job.modelHash}`)
  if (record.prompt !== job.prompt) fail('its prompt is not the job prompt')
  if (record.aigcDataMode !== job.aigcDataMode) fail(`aigcData mode ${record.aigcDataMode} is not the job's ${job.aigcDataMode}`)
  const artifactBytes = readArtifact(value.artifact, artifactDir)
  if (artifactBytes.byteLength !== record.artifact.size || sha256Hex(artifactBytes) !== record.artifact.sha256)
    fail("the artifact's SHA-256 or size is not the record's")
  const promptBytes = erc7007PromptBytes({ prompt: job.prompt, inputEncoding: new Uint8Array() })
  if (keccak256(promptBytes) !== record.promptHash) fail('promptHash')
  const aigcData = aigcDataBytes(artifactBytes, record.aigcDataMode)
  if (keccak256(aigcData) !== record.aigcDataHash) fail('aigcDataHash')
  if (computeConfigHash(record.config) !== record.configHash) fail('configHash')
  if (computeCommitment(record) !== record.commitment) fail('commitment')
  const worker = value.worker ?? { id: 'unknown', host: 'unknown', pid: 0 }
  return { requestId: job.requestId, record, artifactBytes, promptBytes, aigcData, worker }
}

function readArtifact(artifact: WorkerResultWire['artifact'] | undefined, artifactDir?: string): Uint8Array {
  if (artifact && 'base64' in artifact && typeof artifact.base64 === 'string')
    return new Uint8Array(Buffer.from(artifact.base64, 'base64'))
  if (artifact && 'file' in artifact && typeof artifact.file === 'string') {
    if (basename(artifact.file) !== artifact.file || isAbsolute(artifact.file))
      throw new WorkerResultError(`the worker named an artifact outside the artifact folder: ${artifact.file}`)
    if (!artifactDir)
      throw new WorkerResultError(
        `the artifact ${artifact.file} is in the workers' --artifact-dir; give the dispatcher the same folder`,
      )
    try {
      return new Uint8Array(readFileSync(join(artifactDir, artifact.file)))
    } catch (error) {
      throw new WorkerResultError(
        `cannot read the artifact ${join(artifactDir, artifact.file)}: ${(error as NodeJS.ErrnoException).code}`,
      )
    }
  }
  throw new WorkerResultError('the worker result holds no artifact')
}
