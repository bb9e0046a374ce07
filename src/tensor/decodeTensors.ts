import { UsageError } from '../errors.js'
import { DTYPES, type DType, dataFromBytes, dtypeFromCode, elementCount, type TensorSet } from './dtypes.js'
import { compareUtf8, TENSOR_MAGIC } from './encodeTensors.js'

/**
 * Decodes an imo-tensor-v1 encoding (docs/formats.md section 2) back into tensors, strictly: the magic, the
 * order of names, every length and the absence of trailing bytes are checked, so a decoded set
 * re-encodes to exactly the same bytes.
 * @param bytes - the encoding (e.g. the content of `inputs.imt`).
 * @param what - how to name the source in errors, e.g. a file path.
 * @returns the tensors by name; float16 as raw 16-bit patterns, bool as bytes 0/1.
 * @throws UsageError when the bytes are not a valid encoding.
 * @example
 * import { decodeTensors } from './tensor/decodeTensors.js'
 * import { encodeTensors } from './tensor/encodeTensors.js'
 * decodeTensors(encodeTensors({ n: { type: 'int64', dims: [], data: new BigInt64Array([7n]) } }))
 * // { n: { type: 'int64', dims: [], data: BigInt64Array [7n] } }
 */
export function decodeTensors(bytes: Uint8Array, what = 'tensor encoding'): TensorSet {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let offset = 0
  const fail = (reason: string): never => {
    throw new UsageError(`${what} is not valid imo-tensor-v1: ${reason} (at byte ${offset})`)
  }
  const need = (length: number) => {
    if (offset + length > buffer.length) fail('truncated')
  }
  const u32 = () => {
    need(4)
    const value = buffer.readUInt32LE(offset)
    offset += 4
    return value
  }
  const u64 = () => {
    need(8)
    const value = buffer.readBigUInt64LE(offset)
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) fail('a length or dimension is too large')
    offset += 8
    return Number(value)
  }
  const take = (length: number) => {
    need(length)
    const slice = buffer.subarray(offset, offset + length)
    offset += length
    return slice
  }

  need(4)
  if (buffer.toString('latin1', 0, 4) !== TENSOR_MAGIC) fail(`it does not start with ${TENSOR_MAGIC}`)
  offset = 4
  const count = u32()
  const set: TensorSet = {}
  let previous: string | undefined
  for (let index = 0; index < count; index++) {
    const nameBytes = take(u32())
    const name = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(nameBytes)
    if (previous !== undefined && compareUtf8(previous, name) >= 0) fail('names are not sorted and unique')
    previous = name
    const code = take(1)[0]!
    const type = dtypeFromCode(code) ?? fail(`unknown data type code ${code}`)
    const rank = u32()
    const dims: number[] = []
    for (let axis = 0; axis < rank; axis++) dims.push(u64())
    const data = take(u64())
    set[name] = { type: type as DType, dims, data: decodeData(type as DType, dims, data, fail) }
  }
  if (offset !== buffer.length) fail('trailing bytes after the last tensor')
  return set
}

function decodeData(type: DType, dims: number[], bytes: Buffer, fail: (reason: string) => never) {
  const count = elementCount(dims)
  if (type === 'string') {
    const strings: string[] = []
    let offset = 0
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
    while (offset < bytes.length) {
      if (offset + 4 > bytes.length) fail('truncated string element')
      const length = bytes.readUInt32LE(offset)
      offset += 4
      if (offset + length > bytes.length) fail('truncated string element')
      strings.push(decoder.decode(bytes.subarray(offset, offset + length)))
      offset += length
    }
    if (strings.length !== count) fail(`string tensor holds ${strings.length} elements, dims need ${count}`)
    return strings
  }
  if (bytes.length !== count * DTYPES[type].size)
    fail(`${type} data is ${bytes.length} bytes, dims [${dims.join(', ')}] need ${count} elements`)
  const data = dataFromBytes(type, bytes)
  if (type === 'bool' && (data as Uint8Array).some((byte) => byte > 1)) fail('a bool element is not 0 or 1')
  return data
}
