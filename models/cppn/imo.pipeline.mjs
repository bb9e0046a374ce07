// imo pipeline of the bundled CPPN model (DESIGN section 3). Plain JavaScript with node built-ins
// only: it runs inside the imo process, and its bytes are part of the model hash.
//
//   encode(prompt) -> { z: float32 [1, 16] }  the SHA-256 of the prompt's UTF-8, 2 bytes per value,
//                                             mapped to -2..2 (deterministic, no floating-point maths
//                                             beyond one division)
//   decode(outputs) -> { bytes, mime: 'image/png' }  the image output [1, 3, H, W] in 0..1 as an RGB PNG
//
// The PNG's zlib stream uses stored (uncompressed) deflate blocks, written here byte by byte, so the
// artifact's bytes (and its SHA-256, the ERC-7007 aigcData) never depend on which zlib or CPU runs it.
import { createHash } from 'node:crypto'

export const LATENT = 16

/** The latent z for a prompt. */
export function encode(prompt) {
  if (typeof prompt !== 'string') throw new TypeError('the prompt must be a string')
  const digest = createHash('sha256').update(prompt, 'utf8').digest()
  const z = new Float32Array(LATENT)
  for (let i = 0; i < LATENT; i++) z[i] = (digest.readUInt16BE(2 * i) / 65535) * 4 - 2
  return { z: { type: 'float32', dims: [1, LATENT], data: z } }
}

/** The PNG of the model's image output. */
export function decode(outputs) {
  const image = outputs.image
  if (image?.type !== 'float32' || image.dims.length !== 4 || image.dims[0] !== 1 || image.dims[1] !== 3)
    throw new Error('expected an output "image" of type float32 [1, 3, H, W]')
  const height = Number(image.dims[2])
  const width = Number(image.dims[3])
  const plane = width * height
  const rowBytes = 1 + width * 3
  const raw = new Uint8Array(rowBytes * height)
  for (let y = 0; y < height; y++) {
    raw[y * rowBytes] = 0 // filter: none
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const value = image.data[c * plane + y * width + x]
        // biome-ignore lint/complexity/useMathMinMax: Math.max(NaN, 0) is NaN; this maps NaN to 0
        const clamped = value > 1 ? 1 : value > 0 ? value : 0
        raw[y * rowBytes + 1 + x * 3 + c] = Math.round(clamped * 255)
      }
    }
  }
  return { bytes: png(width, height, raw), mime: 'image/png' }
}

function png(width, height, raw) {
  const header = new Uint8Array(13)
  const view = new DataView(header.buffer)
  view.setUint32(0, width)
  view.setUint32(4, height)
  header.set([8, 2, 0, 0, 0], 8) // 8-bit RGB, deflate, no filter method extras, no interlace
  const signature = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)
  return concat([signature, chunk('IHDR', header), chunk('IDAT', zlibStored(raw)), chunk('IEND', new Uint8Array(0))])
}

function chunk(type, data) {
  const out = new Uint8Array(12 + data.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, data.length)
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i)
  out.set(data, 8)
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)))
  return out
}

/** A zlib stream of stored deflate blocks (RFC 1950/1951), deterministic by construction. */
function zlibStored(data) {
  const blocks = Math.max(1, Math.ceil(data.length / 65535))
  const out = new Uint8Array(2 + blocks * 5 + data.length + 4)
  out[0] = 0x78
  out[1] = 0x01
  let at = 2
  for (let block = 0; block < blocks; block++) {
    const start = block * 65535
    const length = Math.min(65535, data.length - start)
    out[at] = block === blocks - 1 ? 1 : 0
    out[at + 1] = length & 0xff
    out[at + 2] = length >>> 8
    out[at + 3] = ~length & 0xff
    out[at + 4] = (~length >>> 8) & 0xff
    out.set(data.subarray(start, start + length), at + 5)
    at += 5 + length
  }
  new DataView(out.buffer).setUint32(at, adler32(data))
  return out
}

function adler32(data) {
  let a = 1
  let b = 0
  for (let i = 0; i < data.length; i++) {
    a = (a + data[i]) % 65521
    b = (b + a) % 65521
  }
  return ((b << 16) | a) >>> 0
}

const CRC_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

function crc32(data) {
  let crc = 0xffffffff
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[(crc ^ data[i]) & 0xff] ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}
