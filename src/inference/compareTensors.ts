import type { TensorSet, TensorValue } from '../tensor/dtypes.js'
import { compareUtf8 } from '../tensor/encodeTensors.js'
import { float16Value } from '../tensor/float16.js'

/** Where two tensor sets first differ. */
export interface TensorMismatch {
  tensor: string
  /** Flat (row-major) element index, when both tensors have the same type and shape. */
  index?: number
  expected: string
  actual: string
}

export interface TensorComparison {
  /** True when the sets are bit for bit identical (names, types, shapes, element bytes). */
  equal: boolean
  /** The largest |expected - actual| over float tensors of equal shape (NaN vs number counts as Infinity). */
  maxAbsDiff?: number
  firstMismatch?: TensorMismatch
}

/**
 * Compares two tensor sets bit for bit, and measures how far float outputs drifted when they differ
 * (what `imo verify` reports after a re-execution).
 * @param expected - the recorded tensors.
 * @param actual - the re-computed tensors.
 * @example
 * import { compareTensorSets } from './inference/compareTensors.js'
 * compareTensorSets({ y: { type: 'float32', dims: [1], data: new Float32Array([1]) } }, { y: { type: 'float32', dims: [1], data: new Float32Array([1.5]) } })
 * // { equal: false, maxAbsDiff: 0.5, firstMismatch: { tensor: 'y', index: 0, expected: '1', actual: '1.5' } }
 */
export function compareTensorSets(expected: TensorSet, actual: TensorSet): TensorComparison {
  const names = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort(compareUtf8)
  let firstMismatch: TensorMismatch | undefined
  let maxAbsDiff: number | undefined
  for (const name of names) {
    const a = expected[name]
    const b = actual[name]
    const mismatch = compareOne(name, a, b)
    if (!mismatch) continue
    firstMismatch ??= mismatch.first
    if (mismatch.maxAbsDiff !== undefined) maxAbsDiff = Math.max(maxAbsDiff ?? 0, mismatch.maxAbsDiff)
  }
  if (!firstMismatch) return { equal: true }
  return { equal: false, firstMismatch, ...(maxAbsDiff !== undefined ? { maxAbsDiff } : {}) }
}

function compareOne(
  name: string,
  a: TensorValue | undefined,
  b: TensorValue | undefined,
): { first: TensorMismatch; maxAbsDiff?: number } | undefined {
  const describe = (t: TensorValue | undefined) => (t ? `${t.type}[${t.dims.join(',')}]` : 'absent')
  if (!a || !b || a.type !== b.type || a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i]))
    return describe(a) === describe(b) ? undefined : { first: { tensor: name, expected: describe(a), actual: describe(b) } }
  const isFloat = a.type === 'float32' || a.type === 'float64' || a.type === 'float16'
  const value = (t: TensorValue, i: number): unknown =>
    t.type === 'float16' ? float16Value((t.data as Uint16Array)[i]!) : t.data[i]
  const bits = (t: TensorValue, i: number): unknown => t.data[i]
  let first: TensorMismatch | undefined
  let maxAbsDiff: number | undefined
  const floatBits = (t: TensorValue, i: number) => {
    if (t.type === 'float32')
      return new Uint32Array((t.data as Float32Array).buffer, (t.data as Float32Array).byteOffset, t.data.length)[i]
    if (t.type === 'float64')
      return new BigUint64Array((t.data as Float64Array).buffer, (t.data as Float64Array).byteOffset, t.data.length)[i]
    return bits(t, i)
  }
  for (let i = 0; i < a.data.length; i++) {
    const same = isFloat ? floatBits(a, i) === floatBits(b, i) : bits(a, i) === bits(b, i)
    if (same) continue
    first ??= { tensor: name, index: i, expected: String(value(a, i)), actual: String(value(b, i)) }
    if (isFloat) {
      const x = value(a, i) as number
      const y = value(b, i) as number
      const diff = Number.isNaN(x) && Number.isNaN(y) ? 0 : x === y ? 0 : Math.abs(x - y)
      maxAbsDiff = Math.max(maxAbsDiff ?? 0, Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff)
    } else break
  }
  if (!first) return undefined
  return { first, ...(maxAbsDiff !== undefined ? { maxAbsDiff } : {}) }
}
