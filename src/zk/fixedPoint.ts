/**
 * The numbers of imo's fixed-point scheme for zk models (docs/formats.md section 11), in one place.
 * A quantized value is an integer q standing for q / 2^s, where s (the scale) is tracked per tensor by
 * the quantizer; weights are rounded once, everything after that is exact integer arithmetic.
 */
import { UsageError } from '../errors.js'

/** Format name of a quantized zk model (in model.onnx metadata and imo.pipeline.json). */
export const ZK_MODEL_FORMAT = 'imo-zk-v1'

/** Default fractional bits of weights, and the scale Relu and Sin outputs come back to. */
export const DEFAULT_FRAC_BITS = 8

/** The input latent is int8 at this scale: z = q / 128, in [-1, 1). */
export const INPUT_SCALE = 7
export const INPUT_MIN = -128n
export const INPUT_MAX = 127n

/** Every value of a quantized model stays strictly inside +-2^53, so float64 evaluation is exact. */
export const EXACT_BOUND = 2n ** 53n

/** Sin: turns are measured at 2^10 finer than the input's scale, u = x * round(2^10 / (2 pi)). */
export const SIN_TURN_BITS = 10
export const SIN_MULTIPLIER = 163n

/** Largest fractional bits accepted (Sin's half-turn position needs FRAC_BITS / 2 <= scale + 9). */
export const MAX_FRAC_BITS = 16

/**
 * Rounds a real constant to the fixed-point integer round(value * 2^bits), ties toward +infinity
 * (JavaScript's Math.round); value * 2^bits is exact in float64, so this is the only rounding.
 * @param value - the constant.
 * @param bits - its scale.
 * @param where - names the constant in the error (e.g. "weight 'w1' of node 'fc1'").
 * @throws UsageError (exit 2) for NaN, infinity, or |q| >= 2^53.
 * @example
 * quantizeConstant(0.7, 8, "weight 'w'") // 179n (0.7 * 256 = 179.2)
 * quantizeConstant(-0.5, 1, "weight 'w'") // -1n
 */
export function quantizeConstant(value: number, bits: number, where: string): bigint {
  if (!Number.isFinite(value)) throw new UsageError(`${where} is ${value}: zk models need finite weights`)
  const q = Math.round(value * 2 ** bits)
  if (!Number.isSafeInteger(q))
    throw new UsageError(
      `${where} (${value}) overflows the fixed-point range: ${value} * 2^${bits} is beyond +-2^53, the exact range of a zk model`,
    )
  return BigInt(q)
}

/**
 * The scale at which a constant multiplier is quantized: 0 when every value is a whole number
 * (exact, and the product's scale does not grow), else `fracBits`.
 * @example
 * multiplierScale([2, -3], 8) // 0
 * multiplierScale([0.5], 8) // 8
 */
export function multiplierScale(values: ArrayLike<number>, fracBits: number): number {
  for (let i = 0; i < values.length; i++) if (!Number.isInteger(values[i]!)) return fracBits
  return 0
}
