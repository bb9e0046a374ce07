/**
 * Picking the next token from a row of logits (imo-sample-v1, docs/formats.md): greedy argmax, or a
 * draw after temperature, top-k and top-p from a seeded, platform-independent uniform number.
 *
 * uniform(seed, step) = (the first 8 bytes of SHA-256("imo-sample-v1" ‖ u64le(seed) ‖ u32le(step)),
 * read big-endian, shifted right by 11) / 2^53: a double in [0, 1) that any language can recompute.
 */
import { createHash } from 'node:crypto'

/** The sampling settings that decide a token (a subset of GenerationSettings). */
export interface SamplingSettings {
  /** 0 = greedy (argmax, ties to the lowest id). */
  temperature: number
  /** Keep only the k most likely tokens; 0 = all. */
  topK: number
  /** Keep the smallest set of most likely tokens whose probability reaches topP; 1 = all. */
  topP: number
  /** 0 <= seed < 2^53. */
  seed: number
}

const DOMAIN = Buffer.from('imo-sample-v1', 'utf8')

/**
 * The PRNG of imo-sample-v1: a uniform double in [0, 1) for a seed and a step (the index of the
 * generated token, 0 for the first).
 * @example
 * import { sampleUniform } from './generate/sampleToken.js'
 * sampleUniform(0, 0) // golden value in sampleToken.test.ts
 */
export function sampleUniform(seed: number, step: number): number {
  const message = Buffer.alloc(DOMAIN.length + 12)
  DOMAIN.copy(message, 0)
  message.writeBigUInt64LE(BigInt(seed), DOMAIN.length)
  message.writeUInt32LE(step, DOMAIN.length + 8)
  const digest = createHash('sha256').update(message).digest()
  return Number(digest.readBigUInt64BE(0) >> 11n) / 2 ** 53
}

/**
 * The next token: argmax when temperature is 0, else a draw from the tempered, top-k and top-p
 * filtered distribution with sampleUniform(seed, step). Computed in float64 from the float32 logits.
 * @param logits - the last position's logits (one per vocabulary id).
 * @param settings - temperature, topK, topP, seed.
 * @param step - the index of the token being generated.
 * @returns the token id.
 * @example
 * import { pickToken } from './generate/sampleToken.js'
 * pickToken(new Float32Array([0.1, 2, 0.3]), { temperature: 0, topK: 0, topP: 1, seed: 0 }, 0) // 1
 */
export function pickToken(logits: ArrayLike<number>, settings: SamplingSettings, step: number): number {
  const n = logits.length
  if (settings.temperature === 0 || settings.topK === 1) {
    let best = 0
    for (let i = 1; i < n; i++) if (logits[i]! > logits[best]!) best = i
    return best
  }
  const order = candidates(logits, settings.topK)
  const top = logits[order[0]!]! / settings.temperature
  const weights = order.map((id) => Math.exp(logits[id]! / settings.temperature - top))
  let total = 0
  for (const w of weights) total += w
  let kept = weights.length
  if (settings.topP < 1) {
    let cumulative = 0
    for (let i = 0; i < weights.length; i++) {
      cumulative += weights[i]! / total
      if (cumulative >= settings.topP) {
        kept = i + 1
        break
      }
    }
  }
  let keptTotal = 0
  for (let i = 0; i < kept; i++) keptTotal += weights[i]!
  const target = sampleUniform(settings.seed, step) * keptTotal
  let cumulative = 0
  for (let i = 0; i < kept; i++) {
    cumulative += weights[i]!
    if (target < cumulative) return order[i]!
  }
  return order[kept - 1]!
}

/**
 * The candidate ids by logit, highest first, ties by the lower id; only the first `topK` when
 * 0 < topK < n. With top-k the k-th highest logit is found first by a numeric sort (no comparator
 * calls) and only the k ids at or above it are ordered: sorting a whole 257-id vocabulary with a
 * comparator took a fifth of a tinylm step. Logits holding NaN take the full sort, whose order for
 * them is the one recorded generations were made with.
 * @example
 * candidates(new Float32Array([0.1, 2, 0.3, 2]), 2) // [1, 3]
 */
export function candidates(logits: ArrayLike<number>, topK: number): number[] {
  const n = logits.length
  const byLogit = (a: number, b: number) => logits[b]! - logits[a]! || a - b
  const values = Float64Array.from(logits)
  if (topK <= 0 || topK >= n || values.some(Number.isNaN))
    return Array.from({ length: n }, (_, i) => i)
      .sort(byLogit)
      .slice(0, topK > 0 ? topK : n)
  const threshold = values.sort()[n - topK]!
  // Fewer than topK ids are above the threshold; ties at it are taken by the lower id, as the full
  // order would.
  const picked: number[] = []
  for (let i = 0; i < n; i++) if (logits[i]! > threshold) picked.push(i)
  for (let i = 0; i < n && picked.length < topK; i++) if (logits[i] === threshold) picked.push(i)
  return picked.sort(byLogit)
}
