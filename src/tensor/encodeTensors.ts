/**
 * imo-tensor-v1 (docs/formats.md section 2): the byte encoding of a named set of tensors that inputHash and
 * outputHash are computed over.
 *
 *   "IMT1" | u32 count | for each tensor, sorted by the UTF-8 bytes of its name:
 *     u32 nameLength | name | u8 dtype code | u32 rank | rank x u64 dims | u64 dataLength | data
 *
 * All integers little-endian. Data is the row-major little-endian element bytes as the runtime holds
 * them (NaN payloads kept as they are); BOOL one byte 0/1; STRING each element u32 length + UTF-8.
 */
import { createHash } from 'node:crypto'
import { endianness } from 'node:os'
import { ImoError, UsageError } from '../errors.js'
import { bytesOfData, DTYPES, elementCount, type TensorData, type TensorSet } from './dtypes.js'

/** The 4 magic bytes that open an encoding. */
export const TENSOR_MAGIC = 'IMT1'

/** A `0x`-prefixed 32-byte hex string. */
export type Bytes32 = `0x${string}`

/**
 * Compares two strings by their UTF-8 bytes (not by UTF-16 code units, which differ for characters
 * outside the Basic Multilingual Plane).
 * @example
 * ['b', 'a'].sort(compareUtf8) // ['a', 'b']
 */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/**
 * Encodes a named set of tensors as imo-tensor-v1.
 * @param set - tensors by name; each `{ type, dims, data }` (onnxruntime `Tensor`s qualify).
 * @returns the encoding's bytes.
 * @example
 * import { encodeTensors } from './tensor/encodeTensors.js'
 * encodeTensors({ x: { type: 'float32', dims: [1], data: new Float32Array([1]) } })
 * // Uint8Array [0x49,0x4d,0x54,0x31, 1,0,0,0, 1,0,0,0, 0x78, 1, 1,0,0,0, 1,0,0,0,0,0,0,0, 4,0,0,0,0,0,0,0, 0,0,0x80,0x3f]
 */
export function encodeTensors(set: TensorSet): Uint8Array {
  if (endianness() !== 'LE') throw new ImoError('imo-tensor-v1 needs a little-endian machine')
  const names = Object.keys(set).sort(compareUtf8)
  const parts: Uint8Array[] = [Buffer.from(TENSOR_MAGIC, 'latin1'), u32(names.length)]
  for (const name of names) {
    const tensor = set[name]!
    const info = DTYPES[tensor.type]
    if (!info) throw new UsageError(`tensor "${name}" has an unsupported type: ${String(tensor.type)}`)
    const count = elementCount(tensor.dims)
    if (tensor.data.length !== count)
      throw new UsageError(`tensor "${name}" has ${tensor.data.length} values but dims [${tensor.dims.join(', ')}] need ${count}`)
    const nameBytes = Buffer.from(name, 'utf8')
    parts.push(u32(nameBytes.length), nameBytes, Uint8Array.of(info.code), u32(tensor.dims.length))
    for (const dim of tensor.dims) parts.push(u64(dim))
    const data = dataBytes(tensor.type === 'string', tensor.data)
    if (tensor.type === 'bool' && data.some((byte) => byte > 1))
      throw new UsageError(`tensor "${name}" is bool but holds a byte other than 0 or 1`)
    parts.push(u64(data.byteLength), data)
  }
  return Buffer.concat(parts)
}

/**
 * The imo-tensor-v1 hash: SHA-256 of the encoding, as `0x` + 64 hex digits (a bytes32).
 * @param setOrEncoding - a tensor set, or its encoding already made.
 * @example
 * import { tensorHash } from './tensor/encodeTensors.js'
 * tensorHash({}) // sha256("IMT1" + u32 0) = '0x…'
 */
export function tensorHash(setOrEncoding: TensorSet | Uint8Array): Bytes32 {
  const bytes = setOrEncoding instanceof Uint8Array ? setOrEncoding : encodeTensors(setOrEncoding)
  return sha256Hex(bytes)
}

/**
 * SHA-256 of bytes as a `0x`-prefixed bytes32 hex string.
 * @example
 * sha256Hex(new Uint8Array()) // '0xe3b0c442…'
 */
export function sha256Hex(bytes: Uint8Array): Bytes32 {
  return `0x${createHash('sha256').update(bytes).digest('hex')}`
}

function dataBytes(isString: boolean, data: TensorData): Uint8Array {
  if (!isString) return bytesOfData(data as Exclude<TensorData, string[]>)
  const parts: Uint8Array[] = []
  for (const element of data as string[]) {
    const bytes = Buffer.from(element, 'utf8')
    parts.push(u32(bytes.length), bytes)
  }
  return Buffer.concat(parts)
}

function u32(value: number): Uint8Array {
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32LE(value)
  return bytes
}

function u64(value: number): Uint8Array {
  const bytes = Buffer.alloc(8)
  bytes.writeBigUInt64LE(BigInt(value))
  return bytes
}
