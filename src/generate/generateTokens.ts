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
  // Optimum's merged decoder: false runs the graph without past (the first step, or every step without
  // the cache), true the one with it. Two fixed tensors, fed as the step needs.
  const branch = lm.useCacheBranch
    ? [new Tensor('bool', new Uint8Array([0]), [1]), new Tensor('bool', new Uint8Array([1]), [1])]
    : undefined
  // With the cache, every step after the first feeds one token and its position: two one-element
  // tensors made once and refilled, so a step allocates only the mask's tensor (its length grows).
  const lastId = wide ? new BigInt64Array(1) : new Int32Array(1)
  const lastPosition = wide ? new BigInt64Array(1) : new Int32Array(1)
  const lastIdTensor = new Tensor(lm.idsType, lastId as never, [1, 1])
  const lastPositionTensor = new Tensor(lm.idsType, lastPosition as never, [1, 1])
  const ids: number[] = []
  // The feeds object keeps its shape from step to step; only its values change.
  const feeds: Record<string, OrtTensor> = {}
  let length = promptIds.length
  let runMs = 0
  let stop: GenerateResult['stop'] = 'max-new-tokens'
  for (let step = 0; step < settings.maxNewTokens; step++) {
    const cached = useCache && step > 0
    if (cached) {
      lastId[0] = sequence[length - 1]! as never
      lastPosition[0] = positions[length - 1]! as never
      feeds.input_ids = lastIdTensor
      if (lm.positionIds) feeds.position_ids = lastPositionTensor
    } else {
      feeds.input_ids = new Tensor(lm.idsType, sequence.subarray(0, length) as never, [1, length])
      if (lm.positionIds) feeds.position_ids = new Tensor(lm.idsType, positions.subarray(0, length) as never, [1, length])
    }
    feeds.attention_mask = new Tensor(lm.maskType, ones.subarray(0, length) as never, [1, length])
    if (!cached) for (let i = 0; i < lm.cache.length; i++) feeds[lm.cache[i]!.past] = emptyPast[i]!
    if (branch) feeds.use_cache_branch = branch[cached ? 1 : 0]!
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
    // The presents become the next step's pasts at once, so the previous ones (the largest objects of
    // a step) are garbage before anything else of this step allocates.
    if (useCache) for (let i = 0; i < lm.cache.length; i++) feeds[lm.cache[i]!.past] = results[lm.cache[i]!.present]!
    const logits = results.logits!
    const vocab = logits.dims[logits.dims.length - 1]!
    if (step === 0) checkPromptIds(lm, promptIds, vocab)
    const end = logits.dims.length === 3 ? logits.dims[1]! * vocab : vocab
    const row = lastRow(logits, end - vocab, end)
    checkLogits(row, step)
    const id = pickToken(row, settings, step)
    if (!lm.tokenizer.has(id))
      throw new UsageError(
        `the model picked token ${id} at generation step ${step}, which tokenizer.json does not have (its ids end at ${lm.tokenizer.size - 1}; the logits have ${vocab}): the model and its tokenizer do not match`,
      )
    ids.push(id)
    sequence[length] = (wide ? BigInt(id) : id) as never
    length++
    options.onToken?.(id, step)
    if (stops.has(id)) {
      stop = 'stop-id'
      break
    }
  }
  return { ids, stop, runMs, totalMs: performance.now() - started }
}

/**
 * Refuses a row of logits no token can honestly be picked from: a NaN (argmax would fall on id 0, and
 * a draw on nothing), a +Inf (an overflow, typically float16: every +Inf ties and a draw divides Inf by
 * Inf), or no finite value at all. -Inf alone is a masked token, as models emit on purpose.
 * @throws UsageError naming the step and what the row holds.
 * @example
 * checkLogits(new Float32Array([0.5, -Infinity, 2]), 0) // fine
 */
export function checkLogits(row: ArrayLike<number>, step: number): void {
  let nan = 0
  let inf = 0
  let finite = 0
  for (let i = 0; i < row.length; i++) {
    const value = row[i]!
    if (Number.isNaN(value)) nan++
    else if (value === Number.POSITIVE_INFINITY) inf++
    else if (value !== Number.NEGATIVE_INFINITY) finite++
  }
  if (nan === 0 && inf === 0 && finite > 0) return
  const holds = [nan && `${nan} NaN`, inf && `${inf} +Inf`, `${finite} finite`].filter(Boolean).join(', ')
  throw new UsageError(
    `the model's logits at generation step ${step} are degenerate (${holds} of ${row.length}): no token is picked from them`,
  )
}

/** Every prompt id must be one the model's logits (its vocabulary) cover, or model and tokenizer do not match. */
function checkPromptIds(lm: CausalLm, promptIds: readonly number[], vocab: number): void {
  const outside = promptIds.find((id) => id >= vocab)
  if (outside !== undefined)
    throw new UsageError(
      `the prompt holds token ${outside}, beyond the model's ${vocab} logits: the model and its tokenizer (${lm.tokenizer.size} ids) do not match`,
    )
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
