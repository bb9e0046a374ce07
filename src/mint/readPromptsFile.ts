import { quoteText } from '../cli/escapeControl.js'
import { UsageError } from '../errors.js'
import { readRegularFile } from '../util/readRegularFile.js'

/**
 * Reads a prompts file for `imo infer-and-mint --prompts`: one prompt per line (UTF-8, CRLF
 * accepted), surrounding whitespace trimmed, blank lines and lines starting with `#` skipped.
 * Duplicates are rejected up front (a prompt mints one token).
 * @param path - the file.
 * @returns the prompts in file order.
 * @throws UsageError when the file cannot be read, holds no prompt, or repeats one (naming both lines).
 * @example
 * import { readPromptsFile } from './mint/readPromptsFile.js'
 * readPromptsFile('prompts.txt') // ['a red spiral', 'a blue wave']
 */
export function readPromptsFile(path: string): string[] {
  const text = readRegularFile(path, '--prompts', { maxBytes: 16 * 1024 * 1024 }).toString('utf8')
  return parsePrompts(text, path)
}

/**
 * Parses the text of a prompts file (see readPromptsFile).
 * @example
 * parsePrompts('# mine\na red spiral\n\na blue wave\n', 'prompts.txt') // ['a red spiral', 'a blue wave']
 */
export function parsePrompts(text: string, name: string): string[] {
  const prompts: string[] = []
  const lineOf = new Map<string, number>()
  for (const [index, raw] of text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .entries()) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const first = lineOf.get(line)
    if (first !== undefined)
      throw new UsageError(
        `${name} repeats the prompt ${quoteText(line)} (lines ${first} and ${index + 1}): each prompt mints one token`,
      )
    lineOf.set(line, index + 1)
    prompts.push(line)
  }
  if (prompts.length === 0) throw new UsageError(`${name} holds no prompt (one per line; blank lines and # comments are skipped)`)
  return prompts
}
