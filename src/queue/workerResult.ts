/**
 * A worker's answer to a job as it travels back through Redis, and its reading on the dispatcher's
 * side: everything here is untrusted input from a keyless process, read with a size cap before it is
 * read, never followed to another file, and checked against the bytes it names.
 *
 * What travels (`imo-worker-result-v2`):
 * - the job's BullMQ return value: the worker's inference record (a few KB) and who ran it. serve reads
 *   at most RESULT_JSON_LIMIT bytes of it.
 * - the outputs: their imo-tensor-v1 encoding (outputs.imt: 786 KB for the bundled cppn model, a few
 *   hundred bytes for a language model's token ids), from which serve re-makes the artifact itself.
 *   Up to REDIS_OUTPUTS_LIMIT (1 MiB) they go in their own Redis key, `outputsKey(job id, outputHash)`,
 *   not in the return value: BullMQ copies return values into its event stream, so a megabyte there
 *   costs Redis twice. Larger ones go to `--artifact-dir`, a folder the workers and the dispatcher
 *   share (NFS, a mounted bucket), as `<outputHash>.imt`. Both names are derived by serve from the job
 *   id and the record's outputHash: the worker names no key and no file of its choice.
 * No artifact travels: serve decodes it from the outputs with the model's own pipeline.
 */
import { join } from 'node:path'
import { UsageError } from '../errors.js'
import { type InferenceRecord, validateRecord } from '../inference/record.js'
import type { InferenceResult } from '../inference/runInference.js'
import { type Bytes32, sha256Hex } from '../tensor/encodeTensors.js'
import { readFileInFolder } from '../util/readRegularFile.js'
import { writeFileAtomic } from '../util/writeFileAtomic.js'
import { QUEUE_NAME, QUEUE_PREFIX } from './inferenceJob.js'

export const RESULT_FORMAT = 'imo-worker-result-v2'

/** Outputs encodings up to this many bytes travel through Redis; larger ones through --artifact-dir. */
export const REDIS_OUTPUTS_LIMIT = 1024 * 1024
/** The most bytes serve reads of an outputs file in --artifact-dir. */
export const FILE_OUTPUTS_LIMIT = 256 * 1024 * 1024
/** The most bytes serve reads of a job's return value (an honest one holds a record: 2-5 KB). */
export const RESULT_JSON_LIMIT = 256 * 1024
/** How long outputs wait in Redis for the dispatcher (it deletes them when it collects the job). */
export const OUTPUTS_TTL_S = 7 * 24 * 3600

/**
 * Who ran a job, as the worker says: `<host>:<pid>`. Self-declared (nothing in Redis proves it), so
 * serve never relies on it to decide whether a result is right; see quarantine.ts.
 */
export interface WorkerIdentity {
  id: string
  host: string
  pid: number
}

/** The return value of a completed job (JSON in Redis). */
export interface WorkerResultWire {
  format: typeof RESULT_FORMAT
  record: InferenceRecord
  /** Where the outputs' encoding is: its Redis key (outputsKey), or `<outputHash>.imt` in the artifact folder. */
  outputs: { in: 'redis' } | { in: 'file'; file: string }
  worker: WorkerIdentity
  /** Which run of the job this was: 1, then 2... after a failure (a stalled run is not counted). */
  attempt: number
}

/** A result as read and transport-checked by the dispatcher: the outputs hash to the record's outputHash. */
export interface ReceivedResult {
  record: InferenceRecord
  /** The outputs' imo-tensor-v1 encoding, as sent. */
  outputEncoding: Uint8Array
  worker: WorkerIdentity
  attempt: number
}

/**
 * Why a result was not used: a one-line reason. `forged`: the answer cannot come from an honest
 * worker (a check failed that an honest worker always passes): its worker is quarantined. Otherwise
 * the result was only unavailable (outputs expired, the shared folder not mounted here).
 */
export class WorkerResultError extends Error {
  override name = 'WorkerResultError'
  readonly forged: boolean
  constructor(message: string, options: { forged: boolean }) {
    super(message)
    this.forged = options.forged
  }
}

/**
 * A value a worker wrote, quoted for serve's one-line messages: JSON, with everything outside
 * printable ASCII escaped (control, C1 and bidi characters could otherwise rewrite the operator's
 * terminal), at most 120 characters.
 * @example
 * quoteUntrusted('image/png\u202e') // '"image/png\\u202e"'
 */
export function quoteUntrusted(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined'
  const quoted = text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  return quoted.length > 120 ? `${quoted.slice(0, 117)}...` : quoted
}

/**
 * The Redis key of a job's outputs (derived by the dispatcher, never read from the result).
 * @example
 * outputsKey('request-7', '0x3fa2…') // 'imo:inference:imo-outputs:request-7:3fa2…'
 */
export function outputsKey(jobId: string, outputHash: string): string {
  return `${QUEUE_PREFIX}:${QUEUE_NAME}:imo-outputs:${jobId}:${outputHash.replace(/^0x/, '')}`
}

/**
 * The file name of large outputs in the artifact folder: content-addressed.
 * @example
 * outputsFileName('0x3fa2…') // '3fa2….imt'
 */
export function outputsFileName(outputHash: string): string {
  return `${outputHash.replace(/^0x/, '')}.imt`
}

/**
 * Packs an inference for the return value: its record, and its outputs into Redis (up to 1 MiB) or
 * the shared artifact folder.
 * @param result - what runInference returned.
 * @param run - who ran it, the job, where outputs go.
 * @returns the wire value.
 * @throws WorkerResultError when the outputs are over 1 MiB and there is no artifact folder.
 * @example
 * const wire = await packWorkerResult(result, { worker, attempt: 1, jobId: job.id, storeOutputs: (key, bytes) => redis.set(key, bytes, 'EX', OUTPUTS_TTL_S) })
 */
export async function packWorkerResult(
  result: InferenceResult,
  run: {
    worker: WorkerIdentity
    attempt: number
    jobId: string
    /** Stores the outputs' bytes under a Redis key (SET with OUTPUTS_TTL_S). */
    storeOutputs(key: string, bytes: Uint8Array): Promise<unknown>
    /** The shared folder for outputs over the Redis limit (absolute), if any. */
    artifactDir?: string | undefined
  },
): Promise<WorkerResultWire> {
  const { worker, attempt, artifactDir } = run
  const bytes = result.outputEncoding
  const wire = (outputs: WorkerResultWire['outputs']): WorkerResultWire => ({
    format: RESULT_FORMAT,
    record: result.record,
    outputs,
    worker,
    attempt,
  })
  if (bytes.byteLength <= REDIS_OUTPUTS_LIMIT) {
    await run.storeOutputs(outputsKey(run.jobId, result.record.outputHash), bytes)
    return wire({ in: 'redis' })
  }
  if (!artifactDir)
    throw new WorkerResultError(
      `the outputs are ${bytes.byteLength} bytes, over the ${REDIS_OUTPUTS_LIMIT}-byte limit for Redis: start the workers with --artifact-dir on a folder the dispatcher reads too`,
      { forged: false },
    )
  const file = outputsFileName(result.record.outputHash)
  writeFileAtomic(join(artifactDir, file), bytes)
  return wire({ in: 'file', file })
}

/**
 * Reads a worker's return value on the dispatcher's side: the record is well formed, the worker's
 * name is a name, and the outputs are read from where serve itself says they are (a size-capped
 * Redis read, or a no-follow, non-blocking, size-capped read of a regular file in the artifact folder)
 * and hash to the record's outputHash. What they mean is checked by checkWorkerResult.ts.
 * @param wire - the job's return value, parsed.
 * @param jobId - the job it answers.
 * @param from - how to read a Redis key (at most `maxBytes`; undefined when missing) and the artifact folder.
 * @returns the record and the outputs' bytes.
 * @throws WorkerResultError naming the first problem.
 * @example
 * const received = await receiveWorkerResult(job.returnvalue, 'request-7', { readRedis, artifactDir: '/mnt/imo-artifacts' })
 * received.outputEncoding // the outputs.imt bytes
 */
export async function receiveWorkerResult(
  wire: unknown,
  jobId: string,
  from: { readRedis(key: string, maxBytes: number): Promise<Uint8Array | undefined>; artifactDir?: string | undefined },
): Promise<ReceivedResult> {
  const forged = (what: string): never => {
    throw new WorkerResultError(what, { forged: true })
  }
  const value = wire as Partial<WorkerResultWire> | null
  if (value?.format !== RESULT_FORMAT) forged(`the worker returned no ${RESULT_FORMAT}`)
  const worker = value!.worker
  if (
    typeof worker?.id !== 'string' ||
    !/^[\x21-\x7e]{1,200}$/.test(worker.id) ||
    typeof worker.host !== 'string' ||
    !Number.isSafeInteger(worker.pid)
  )
    forged('the worker result names no worker (an id of 1-200 visible ASCII characters, a host and a pid)')
  let record: InferenceRecord
  try {
    record = validateRecord(value!.record, 'the worker result')
  } catch (error) {
    return forged((error as Error).message)
  }
  const outputs = value!.outputs as Record<string, unknown> | undefined
  let bytes: Uint8Array | undefined
  if (outputs?.in === 'redis') {
    bytes = await from.readRedis(outputsKey(jobId, record.outputHash), REDIS_OUTPUTS_LIMIT)
    if (bytes === undefined || bytes.byteLength === 0)
      throw new WorkerResultError(`its outputs are not in Redis (${outputsKey(jobId, record.outputHash)})`, { forged: false })
    if (bytes.byteLength > REDIS_OUTPUTS_LIMIT) forged(`its outputs in Redis are over the ${REDIS_OUTPUTS_LIMIT}-byte limit`)
  } else if (outputs?.in === 'file') {
    const expected = outputsFileName(record.outputHash)
    if (outputs.file !== expected)
      forged(`it names the outputs file ${quoteUntrusted(outputs.file)}; outputs files are named ${expected}`)
    if (!from.artifactDir)
      throw new WorkerResultError(`its outputs are in the workers' --artifact-dir (${expected}); give serve the same folder`, {
        forged: false,
      })
    if (record.outputs.size > FILE_OUTPUTS_LIMIT)
      forged(`its outputs are ${record.outputs.size} bytes, over the ${FILE_OUTPUTS_LIMIT} bytes serve reads`)
    try {
      const file = readFileInFolder(from.artifactDir, expected, 'the outputs file', { maxBytes: record.outputs.size })
      bytes = new Uint8Array(file.buffer, file.byteOffset, file.byteLength)
    } catch (error) {
      if (!(error instanceof UsageError)) throw error
      const missing = (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
      throw new WorkerResultError(error.shortMessage, { forged: !missing })
    }
  } else forged('the worker result says nowhere serve reads its outputs from (Redis or --artifact-dir)')
  if (sha256Hex(bytes!) !== (record.outputHash as Bytes32)) forged('its outputs do not hash to its outputHash')
  return { record, outputEncoding: bytes!, worker: value!.worker!, attempt: Number(value!.attempt) || 1 }
}
