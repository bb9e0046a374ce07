/**
 * IEEE 754 half precision: onnxruntime-node holds float16 tensors as their raw 16-bit patterns in a
 * Uint16Array (Node 20 has no Float16Array), so numbers are converted here.
 */

/**
 * The float16 bit pattern nearest to `value` (round half to even, straight from the double, so no
 * double rounding through float32). Values beyond the largest half (65504) round to infinity.
 * @example
 * float16Bits(1) // 0x3c00
 * float16Bits(-2) // 0xc000
 */
export function float16Bits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0
  const magnitude = Math.abs(value)
  if (magnitude === Number.POSITIVE_INFINITY) return sign | 0x7c00
  if (magnitude < 2 ** -14) return sign | roundHalfEven(magnitude * 2 ** 24) // subnormal (1024 = smallest normal)
  let exponent = Math.floor(Math.log2(magnitude))
  if (2 ** exponent > magnitude) exponent--
  if (2 ** (exponent + 1) <= magnitude) exponent++
  let mantissa = roundHalfEven((magnitude / 2 ** exponent - 1) * 1024)
  if (mantissa === 1024) {
    mantissa = 0
    exponent++
  }
  if (exponent > 15) return sign | 0x7c00
  return sign | ((exponent + 15) << 10) | mantissa
}

/**
 * The number a float16 bit pattern stands for (exact).
 * @example
 * float16Value(0x3c00) // 1
 */
export function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1
  const exponent = (bits >> 10) & 0x1f
  const mantissa = bits & 0x3ff
  if (exponent === 0) return sign * mantissa * 2 ** -24
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15)
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x)
  const fraction = x - floor
  if (fraction > 0.5) return floor + 1
  if (fraction < 0.5) return floor
  return floor % 2 === 0 ? floor : floor + 1
}
