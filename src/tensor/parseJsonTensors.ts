import { UsageError } from '../errors.js'
import { parseJson } from '../util/parseJson.js'
import type { TensorSet, TensorValue } from './dtypes.js'
import { toTensorValue } from './toTensorValue.js'

export interface ParseJsonTensorsOptions {
  /**
   * Loads a tensor that the JSON names by file instead of listing its data (`{"npy": "x.npy"}`, as
   * `outputs.json` does for large outputs). Without it such entries are errors.
   */
  loadNpy?: (file: string, name: string) => TensorValue
}

/**
 * Parses tensors written as JSON: `{"name": {"type": "float32", "dims": [1, 4], "data": [...]}}`
 * (docs/formats.md section 2). Types are onnxruntime's names (float32, float64, float16, int8/16/32/64,
 * uint8/16/32/64, bool, string); int64 values may be strings for precision.
 * @param text - the JSON text, or its bytes (then they must be valid UTF-8).
 * @param what - the source's name for messages (e.g. the file path).
 * @returns the tensors by name, checked and converted.
 * @throws UsageError for malformed JSON or UTF-8, numbers beyond float64 (1e400), unknown types,
 *   ragged arrays, wrong counts, lone surrogates or values out of range.
 * @example
 * import { parseJsonTensors } from './tensor/parseJsonTensors.js'
 * parseJsonTensors('{"x": {"type": "uint8", "dims": [2], "data": [1, 255]}}', 'in.json')
 * // { x: { type: 'uint8', dims: [2], data: Uint8Array [1, 255] } }
 */
export function parseJsonTensors(text: string | Uint8Array, what: string, options: ParseJsonTensorsOptions = {}): TensorSet {
  let source: string
  if (typeof text === 'string') source = text
  else {
    try {
      source = strictUtf8.decode(text)
    } catch {
      throw new UsageError(`${what} is not valid UTF-8 text`)
    }
  }
  const parsed = parseJson(source, what)
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new UsageError(
      `${what} must hold a JSON object of tensors by name, e.g. {"x": {"type": "float32", "dims": [1], "data": [0]}}`,
    )
  const set: TensorSet = {}
  for (const [name, spec] of Object.entries(parsed)) {
    if (name === '__proto__') throw new UsageError(`${what}: a tensor cannot be named "__proto__"`)
    const file = (spec as { npy?: unknown } | null)?.npy
    if (typeof file === 'string' && (spec as { data?: unknown }).data === undefined) {
      if (!options.loadNpy) throw new UsageError(`${what}: tensor "${name}" refers to ${file}, which cannot be loaded here`)
      set[name] = options.loadNpy(file, name)
    } else set[name] = toTensorValue(name, spec, what, { fromJson: true })
  }
  return set
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })
