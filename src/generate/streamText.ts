import type { TextTokenizer } from './loadTokenizer.js'

/** What streamText returns: feed it ids as they come, then finish with the whole text. */
export interface TextStream {
  /** Adds the next generated id; its text is printed once it is complete (never blocks the loop). */
  push(id: number): void
  /**
   * Waits for the text of every pushed id, then prints what the whole text has beyond what was
   * streamed (a character held back at the end, or a clean-up across a window's edge).
   */
  finish(text: string): Promise<void>
}

/**
 * `--stream`: the text of a generation as it comes, decoded incrementally. Each new id decodes a small
 * window, the ids from `prefix` on, against the same window without the newest ids (text-generation-
 * inference's detokenizer): what the window adds is new text, and a window that ends in U+FFFD holds a
 * UTF-8 character whose last bytes have not come yet, so it waits for the next id. A token's text can
 * depend on its neighbours (a leading space dropped at the start, bytes that join), which is why the
 * window starts one token back. Cost per token: two decodes of a few ids, whatever the text's length
 * (re-decoding the whole text each time cost 319 us a token at position 900).
 * @param tokenizer - the model's tokenizer.
 * @param onText - called with each new piece of text, in order.
 * @returns push and finish.
 * @example
 * const stream = streamText(lm.tokenizer, (delta) => process.stdout.write(delta))
 * for (const id of ids) stream.push(id)
 * await stream.finish(await lm.tokenizer.decode(ids))
 */
export function streamText(tokenizer: TextTokenizer, onText: (delta: string) => void): TextStream {
  const ids: number[] = []
  let prefix = 0
  let read = 0
  let shown = ''
  let chain: Promise<void> = Promise.resolve()
  // A failed decode (the tokenizer's deadline) is kept for finish, not left as an unhandled rejection.
  let failure: { error: unknown } | undefined
  const emit = (delta: string) => {
    shown += delta
    onText(delta)
  }
  // Each id's step decodes the window as it stood when the id came, however late the step runs.
  const step = async (end: number) => {
    if (failure) return
    const [before, after] = await Promise.all([
      tokenizer.decode(ids.slice(prefix, read)),
      tokenizer.decode(ids.slice(prefix, end)),
    ])
    if (after.length > before.length && !after.endsWith('\uFFFD') && after.startsWith(before)) {
      emit(after.slice(before.length))
      prefix = read
      read = end
    }
  }
  return {
    push(id) {
      ids.push(id)
      const end = ids.length
      chain = chain
        .then(() => step(end))
        .catch((error: unknown) => {
          failure ??= { error }
        })
    },
    async finish(text) {
      await chain
      if (failure) throw failure.error
      if (text.startsWith(shown) && text.length > shown.length) emit(text.slice(shown.length))
    },
  }
}
