/**
 * NumPy `.npy` files (format versions 1.0, 2.0 and 3.0) for tensor inputs and outputs. Numeric and
 * bool arrays in either byte order, and unicode string arrays (`<U`, as string tensors); object
 * arrays (pickles), structured dtypes and Fortran order are refused.
 */
import { UsageError } from '../errors.js'
import { bytesOfData, DTYPES, type DType, dataFromBytes, elementCount, type TensorData, type TensorValue } from './dtypes.js'
import { type NpyHeader, parseNpyHeader } from './parseNpyHeader.js'

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]) // \x93NUMPY

const byDescr = new Map<string, DType>()
for (const [type, info] of Object.entries(DTYPES)) if (info.npy) byDescr.set(info.npy.slice(1), type as DType)
byDescr.set('?', 'bool')

/**
 * Reads a `.npy` file's bytes as a tensor.
 * @param bytes - the file's content.
 * @param what - the file's name for messages.
 * @returns the tensor (float16 as raw bit patterns, `<U` arrays as string tensors).
 * @throws UsageError when the file is not a `.npy` imo can read.
 * @example
 * import { readNpy, writeNpy } from './tensor/npy.js'
 * readNpy(writeNpy({ type: 'float32', dims: [2], data: new Float32Array([1, 2]) }), 'x.npy')
 * // { type: 'float32', dims: [2], data: Float32Array [1, 2] }
 */
export function readNpy(bytes: Uint8Array, what: string): TensorValue {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const fail = (reason: string): never => {
    throw new UsageError(`${what} is not a usable .npy file: ${reason}`)
  }
  if (buffer.length < 10 || !buffer.subarray(0, 6).equals(MAGIC)) fail('it does not start with \\x93NUMPY')
  const major = buffer[6]!
  let headerLength: number
  let headerStart: number
  if (major === 1) {
    headerLength = buffer.readUInt16LE(8)
    headerStart = 10
  } else if (major === 2 || major === 3) {
    if (buffer.length < 12) fail('truncated header')
    headerLength = buffer.readUInt32LE(8)
    headerStart = 12
  } else return fail(`unknown format version ${major}`)
  if (headerStart + headerLength > buffer.length) fail('truncated header')
  const header = buffer.toString(major === 3 ? 'utf8' : 'latin1', headerStart, headerStart + headerLength)
  let parsed: NpyHeader
  try {
    parsed = parseNpyHeader(header)
  } catch (error) {
    return fail((error as Error).message)
  }
  const { descr, shape: dims } = parsed
  if (parsed.fortranOrder) fail('Fortran (column-major) order is not supported; save it with np.ascontiguousarray first')
  const data = buffer.subarray(headerStart + headerLength)
  const count = elementCount(dims)
  const order = descr[0]
  const code = '<>|='.includes(order ?? '') ? descr.slice(1) : descr
  const bigEndian = order === '>'

  const unicode = /^U(\d+)$/.exec(code)
  if (unicode) {
    const width = Number(unicode[1]) * 4
    if (data.length !== count * width)
      fail(`data is ${data.length} bytes, shape (${dims.join(', ')}) of ${descr} needs ${count * width}`)
    const strings: string[] = []
    for (let index = 0; index < count; index++) {
      const chars: number[] = []
      for (let at = index * width; at < (index + 1) * width; at += 4) {
        const point = bigEndian ? data.readUInt32BE(at) : data.readUInt32LE(at)
        if (point === 0) break
        if (point > 0x10ffff) fail('invalid unicode code point')
        chars.push(point)
      }
      strings.push(String.fromCodePoint(...chars))
    }
    return { type: 'string', dims, data: strings }
  }
  const type = byDescr.get(code) ?? fail(`dtype '${descr}' is not supported (object and structured arrays never are)`)
  if (type === 'string') return fail('unreachable')
  const size = DTYPES[type].size
  if (data.length !== count * size)
    fail(`data is ${data.length} bytes, shape (${dims.join(', ')}) of ${descr} needs ${count * size}`)
  const copy = Buffer.from(data)
  if (bigEndian && size > 1) {
    if (size === 2) copy.swap16()
    else if (size === 4) copy.swap32()
    else copy.swap64()
  }
  const values = dataFromBytes(type, copy)
  if (type === 'bool' && (values as Uint8Array).some((byte) => byte > 1)) fail('a bool element is not 0 or 1')
  return { type, dims, data: values }
}

/**
 * Writes a tensor as a `.npy` file (format 1.0, C order, little-endian; strings as `<U`).
 * @param tensor - the tensor.
 * @returns the file's bytes.
 * @example
 * import { writeNpy } from './tensor/npy.js'
 * writeNpy({ type: 'uint8', dims: [3], data: new Uint8Array([1, 2, 3]) }) // "\x93NUMPY\x01\x00v\x00{'descr': '|u1', ..."
 */
export function writeNpy(tensor: TensorValue): Uint8Array {
  let descr: string
  let body: Uint8Array
  if (tensor.type === 'string') {
    const strings = tensor.data as string[]
    const points = strings.map((text) => Array.from(text, (char) => char.codePointAt(0)!))
    const width = Math.max(1, ...points.map((p) => p.length))
    descr = `<U${width}`
    const bytes = Buffer.alloc(strings.length * width * 4)
    points.forEach((chars, index) => {
      chars.forEach((point, at) => {
        bytes.writeUInt32LE(point, (index * width + at) * 4)
      })
    })
    body = bytes
  } else {
    descr = DTYPES[tensor.type].npy!
    body = bytesOfData(tensor.data as Exclude<TensorData, string[]>)
  }
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`
  const total = 10 + header.length + 1
  header += `${' '.repeat((64 - (total % 64)) % 64)}\n`
  const prefix = Buffer.alloc(10)
  MAGIC.copy(prefix)
  prefix[6] = 1
  prefix[7] = 0
  prefix.writeUInt16LE(header.length, 8)
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), body])
}
