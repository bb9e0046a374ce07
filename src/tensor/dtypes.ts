/**
 * The tensor element types imo handles: every type onnxruntime-node 1.30 feeds and fetches on the
 * CPU (its `Tensor.Type` names), with the ONNX `TensorProto.DataType` code that imo-tensor-v1 writes
 * (docs/formats.md section 2), the element size in bytes, the typed array the runtime holds them in, and the
 * NumPy `descr` used for `.npy` files.
 */

/** Element type names, as onnxruntime-node spells them. */
export type DType =
  | 'float32'
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'string'
  | 'bool'
  | 'float16'
  | 'float64'
  | 'uint32'
  | 'uint64'

/** The data of a tensor in the runtime's representation (float16 as its raw 16-bit patterns). */
export type TensorData =
  | Float32Array
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | string[]
  | Float64Array
  | Uint32Array
  | BigUint64Array

/**
 * One tensor: element type, dimensions and row-major data. The same shape as an onnxruntime
 * `Tensor`'s `{ type, dims, data }`, so either converts to the other without copying.
 */
export interface TensorValue {
  type: DType
  dims: readonly number[]
  data: TensorData
}

/** A named set of tensors (a model's feeds or its outputs). */
export type TensorSet = Record<string, TensorValue>

export interface DTypeInfo {
  /** ONNX TensorProto.DataType code, the byte imo-tensor-v1 writes. */
  code: number
  /** Bytes per element (0 for strings, which are variable length). */
  size: number
  /** NumPy descr in a .npy header, little-endian; undefined when .npy cannot hold it. */
  npy: string | undefined
  /** Smallest and largest value of an integer type. */
  range?: readonly [bigint, bigint]
}

/** The table behind every conversion. */
export const DTYPES: Readonly<Record<DType, DTypeInfo>> = {
  float32: { code: 1, size: 4, npy: '<f4' },
  uint8: { code: 2, size: 1, npy: '|u1', range: [0n, 255n] },
  int8: { code: 3, size: 1, npy: '|i1', range: [-128n, 127n] },
  uint16: { code: 4, size: 2, npy: '<u2', range: [0n, 65535n] },
  int16: { code: 5, size: 2, npy: '<i2', range: [-32768n, 32767n] },
  int32: { code: 6, size: 4, npy: '<i4', range: [-(2n ** 31n), 2n ** 31n - 1n] },
  int64: { code: 7, size: 8, npy: '<i8', range: [-(2n ** 63n), 2n ** 63n - 1n] },
  string: { code: 8, size: 0, npy: undefined },
  bool: { code: 9, size: 1, npy: '|b1', range: [0n, 1n] },
  float16: { code: 10, size: 2, npy: '<f2' },
  float64: { code: 11, size: 8, npy: '<f8' },
  uint32: { code: 12, size: 4, npy: '<u4', range: [0n, 2n ** 32n - 1n] },
  uint64: { code: 13, size: 8, npy: '<u8', range: [0n, 2n ** 64n - 1n] },
}

/** Every supported type name, in code order. */
export const DTYPE_NAMES = Object.keys(DTYPES) as DType[]

const byCode = new Map<number, DType>(DTYPE_NAMES.map((name) => [DTYPES[name].code, name]))

/**
 * The type name for an ONNX data type code, or undefined for codes imo does not handle.
 * @example
 * dtypeFromCode(7) // 'int64'
 */
export function dtypeFromCode(code: number): DType | undefined {
  return byCode.get(code)
}

/**
 * True when `name` is a supported element type name.
 * @example
 * isDType('float32') // true
 */
export function isDType(name: unknown): name is DType {
  return typeof name === 'string' && Object.hasOwn(DTYPES, name)
}

/**
 * A zero-filled array of `length` elements in the runtime's representation of `type`.
 * @example
 * allocateData('int64', 2) // BigInt64Array [0n, 0n]
 */
export function allocateData(type: DType, length: number): TensorData {
  switch (type) {
    case 'float32':
      return new Float32Array(length)
    case 'uint8':
    case 'bool':
      return new Uint8Array(length)
    case 'int8':
      return new Int8Array(length)
    case 'uint16':
    case 'float16':
      return new Uint16Array(length)
    case 'int16':
      return new Int16Array(length)
    case 'int32':
      return new Int32Array(length)
    case 'int64':
      return new BigInt64Array(length)
    case 'string':
      return new Array<string>(length).fill('')
    case 'float64':
      return new Float64Array(length)
    case 'uint32':
      return new Uint32Array(length)
    case 'uint64':
      return new BigUint64Array(length)
  }
}

/**
 * Wraps little-endian element bytes as the typed array of `type` (copying, so alignment is safe).
 * Not for strings.
 * @example
 * dataFromBytes('float32', new Uint8Array([0, 0, 128, 63])) // Float32Array [1]
 */
export function dataFromBytes(type: Exclude<DType, 'string'>, bytes: Uint8Array): Exclude<TensorData, string[]> {
  const size = DTYPES[type].size
  const copy = new Uint8Array(bytes.byteLength)
  copy.set(bytes)
  const length = bytes.byteLength / size
  const data = allocateData(type, 0) as Exclude<TensorData, string[]>
  const Constructor = data.constructor as new (buffer: ArrayBuffer, offset: number, length: number) => typeof data
  return new Constructor(copy.buffer, 0, length)
}

/**
 * The little-endian element bytes of non-string data, as a view (no copy). BOOL data is one byte
 * per element, 0 or 1, as onnxruntime holds it.
 * @example
 * bytesOfData(new Float32Array([1])) // Uint8Array [0, 0, 128, 63]
 */
export function bytesOfData(data: Exclude<TensorData, string[]>): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}

/**
 * The number of elements that `dims` describes (1 for rank 0).
 * @example
 * elementCount([2, 3]) // 6
 */
export function elementCount(dims: readonly number[]): number {
  let count = 1
  for (const dim of dims) count *= dim
  return count
}

/**
 * Describes a tensor in a short form for messages, e.g. `float32[1,4]`.
 * @example
 * describeTensor({ type: 'float32', dims: [1, 4] }) // 'float32[1,4]'
 */
export function describeTensor(tensor: { type: string; dims: readonly (number | string)[] }): string {
  return `${tensor.type}[${tensor.dims.join(',')}]`
}
