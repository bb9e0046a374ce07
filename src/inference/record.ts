/**
 * The inference record, `record.json` in an output folder of `imo infer` (docs/formats.md section 6). Its
 * shape, `imo-inference-record-v1`, is stable; new optional fields may be added, existing ones never
 * change meaning. Every hash is `0x` + 64 lowercase hex digits. File names are relative to the
 * record's folder, so the folder can be moved or published as a whole.
 *
 * ```jsonc
 * {
 *   "format": "imo-inference-record-v1",
 *   "imoVersion": "0.1.0",
 *   "modelHash": "0x…",        // imo-model-v1 hash of the model (folder or .onnx + external data)
 *   "inputHash": "0x…",        // sha256 of inputs.imt (imo-tensor-v1)
 *   "outputHash": "0x…",       // sha256 of outputs.imt
 *   "configHash": "0x…",       // keccak256 of the canonical JSON of `config`
 *   "commitment": "0x…",       // keccak256(abi.encode(keccak256("imo.inference.v1"), modelHash, inputHash, outputHash, configHash))
 *   "config": { "onnxruntimeVersion": "1.30.0", "executionProvider": "cpu", "graphOptimizationLevel": "disabled",
 *               "intraOpNumThreads": 1, "interOpNumThreads": 1, "executionMode": "sequential" },
 *   "model": { "path": "models/cppn",  // as given on the command line
 *              "absolutePath": "/…/models/cppn", "onnxFile": "model.onnx", "pipeline": "imo.pipeline.mjs" | null },
 *   "prompt": "a red spiral" | null,   // null when inputs came from files
 *   "promptHash": "0x…",       // keccak256 of the ERC-7007 prompt bytes (prompt UTF-8, else inputs.imt)
 *   "aigcDataMode": "digest" | "inline",
 *   "aigcDataHash": "0x…",     // keccak256 of the ERC-7007 aigcData bytes (sha256 of the artifact, or the artifact)
 *   "inputs":  { "file": "inputs.imt",  "size": 123, "tensors": [{ "name": "z", "type": "float32", "dims": [1, 16] }] },
 *   "outputs": { "file": "outputs.imt", "size": 456, "tensors": [...], "json": "outputs.json",
 *                "npy": { "image": "image.npy" } },  // outputs too large for outputs.json, by name
 *   "artifact": { "file": "image.png" | "outputs.imt", "mime": "image/png", "sha256": "0x…", "size": 789 },
 *   "startedAt": "2025-…Z", "finishedAt": "2025-…Z", "durationMs": 42
 * }
 * ```
 * The ERC-7007 bytes follow from the files: prompt = UTF-8 of `prompt`, or the bytes of `inputs.file`;
 * aigcData = the 32 bytes of `artifact.sha256` (digest) or the bytes of `artifact.file` (inline).
 */
import { join, resolve } from 'node:path'
import { UsageError } from '../errors.js'
import { DTYPE_NAMES, isDType } from '../tensor/dtypes.js'
import type { Bytes32 } from '../tensor/encodeTensors.js'
import { parseJson } from '../util/parseJson.js'
import { isPlainFileName, readRegularFile } from '../util/readRegularFile.js'
import { GRAPH_OPTIMIZATION_LEVELS, type InferenceConfig } from './config.js'
import type { AigcDataMode } from './erc7007.js'

/** Re-exported where records are read: a record's file names must be plain (its folder only). */
export { isPlainFileName }

export const RECORD_FORMAT = 'imo-inference-record-v1'

export interface TensorSummary {
  name: string
  type: string
  dims: number[]
}

export interface InferenceRecord {
  format: typeof RECORD_FORMAT
  imoVersion: string
  modelHash: Bytes32
  inputHash: Bytes32
  outputHash: Bytes32
  configHash: Bytes32
  commitment: Bytes32
  config: InferenceConfig
  model: { path: string; absolutePath: string; onnxFile: string; pipeline: string | null }
  prompt: string | null
  promptHash: Bytes32
  aigcDataMode: AigcDataMode
  aigcDataHash: Bytes32
  inputs: { file: string; size: number; tensors: TensorSummary[] }
  outputs: { file: string; size: number; tensors: TensorSummary[]; json: string; npy: Record<string, string> }
  artifact: { file: string; mime: string; sha256: Bytes32; size: number }
  startedAt: string
  finishedAt: string
  durationMs: number
}

/**
 * The record.json a RECORD argument names: the file itself, or record.json inside the folder.
 * @example
 * recordJsonPath('out/3fa2b4c1d9e0') // '/…/out/3fa2b4c1d9e0/record.json'
 */
export function recordJsonPath(recordPath: string): string {
  return resolve(recordPath.endsWith('.json') ? recordPath : join(recordPath, 'record.json'))
}

/**
 * Reads and validates an inference record.
 * @param path - the record.json file.
 * @returns the record, typed.
 * @throws UsageError (one line, naming the first bad field) when the file is missing, not JSON, or
 *   not an `imo-inference-record-v1`.
 * @example
 * import { readRecord } from './inference/record.js'
 * const record = readRecord('out/3fa2b4c1d9e0/record.json')
 * record.commitment // '0x…'
 */
export function readRecord(path: string): InferenceRecord {
  const text = readRegularFile(path, 'inference record', { maxBytes: 16 * 1024 * 1024 }).toString('utf8')
  return validateRecord(parseJson(text, path, { expected: 'an inference record' }), path)
}

/**
 * Checks that a parsed value is an `imo-inference-record-v1`.
 * @param value - the parsed JSON.
 * @param what - the source's name for messages.
 * @returns the value, typed.
 * @throws UsageError naming the first field that is missing or malformed.
 * @example
 * validateRecord(JSON.parse(text), 'record.json').modelHash
 */
export function validateRecord(value: unknown, what: string): InferenceRecord {
  const bad = (field: string, expected: string): never => {
    throw new UsageError(`${what} is not a valid inference record: ${field} must be ${expected}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('the top level', 'an object')
  const r = value as Record<string, unknown>
  if (r.format !== RECORD_FORMAT) bad('format', `"${RECORD_FORMAT}"`)
  const hash = (object: Record<string, unknown>, key: string, prefix = '') => {
    if (typeof object[key] !== 'string' || !/^0x[0-9a-f]{64}$/.test(object[key] as string))
      bad(prefix + key, '0x + 64 lowercase hex digits')
  }
  const text = (object: Record<string, unknown>, key: string, prefix = '') => {
    if (typeof object[key] !== 'string') bad(prefix + key, 'a string')
  }
  const count = (object: Record<string, unknown>, key: string, prefix = '') => {
    const n = object[key]
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) bad(prefix + key, 'a whole number >= 0')
  }
  const object = (parent: Record<string, unknown>, key: string): Record<string, unknown> => {
    const child = parent[key]
    if (typeof child !== 'object' || child === null || Array.isArray(child)) return bad(key, 'an object')
    return child as Record<string, unknown>
  }
  text(r, 'imoVersion')
  for (const key of ['modelHash', 'inputHash', 'outputHash', 'configHash', 'commitment', 'promptHash', 'aigcDataHash'])
    hash(r, key)
  const config = object(r, 'config')
  text(config, 'onnxruntimeVersion', 'config.')
  if (config.executionProvider !== 'cpu') bad('config.executionProvider', '"cpu"')
  if (!GRAPH_OPTIMIZATION_LEVELS.includes(config.graphOptimizationLevel as never))
    bad('config.graphOptimizationLevel', GRAPH_OPTIMIZATION_LEVELS.join(' | '))
  for (const key of ['intraOpNumThreads', 'interOpNumThreads']) count(config, key, 'config.')
  if (config.executionMode !== 'sequential' && config.executionMode !== 'parallel')
    bad('config.executionMode', 'sequential | parallel')
  if (
    config.onnxFile !== undefined &&
    (typeof config.onnxFile !== 'string' ||
      !/\.onnx$/i.test(config.onnxFile) ||
      config.onnxFile.split('/').some((part) => part === '' || part === '.' || part === '..' || part.includes('\\')))
  )
    bad('config.onnxFile', "an ONNX file's relative path inside the model folder")
  const model = object(r, 'model')
  for (const key of ['path', 'absolutePath', 'onnxFile']) text(model, key, 'model.')
  if (model.pipeline !== null) text(model, 'pipeline', 'model.')
  if (r.prompt !== null && typeof r.prompt !== 'string') bad('prompt', 'a string or null')
  if (r.aigcDataMode !== 'digest' && r.aigcDataMode !== 'inline') bad('aigcDataMode', 'digest | inline')
  for (const key of ['inputs', 'outputs'] as const) {
    const files = object(r, key)
    text(files, 'file', `${key}.`)
    count(files, 'size', `${key}.`)
    if (!Array.isArray(files.tensors)) bad(`${key}.tensors`, 'an array')
    for (const tensor of files.tensors as unknown[]) {
      const t = tensor as Record<string, unknown> | null
      if (
        typeof t?.name !== 'string' ||
        !isDType(t.type) ||
        !Array.isArray(t.dims) ||
        !t.dims.every((d) => Number.isSafeInteger(d) && d >= 0)
      )
        bad(`${key}.tensors[]`, `{ name, type (${DTYPE_NAMES.join('|')}), dims }`)
    }
  }
  const outputs = object(r, 'outputs')
  text(outputs, 'json', 'outputs.')
  if (typeof outputs.npy !== 'object' || outputs.npy === null || !Object.values(outputs.npy).every((f) => typeof f === 'string'))
    bad('outputs.npy', 'an object of file names')
  const artifact = object(r, 'artifact')
  text(artifact, 'file', 'artifact.')
  text(artifact, 'mime', 'artifact.')
  hash(artifact, 'sha256', 'artifact.')
  count(artifact, 'size', 'artifact.')
  for (const key of ['startedAt', 'finishedAt']) text(r, key)
  count(r, 'durationMs')
  for (const [key, file] of [
    ['inputs.file', (r.inputs as Record<string, unknown>).file],
    ['outputs.file', outputs.file],
    ['outputs.json', outputs.json],
    ['artifact.file', artifact.file],
    ...Object.entries(outputs.npy as Record<string, string>).map(([name, f]) => [`outputs.npy.${name}`, f]),
  ] as const)
    if (!isPlainFileName(file as string)) bad(key, 'a plain file name inside the record folder')
  return value as InferenceRecord
}
