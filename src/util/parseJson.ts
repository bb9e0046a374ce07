/**
 * The one way imo parses JSON it did not just write itself (records, mint records, metadata,
 * deployment files, tensor files): bounded in size and nesting, so hostile input gives a one-line
 * UsageError (exit 2) instead of a crash later ("Maximum call stack size exceeded" in code that
 * walks the value) or a huge allocation.
 */
import { UsageError } from '../errors.js'

export interface ParseJsonOptions {
  /** Largest accepted text, in UTF-16 code units (default 256 MiB). */
  maxLength?: number
  /** Deepest accepted nesting of arrays and objects (default 64). */
  maxDepth?: number
  /** What the text should be, for messages: 'an inference record' gives "X is not JSON, so not an inference record". */
  expected?: string
}

/** Default nesting limit: far above any imo format, far below what recursion can survive. */
export const JSON_MAX_DEPTH = 64

/**
 * Parses JSON text after checking its size and nesting depth (one linear scan, outside strings).
 * @param text - the JSON text.
 * @param what - the source's name for messages (a file path, a flag).
 * @param options - size and depth limits.
 * @returns the parsed value.
 * @throws UsageError when the text is too large, nested too deeply, or not JSON.
 * @example
 * import { parseJson } from './util/parseJson.js'
 * parseJson('{"a":[1]}', 'record.json') // { a: [1] }
 * parseJson('['.repeat(100000), 'x.json') // throws UsageError: x.json nests deeper than 64 levels
 */
export function parseJson(text: string, what: string, options: ParseJsonOptions = {}): unknown {
  const maxLength = options.maxLength ?? 256 * 1024 * 1024
  const maxDepth = options.maxDepth ?? JSON_MAX_DEPTH
  const so = options.expected ? `, so not ${options.expected}` : ''
  if (text.length > maxLength) throw new UsageError(`${what} is too large (${text.length} characters, at most ${maxLength})${so}`)
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) throw new UsageError(`${what} nests deeper than ${maxDepth} levels${so}`)
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    // V8 quotes the text in its message (`Unexpected token 'o', "nope\n" is not valid JSON`): keep one line.
    const reason = (error as Error).message.replace(/, ".*" is not valid JSON$/s, '').replace(/\s+/g, ' ')
    throw new UsageError(`${what} is not valid JSON${so}: ${reason}`)
  }
}
