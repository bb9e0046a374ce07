import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { keccak256 } from 'viem'
import { UsageError, VerificationFailedError } from '../errors.js'
import { sha256Hex } from '../tensor/encodeTensors.js'
import { aigcDataBytes, erc7007PromptBytes } from './erc7007.js'
import { type InferenceRecord, readRecord } from './record.js'

/** A record with the bytes an ERC-7007 mint sends, read from its folder and checked. */
export interface RecordPayload {
  record: InferenceRecord
  /** Absolute folder of record.json. */
  dir: string
  inputEncoding: Uint8Array
  artifactBytes: Uint8Array
  /** ERC-7007 `prompt` bytes. */
  promptBytes: Uint8Array
  /** ERC-7007 `aigcData` bytes, in the record's aigcData mode. */
  aigcData: Uint8Array
}

/**
 * Reads an inference record and the files beside it, and checks that they still match the record:
 * the inputs' SHA-256 is inputHash, the artifact's SHA-256 and size are as recorded, and the
 * prompt and aigcData bytes hash to promptHash and aigcDataHash. `imo mint` sends exactly these bytes.
 * @param recordPath - record.json, or the folder holding it.
 * @returns the record, its folder and the ERC-7007 bytes.
 * @throws UsageError for a malformed record or a missing file; VerificationFailedError when a file no
 *   longer matches its recorded hash.
 * @example
 * import { readRecordPayload } from './inference/readRecordPayload.js'
 * const { record, promptBytes, aigcData } = readRecordPayload('out/3fa2b4c1d9e0')
 */
export function readRecordPayload(recordPath: string): RecordPayload {
  const file = recordPath.endsWith('.json') ? recordPath : join(recordPath, 'record.json')
  const record = readRecord(file)
  const dir = dirname(resolve(file))
  const read = (name: string) => {
    try {
      return new Uint8Array(readFileSync(join(dir, name)))
    } catch {
      throw new UsageError(`the record's file ${name} is missing from ${dir}`)
    }
  }
  const inputEncoding = read(record.inputs.file)
  if (sha256Hex(inputEncoding) !== record.inputHash)
    throw new VerificationFailedError(`${record.inputs.file} does not match the record's inputHash`)
  const artifactBytes = read(record.artifact.file)
  if (sha256Hex(artifactBytes) !== record.artifact.sha256 || artifactBytes.byteLength !== record.artifact.size)
    throw new VerificationFailedError(`${record.artifact.file} does not match the record's artifact.sha256`)
  const promptBytes = erc7007PromptBytes({ prompt: record.prompt, inputEncoding })
  if (keccak256(promptBytes) !== record.promptHash)
    throw new VerificationFailedError("the record's promptHash does not match its prompt")
  const aigcData = aigcDataBytes(artifactBytes, record.aigcDataMode)
  if (keccak256(aigcData) !== record.aigcDataHash)
    throw new VerificationFailedError("the record's aigcDataHash does not match its artifact")
  return { record, dir, inputEncoding, artifactBytes, promptBytes, aigcData }
}
