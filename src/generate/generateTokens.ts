import { UsageError } from '../errors.js'
import { float16Value } from '../tensor/float16.js'
import type { GenerationSettings } from './generationSettings.js'
import type { CausalLm } from './loadCausalLm.js'
import { pickToken } from './sampleToken.js'

type OrtTensor = import('onnxruntime-node').Tensor

export interface GenerateOptions {
  /** false: re-feed the whole sequence every step with empty caches (slower, same tokens). Default true. */
  useCache?: boolean
  /** Called after each token (for progress and --stream). */
  onToken?: (id: number, index: number) => void
  /** Called with each step's feeds before the run (tests check what is fed). */
  onFeeds?: (feeds: Readonly<Record<string, OrtTensor>>) => void
}

/** The generated ids and where the time went. */
export interface GenerateResult {
  ids: number[]
  /** Why it stopped: a stop id, or maxNewTokens reached. */
  stop: 'stop-id' | 'max-new-tokens'
  /** Milliseconds in onnxruntime's run() and in the whole loop (the difference is imo's overhead). */
  runMs: number
  totalMs: number
}

/**
 * The generation loop of the causal-lm pipeline. With a KV cache, the first step feeds the prompt with
 * empty past tensors and every later step feeds only the new token, its position, the attention mask
 * (a view of one preallocated array of ones) and the previous step's present tensors as they come
 * from the runtime; nothing that grows with the sequence is rebuilt per step.
 * @param lm - from loadCausalLm.
 * @param promptIds - the prompt's token ids (at least one).
 * @param settings - resolved generation settings.
 * @param options - cache use and hooks.
 * @returns the generated ids (a final stop id included).
 * @throws UsageError when the prompt is empty, too long for the context, or the model fails.
 * @example
 * import { generateTokens } from './generate/generateTokens.js'
 * const { ids } = await generateTokens(lm, [72, 105], settings)
 */
export async function generateTokens(
  lm: CausalLm,
  promptIds: readonly number[],
  settings: GenerationSettings,
  options: GenerateOptions = {},
): Promise<GenerateResult> {
  checkLength(lm, promptIds.length, settings.maxNewTokens)
  const started = performance.now()
  const { Tensor } = await import('onnxruntime-node')
  const useCache = options.useCache !== false && lm.cache.length > 0
  const wide = lm.idsType === 'int64'
  const maxLength = promptIds.length + settings.maxNewTokens
  const sequence = wide ? new BigInt64Array(maxLength) : new Int32Array(maxLength)
  const positions = wide ? new BigInt64Array(maxLength) : new Int32Array(maxLength)
  const ones = lm.maskType === 'int64' ? new BigInt64Array(maxLength).fill(1n) : new Int32Array(maxLength).fill(1)
  for (let i = 0; i < maxLength; i++) positions[i] = (wide ? BigInt(i) : i) as never
  promptIds.forEach((id, i) => {
    sequence[i] = (wide ? BigInt(id) : id) as never
  })
  const emptyPast = lm.cache.map(
    (slot) =>
      new Tensor(slot.type, slot.type === 'float16' ? new Uint16Array(0) : new Float32Array(0), [
        1,
        slot.heads,
        0,
        slot.headSize,
      ]),
  )
  const stops = new Set(settings.stopIds)
  const ids: number[] = []
  let past: OrtTensor[] = emptyPast
  let length = promptIds.length
  let runMs = 0
  let stop: GenerateResult['stop'] = 'max-new-tokens'
  for (let step = 0; step < settings.maxNewTokens; step++) {
    const from = useCache && step > 0 ? length - 1 : 0
    const count = length - from
    const feeds: Record<string, OrtTensor> = {
      input_ids: new Tensor(lm.idsType, sequence.subarray(from, length) as never, [1, count]),
      attention_mask: new Tensor(lm.maskType, ones.subarray(0, length) as never, [1, length]),
    }
    if (lm.positionIds) feeds.position_ids = new Tensor(lm.idsType, positions.subarray(from, length) as never, [1, count])
    lm.cache.forEach((slot, i) => {
      feeds[slot.past] = useCache ? past[i]! : emptyPast[i]!
    })
    options.onFeeds?.(feeds)
    const before = performance.now()
    let results: Record<string, OrtTensor>
    try {
      results = (await lm.model.session.run(feeds)) as Record<string, OrtTensor>
    } catch (error) {
      throw new UsageError(`the model failed at generation step ${step}: ${(error as Error).message.split('\n')[0]}`, {
        cause: error,
      })
    }
    runMs += performance.now() - before
    const logits = results.logits!
    const vocab = logits.dims[logits.dims.length - 1]!
    const end = logits.dims.length === 3 ? logits.dims[1]! * vocab : vocab
    const row = lastRow(logits, end - vocab, end)
    const id = pickToken(row, settings, step)
    ids.push(id)
    sequence[length] = (wide ? BigInt(id) : id) as never
    length++
    if (useCache) past = lm.cache.map((slot) => results[slot.present]!)
    options.onToken?.(id, step)
    if (stops.has(id)) {
      stop = 'stop-id'
      break
    }
  }
  return { ids, stop, runMs, totalMs: performance.now() - started }
}

function lastRow(logits: OrtTensor, from: number, to: number): ArrayLike<number> {
  if (logits.type === 'float32') return (logits.data as Float32Array).subarray(from, to)
  const bits = (logits.data as Uint16Array).subarray(from, to)
  const row = new Float64Array(bits.length)
  for (let i = 0; i < bits.length; i++) row[i] = float16Value(bits[i]!)
  return row
}

/**
 * Checks a generation's length against the model: a non-empty prompt, and prompt + new tokens within
 * the context size when the model's config says it.
 * @throws UsageError naming --max-new-tokens.
 * @example
 * checkLength(lm, 10, 64)
 */
export function checkLength(lm: CausalLm, promptLength: number, maxNewTokens: number): void {
  if (promptLength === 0) throw new UsageError('the prompt encodes to zero tokens: give some text')
  if (lm.contextSize !== undefined && promptLength + maxNewTokens > lm.contextSize)
    throw new UsageError(
      `--max-new-tokens ${maxNewTokens} with a ${promptLength}-token prompt exceeds the model's context of ${lm.contextSize} tokens`,
    )
}
