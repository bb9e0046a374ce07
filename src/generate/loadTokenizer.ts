/**
 * The causal-lm tokenizer: `tokenizer.json` read by @huggingface/tokenizers, in a worker thread, with a
 * deadline on every call.
 *
 * Why a worker: the library turns tokenizer.json's `Regex` patterns (the `Replace` normalizer, the
 * `Split` and `Replace` pre-tokenizers, the `Replace` decoder; `create_pattern` in its source) into
 * JavaScript RegExps and runs them over the whole text with no bound. A pattern that backtracks
 * catastrophically, such as `(\w+\s?)+$`, then blocks its thread for seconds at 24 characters and for
 * hours at 34, and a blocked main thread ignores SIGTERM and Ctrl-C. (The Rust tokenizers run the same
 * patterns with Oniguruma, a backtracking engine too, whose retry limit per match bounds such a run but
 * still lets it take seconds.) Here the main thread stays free, and a call that passes its deadline
 * terminates the worker (V8 interrupts a running RegExp) and fails with one line. A round trip costs
 * about 40 us.
 *
 * The worker is unref'd: an idle tokenizer never keeps the process alive.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { UsageError } from '../errors.js'

/** A tokenizer: text -> ids, ids -> text, and which ids it can decode. */
export interface TextTokenizer {
  encode(text: string): Promise<number[]>
  /** The text of the ids, special tokens skipped. */
  decode(ids: readonly number[]): Promise<string>
  /** Whether the tokenizer has a token for this id (an id past its vocabulary, or in a gap of it, has none). */
  has(id: number): boolean
  /** The highest id the tokenizer has, plus one. */
  size: number
}

export interface LoadTokenizerOptions {
  /**
   * The deadline of a call, from the length of its text (characters) or ids; by default 5 s plus 1 ms
   * per 100, far above what a tokenizer whose patterns are sound needs (a 100,000-character prompt
   * encodes in well under a second).
   */
  deadlineMs?: (length: number) => number
}

const defaultDeadline = (length: number) => 5000 + Math.ceil(length / 100)

// Plain CommonJS run with `new Worker(source, { eval: true })`, so it works the same from the bundle in
// dist/ and from the sources under tsx; the library is required from the path the main thread resolved,
// at once, and the tokenizer built when its files arrive (so a worker can be started ahead of them).
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads')
const { Tokenizer } = require(workerData.library)
let tokenizer
parentPort.once('message', (files) => {
  try {
    tokenizer = new Tokenizer(JSON.parse(files.tokenizer), JSON.parse(files.config))
    const ids = [...tokenizer.get_vocab(true).values(), ...tokenizer.get_added_tokens_decoder().keys()]
    let size = 0
    for (const id of ids) if (Number.isSafeInteger(id) && id >= 0 && id + 1 > size) size = id + 1
    const known = new Uint8Array(size)
    for (const id of ids) if (Number.isSafeInteger(id) && id >= 0) known[id] = 1
    parentPort.postMessage({ ready: true, known }, [known.buffer])
  } catch (error) {
    parentPort.postMessage({ ready: false, error: String(error && error.message || error).split('\\n')[0] })
    return
  }
  parentPort.on('message', (call) => {
    try {
      const value = call.text !== undefined
        ? tokenizer.encode(call.text).ids
        : tokenizer.decode(call.ids, { skip_special_tokens: true })
      parentPort.postMessage({ id: call.id, value })
    } catch (error) {
      parentPort.postMessage({ id: call.id, error: String(error && error.message || error).split('\\n')[0] })
    }
  })
})
`

/** A worker started ahead (prewarmTokenizer), taken by the next loadTokenizer. */
let spare: Worker | undefined

function startWorker(): Worker {
  const library = createRequire(import.meta.url).resolve('@huggingface/tokenizers')
  return new Worker(workerSource, { eval: true, execArgv: [], workerData: { library } })
}

/** Model folders a worker was started ahead for: once each (later runs reuse the loaded tokenizer). */
const prewarmed = new Set<string>()

/**
 * Starts a tokenizer worker ahead of loadTokenizer, so its start (a thread, the library: about 60 ms)
 * overlaps the model's hashing and session instead of following them. Once per model folder; unref'd,
 * so unused it keeps nothing alive.
 * @param folder - the model folder it is for.
 * @example
 * prewarmTokenizer(resolve('models/tinylm'))
 * const model = await loadModel('models/tinylm') // the worker starts meanwhile
 */
export function prewarmTokenizer(folder: string): void {
  if (spare || prewarmed.has(folder)) return
  prewarmed.add(folder)
  spare = startWorker()
  spare.unref()
  spare.once('error', () => {
    spare = undefined
  })
}

interface Pending {
  resolve(value: unknown): void
  reject(error: unknown): void
  timer: NodeJS.Timeout
}

/**
 * Starts a tokenizer from the bytes of tokenizer.json and tokenizer_config.json (already checked
 * against the model hash by the caller).
 * @param tokenizerJson - tokenizer.json's text.
 * @param configJson - tokenizer_config.json's text (`{}` when the folder has none).
 * @param options - the deadline of each call (tests shorten it).
 * @returns the tokenizer, once the worker has built it.
 * @throws UsageError when the library cannot build a tokenizer from the file.
 * @example
 * import { loadTokenizer } from './generate/loadTokenizer.js'
 * const tokenizer = await loadTokenizer(readFileSync('models/tinylm/tokenizer.json', 'utf8'), '{}')
 * await tokenizer.encode('Hi') // [72, 105]
 */
export async function loadTokenizer(
  tokenizerJson: string,
  configJson: string,
  options: LoadTokenizerOptions = {},
): Promise<TextTokenizer> {
  const deadline = options.deadlineMs ?? defaultDeadline
  const worker = spare ?? startWorker()
  spare = undefined
  worker.ref()
  worker.postMessage({ tokenizer: tokenizerJson, config: configJson })
  const pending = new Map<number, Pending>()
  let broken: UsageError | undefined
  const fail = (error: UsageError) => {
    broken ??= error
    for (const call of pending.values()) {
      clearTimeout(call.timer)
      call.reject(broken)
    }
    pending.clear()
    void worker.terminate()
  }
  const known = await new Promise<Uint8Array>((resolve, reject) => {
    worker.once('message', (message: { ready: boolean; known?: Uint8Array; error?: string }) => {
      if (message.ready) resolve(message.known!)
      else reject(new UsageError(`tokenizer.json cannot be loaded: ${message.error}`))
    })
    worker.once('error', (error) => reject(new UsageError(`tokenizer.json cannot be loaded: ${error.message.split('\n')[0]}`)))
  }).catch((error) => {
    void worker.terminate()
    throw error
  })
  worker.on('message', (message: { id: number; value?: unknown; error?: string }) => {
    const call = pending.get(message.id)
    if (!call) return
    pending.delete(message.id)
    clearTimeout(call.timer)
    if (message.error === undefined) call.resolve(message.value)
    else call.reject(new UsageError(`the tokenizer failed: ${message.error}`))
  })
  worker.on('error', (error) => fail(new UsageError(`the tokenizer failed: ${error.message.split('\n')[0]}`)))
  worker.on('exit', () => fail(new UsageError('the tokenizer stopped')))
  // After the listeners: adding a 'message' listener refs the worker's port again.
  worker.unref()

  let next = 0
  const call = <T>(message: { text: string } | { ids: readonly number[] }, what: string, length: number): Promise<T> => {
    if (broken) return Promise.reject(broken)
    const id = next++
    const ms = deadline(length)
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          fail(
            new UsageError(
              `tokenizer.json did not finish ${what} within ${(ms / 1000).toFixed(ms < 1000 ? 1 : 0)} s: a pattern of its normalizer, pre-tokenizer or decoder backtracks without end on this text; refused`,
            ),
          ),
        ms,
      )
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer })
      worker.postMessage({ id, ...message })
    })
  }
  return {
    encode: (text) => call<number[]>({ text }, 'encoding the prompt', text.length),
    // The library refuses an empty list; its text is the empty string.
    decode: (ids) => (ids.length === 0 ? Promise.resolve('') : call<string>({ ids: [...ids] }, 'decoding the text', ids.length)),
    has: (id) => known[id] === 1,
    size: known.length,
  }
}
