/**
 * The `zk-image` pipeline of zk models (docs/formats.md section 11), imo's own code like `causal-lm`:
 * - encode: the latent is the first L bytes of keccak256(prompt) as int8 (the circuit derives the same
 *   values from the public prompt field element);
 * - decode: the output bytes [1, C, H, W] (C = 1 or 3) become a BMP file whose bytes are a fixed prefix
 *   (headers, and for C = 1 a 256-colour palette) followed by the pixels, top-down rows. The file is the
 *   ERC-7007 aigcData itself: the collection checks the prefix and hands the pixels to the verifier as
 *   public inputs, so the chain checks the very image it stores. Browsers show BMP files as they are.
 */
import { UsageError } from '../errors.js'
import { ZK_MODEL_FORMAT } from './fixedPoint.js'

/** `imo.pipeline.json` of a zk model. */
export interface ZkPipelineConfig {
  kind: 'zk-image'
  format: typeof ZK_MODEL_FORMAT
  /** Fractional bits it was quantized with (informational). */
  fracBits: number
  /** C = 1 only: the palette's key colours, "#rrggbb", spread evenly over indices 0..255 (at least 2). */
  palette?: string[]
}

/** The image layout of a zk model's output. */
export interface ZkImageLayout {
  channels: 1 | 3
  height: number
  width: number
}

export const ZK_PIPELINE_KIND = 'zk-image'

/** A palette from black through deep blue, magenta and orange to pale yellow (C = 1 default). */
export const DEFAULT_PALETTE = ['#000000', '#1b0c41', '#4a0c6b', '#a52c60', '#ed6925', '#fbb61a', '#fcffa4']

/**
 * The image layout of an output shape, or an error saying why it is not an image.
 * @example
 * imageLayout([1, 1, 16, 16]) // { channels: 1, height: 16, width: 16 }
 */
export function imageLayout(dims: readonly number[]): ZkImageLayout {
  const [n, c, h, w] = dims
  if (dims.length !== 4 || n !== 1 || (c !== 1 && c !== 3) || !h || !w || h > 512 || w > 512)
    throw new UsageError(`a zk image model's output must be [1, C, H, W] with C = 1 or 3 and H, W <= 512, not [${dims}]`)
  if ((w * c) % 4 !== 0) throw new UsageError(`a zk image's rows must be a multiple of 4 bytes (BMP): W * C = ${w * c}`)
  return { channels: c, height: h, width: w }
}

/**
 * The 256 palette entries (r, g, b), linear between the key colours, in integers.
 * @example
 * paletteColours(['#000000', '#ffffff'])[255] // [255, 255, 255]
 */
export function paletteColours(keys: readonly string[]): [number, number, number][] {
  if (keys.length < 2 || keys.length > 256) throw new UsageError('a palette needs 2 to 256 key colours')
  const rgb = keys.map((key) => {
    if (!/^#[0-9a-fA-F]{6}$/.test(key)) throw new UsageError(`palette colour ${JSON.stringify(key)} is not "#rrggbb"`)
    return [1, 3, 5].map((i) => Number.parseInt(key.slice(i, i + 2), 16))
  })
  const segments = keys.length - 1
  return Array.from({ length: 256 }, (_, index) => {
    // position index * segments / 255 = segment s plus t / 255 of it (integers only)
    const scaled = index * segments
    const s = Math.min(segments - 1, Math.floor(scaled / 255))
    const t = scaled - s * 255
    const [a, b] = [rgb[s]!, rgb[s + 1]!]
    return [0, 1, 2].map((c) => a[c]! + Math.floor(((b[c]! - a[c]!) * t) / 255)) as [number, number, number]
  })
}

/**
 * The fixed bytes before the pixels: BMP file header, BITMAPINFOHEADER (top-down: negative height)
 * and, for one channel, the palette.
 * @example
 * bmpPrefix({ channels: 1, height: 16, width: 16 }, DEFAULT_PALETTE).length // 1078
 */
export function bmpPrefix(layout: ZkImageLayout, palette: readonly string[] = DEFAULT_PALETTE): Uint8Array {
  const colours = layout.channels === 1 ? paletteColours(palette) : []
  const headerSize = 14 + 40 + colours.length * 4
  const pixelBytes = layout.width * layout.height * layout.channels
  const out = Buffer.alloc(headerSize)
  out.write('BM', 0, 'latin1')
  out.writeUInt32LE(headerSize + pixelBytes, 2)
  out.writeUInt32LE(headerSize, 10)
  out.writeUInt32LE(40, 14)
  out.writeInt32LE(layout.width, 18)
  out.writeInt32LE(-layout.height, 22)
  out.writeUInt16LE(1, 26)
  out.writeUInt16LE(layout.channels * 8, 28)
  out.writeUInt32LE(0, 30)
  out.writeUInt32LE(pixelBytes, 34)
  out.writeInt32LE(2835, 38)
  out.writeInt32LE(2835, 42)
  out.writeUInt32LE(colours.length, 46)
  colours.forEach(([r, g, b], i) => {
    out[54 + i * 4] = b
    out[55 + i * 4] = g
    out[56 + i * 4] = r
  })
  return new Uint8Array(out)
}

/**
 * For each pixel byte of the BMP, the index of the output element it is ([1, C, H, W] row-major): rows
 * top-down, and for three channels blue, green, red per pixel.
 * @example
 * payloadOrder({ channels: 3, height: 1, width: 4 }).slice(0, 3) // [8, 4, 0]
 */
export function payloadOrder(layout: ZkImageLayout): number[] {
  const { channels, height, width } = layout
  const order: number[] = []
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) for (let c = channels - 1; c >= 0; c--) order.push(c * height * width + y * width + x)
  return order
}

/**
 * The BMP file (the artifact and the aigcData) of an output: prefix, then the payload bytes.
 * @param output - the output tensor's values, [1, C, H, W] row-major, integers 0..255.
 * @example
 * const bmp = zkImageBytes(layout, palette, outputs.image.data)
 */
export function zkImageBytes(
  layout: ZkImageLayout,
  palette: readonly string[] | undefined,
  output: ArrayLike<number>,
): Uint8Array {
  const prefix = bmpPrefix(layout, palette)
  const order = payloadOrder(layout)
  const out = new Uint8Array(prefix.length + order.length)
  out.set(prefix)
  order.forEach((index, i) => {
    const v = output[index]!
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new UsageError(`output element ${index} is ${v}, not a byte`)
    out[prefix.length + i] = v
  })
  return out
}

/**
 * Checks a parsed `imo.pipeline.json` of a zk model.
 * @throws UsageError naming the field that is wrong.
 * @example
 * validateZkPipelineConfig(JSON.parse(text), 'imo.pipeline.json').palette
 */
export function validateZkPipelineConfig(value: unknown, what: string): ZkPipelineConfig {
  const v = value as Record<string, unknown> | null
  if (typeof v !== 'object' || v === null || v.kind !== ZK_PIPELINE_KIND)
    throw new UsageError(`${what}: "kind" must be "${ZK_PIPELINE_KIND}"`)
  if (v.format !== ZK_MODEL_FORMAT) throw new UsageError(`${what}: "format" must be "${ZK_MODEL_FORMAT}"`)
  if (typeof v.fracBits !== 'number' || !Number.isInteger(v.fracBits))
    throw new UsageError(`${what}: "fracBits" must be an integer`)
  if (v.palette !== undefined) {
    if (!Array.isArray(v.palette) || !v.palette.every((c) => typeof c === 'string'))
      throw new UsageError(`${what}: "palette" must be an array of "#rrggbb"`)
    paletteColours(v.palette as string[])
  }
  return v as unknown as ZkPipelineConfig
}
