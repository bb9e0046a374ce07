import { UsageError } from '../errors.js'
import {
  allocateData,
  DTYPE_NAMES,
  DTYPES,
  type DType,
  elementCount,
  isDType,
  type TensorData,
  type TensorValue,
} from './dtypes.js'
import { float16Bits } from './float16.js'

/** A tensor as people and pipelines write it: plain arrays (nested or flat) or typed arrays. */
export interface TensorSpec {
  type: string
  dims: readonly (number | bigint)[]
  data: unknown
}

const runtimeClass: Record<DType, unknown> = {
  float32: Float32Array,
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  string: Array,
  bool: Uint8Array,
  float16: Uint16Array,
  float64: Float64Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
}

/**
 * Checks and converts a tensor written as `{ type, dims, data }` into the runtime's representation.
 * `data` is a flat or nested array of numbers (int64/uint64 also as decimal strings or bigints, bool
 * as true/false or 0/1, floats also as "NaN", "Infinity", "-Infinity"; float16 as numbers, converted)
 * or already the runtime's typed array (float16 then as raw bit patterns). Every value is range
 * checked: 300 for uint8 or 1.5 for int32 is an error, never a silent wrap.
 * @param name - the tensor's name, for messages.
 * @param spec - the tensor as written.
 * @param what - where it came from, for messages (e.g. `inputs.json`).
 * @param options - `fromJson`: the data was parsed from JSON, so a non-finite number is a literal
 *   beyond float64 (1e400) and refused.
 * @returns the tensor ready for the runtime and for imo-tensor-v1.
 * @throws UsageError naming the tensor, the index and the reason.
 * @example
 * import { toTensorValue } from './tensor/toTensorValue.js'
 * toTensorValue('x', { type: 'int64', dims: [2], data: ['9007199254740993', 2] })
 * // { type: 'int64', dims: [2], data: BigInt64Array [9007199254740993n, 2n] }
 */
export function toTensorValue(name: string, spec: unknown, what = 'input', options: { fromJson?: boolean } = {}): TensorValue {
  const where = `${what}: tensor "${name}"`
  const finite = options.fromJson === true
  if (loneSurrogate.test(name)) throw new UsageError(`${what}: a tensor name holds a lone UTF-16 surrogate (not valid Unicode)`)
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec))
    throw new UsageError(`${where} must be an object { "type", "dims", "data" }`)
  const { type, dims, data } = spec as Partial<TensorSpec>
  if (!isDType(type)) throw new UsageError(`${where} has type ${JSON.stringify(type)}; expected one of ${DTYPE_NAMES.join(', ')}`)
  if (!Array.isArray(dims) && !isArrayLike(dims)) throw new UsageError(`${where} needs "dims", an array of sizes`)
  const shape = Array.from(dims as ArrayLike<unknown>, (dim) => {
    const size = typeof dim === 'bigint' ? Number(dim) : dim
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
      throw new UsageError(`${where} has dims ${JSON.stringify(dims, bigintReplacer)}; each must be a whole number >= 0`)
    return size
  })
  const count = elementCount(shape)
  if (data instanceof (runtimeClass[type] as typeof Uint8Array) && type !== 'string' && type !== 'bool') {
    const typed = data as unknown as TensorData
    if (typed.length !== count)
      throw new UsageError(`${where} has ${typed.length} values but dims [${shape.join(', ')}] need ${count}`)
    return { type, dims: shape, data: typed }
  }
  const values = flatten(data, shape, where)
  if (values.length !== count)
    throw new UsageError(`${where} has ${values.length} values but dims [${shape.join(', ')}] need ${count}`)
  const out = allocateData(type, count)
  for (let index = 0; index < count; index++) (out as unknown[])[index] = convert(type, values[index], where, index, finite)
  return { type, dims: shape, data: out }
}

/**
 * One element converted and range checked; `finite` refuses a non-finite number (JSON has no
 * Infinity, so one there is a literal out of range such as 1e400). The message's place
 * (`where, value index`) is only built on error: a tensor can have millions of elements.
 */
function convert(type: DType, value: unknown, where: string, index: number, finite: boolean): unknown {
  const shown = () => (typeof value === 'string' ? JSON.stringify(value) : String(value))
  switch (type) {
    case 'string':
      if (typeof value !== 'string') throw new UsageError(`${where}, value ${index} (${shown()}) is not a string`)
      if (loneSurrogate.test(value))
        throw new UsageError(`${where}, value ${index} holds a lone UTF-16 surrogate, which is not valid Unicode text`)
      return value
    case 'bool':
      if (value === true || value === 1) return 1
      if (value === false || value === 0) return 0
      throw new UsageError(`${where}, value ${index} (${shown()}) is not a bool (true, false, 1 or 0)`)
    case 'float32':
    case 'float64':
    case 'float16': {
      const number = floatOf(value)
      if (number === undefined) throw new UsageError(`${where}, value ${index} (${shown()}) is not a number`)
      if (finite && typeof value === 'number' && !Number.isFinite(value))
        throw new UsageError(`${where}, value ${index} is beyond the range of a 64-bit float (such as 1e400)`, {
          hint: 'write "Infinity" or "-Infinity" (as strings) if that is what you mean',
        })
      if (type === 'float64') return number
      const rounded = type === 'float32' ? Math.fround(number) : float16Bits(number)
      const overflowed = type === 'float32' ? !Number.isFinite(rounded as number) : ((rounded as number) & 0x7fff) === 0x7c00
      if (Number.isFinite(number) && overflowed)
        throw new UsageError(`${where}, value ${index} (${shown()}) is out of range for ${type}`)
      return rounded
    }
    default: {
      const [min, max] = DTYPES[type].range!
      const integer = integerOf(value)
      if (integer === undefined) {
        if (typeof value === 'number' && Number.isInteger(value))
          throw new UsageError(
            `${where}, value ${index} (${shown()}) cannot be held exactly by a JSON number; give it as a string`,
          )
        throw new UsageError(`${where}, value ${index} (${shown()}) is not a whole number, as ${type} needs`)
      }
      if (integer < min || integer > max)
        throw new UsageError(`${where}, value ${index} (${shown()}) is out of range for ${type} (${min}..${max})`)
      return type === 'int64' || type === 'uint64' ? integer : Number(integer)
    }
  }
}

function floatOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value
  if (value === 'NaN') return Number.NaN
  if (value === 'Infinity') return Number.POSITIVE_INFINITY
  if (value === '-Infinity') return Number.NEGATIVE_INFINITY
  return undefined
}

function integerOf(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : undefined
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value)
  return undefined
}

/** A lone UTF-16 surrogate: text that has no UTF-8 encoding (it would silently become U+FFFD). */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

const isList = (value: unknown): value is ArrayLike<unknown> => Array.isArray(value) || isArrayLike(value)

/**
 * The values of `data` in row-major order: a scalar, a flat list (its count is checked by the caller),
 * or nested lists that must match `shape` exactly at every level (a ragged array is refused even when
 * its element count happens to match). Nesting deeper than the shape is refused without recursing.
 */
function flatten(data: unknown, shape: readonly number[], where: string): unknown[] {
  if (data === undefined) throw new UsageError(`${where} needs "data"`)
  if (!isList(data)) return [data]
  if (Array.isArray(data) && !data.some(isList)) return data
  const top = Array.from(data)
  if (!top.some(isList)) return top
  const out: unknown[] = []
  const dims = `[${shape.join(', ')}]`
  const walk = (value: unknown, depth: number, path: string) => {
    if (depth === shape.length) {
      if (isList(value)) throw new UsageError(`${where} is ragged: ${path} is a list, deeper than dims ${dims}`)
      out.push(value)
      return
    }
    if (!isList(value))
      throw new UsageError(`${where} is ragged: ${path} is a single value where dims ${dims} need a list of ${shape[depth]}`)
    if (value.length !== shape[depth])
      throw new UsageError(`${where} is ragged: ${path} has ${value.length} entries where dims ${dims} need ${shape[depth]}`)
    for (let index = 0; index < value.length; index++) walk(value[index], depth + 1, `${path}[${index}]`)
  }
  walk(data, 0, 'data')
  return out
}

function isArrayLike(value: unknown): boolean {
  return ArrayBuffer.isView(value) && !(value instanceof DataView)
}

function bigintReplacer(_key: string, value: unknown) {
  return typeof value === 'bigint' ? value.toString() : value
}
