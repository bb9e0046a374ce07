/**
 * Merges settings into the text of a `.env` file without disturbing what `imo init` does not own:
 * comments, blank lines and other variables stay as they were; a variable that is set gets its
 * value replaced in place (or appended at the end); a variable that is removed loses its line.
 */

import { UsageError } from '../errors.js'

/** Signer variables: exactly one may be configured, so choosing one removes the others. */
export const SIGNER_ENV_VARS = [
  'IMO_PRIVATE_KEY',
  'IMO_PRIVATE_KEY_FILE',
  'IMO_KEYSTORE',
  'IMO_ACCOUNT',
  'IMO_MNEMONIC_FILE',
  'IMO_MNEMONIC_INDEX',
  'IMO_PASSWORD_FILE',
] as const

/**
 * Quotes a value for dotenv when it holds anything beyond plain URL/path characters: single quotes
 * (literal in dotenv), else double quotes, else backticks; dotenv has no escapes inside quotes.
 * @throws UsageError for a value with a newline or all three quote characters.
 * @example
 * formatEnvValue('/my keys/a.json') // "'/my keys/a.json'"
 */
export function formatEnvValue(value: string): string {
  if (/^[A-Za-z0-9_./:@%+~,=?&-]*$/.test(value)) return value
  if (/[\r\n]/.test(value)) throw new UsageError('a setting for .env cannot contain a line break')
  for (const quote of ["'", '"', '`']) if (!value.includes(quote)) return `${quote}${value}${quote}`
  throw new UsageError('a setting for .env cannot contain all of \' " and `')
}

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/

/**
 * Merges variables into `.env` text.
 * @param existing - the current file's text, or undefined when there is none.
 * @param set - variables to set (insertion order is the order of appended lines).
 * @param remove - variables whose lines are dropped (ignored when also in `set`).
 * @param header - comment lines written at the top of a new file.
 * @returns the new text (ends with a newline) and which variables were replaced, added, removed.
 * @example
 * import { mergeEnvText } from './mergeEnvText.js'
 * mergeEnvText('# mine\nIMO_RPC_URL=http://old\nOTHER=1\n', { IMO_RPC_URL: 'http://new' }, []).text
 * // '# mine\nIMO_RPC_URL=http://new\nOTHER=1\n'
 */
export function mergeEnvText(
  existing: string | undefined,
  set: Record<string, string>,
  remove: readonly string[],
  header: readonly string[] = [],
): { text: string; replaced: string[]; added: string[]; removed: string[] } {
  const lines = existing === undefined ? header.map((line) => `# ${line}`) : existing.replace(/\r?\n$/, '').split(/\r?\n/)
  if (existing === '') lines.length = 0
  const replaced: string[] = []
  const removed: string[] = []
  const written = new Set<string>()
  const out: string[] = []
  for (const line of lines) {
    const key = LINE.exec(line)?.[1]
    if (key && key in set) {
      if (written.has(key)) continue // a duplicate: keep only the first, now set
      out.push(`${key}=${formatEnvValue(set[key]!)}`)
      written.add(key)
      replaced.push(key)
    } else if (key && remove.includes(key)) {
      if (!removed.includes(key)) removed.push(key)
    } else out.push(line)
  }
  const added: string[] = []
  for (const [key, value] of Object.entries(set)) {
    if (written.has(key)) continue
    out.push(`${key}=${formatEnvValue(value)}`)
    added.push(key)
  }
  return { text: `${out.join('\n')}\n`, replaced, added, removed }
}
