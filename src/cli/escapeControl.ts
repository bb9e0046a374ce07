/**
 * The one escaping function for human output. Text that imo did not write itself (prompts placed on
 * chain by anyone who pays a fee, refusal and failure texts read from Redis, file contents quoted in
 * errors, token names) can carry terminal control characters: ESC sequences set the window title,
 * clear the screen or move the cursor, CR and BS overwrite what was printed, a newline forges an
 * `error:` line, and bidi controls reorder what the eye reads. Escaped, each shows as a visible
 * `\xHH` / `\uHHHH` (or `\n`, `\r`, `\t`) and does nothing.
 *
 * The output writers of src/cli/ui.ts, the table renderer and the error printer apply it to all they
 * print, so new code is safe by default: a one-line value is escaped whole at the place it joins a
 * message (`escapeControl(prompt)`), and whole human outputs are escaped keeping only their own line
 * breaks and imo's own colours. JSON output is not touched: JSON.stringify escapes what JSON needs.
 */

/**
 * C0 controls (NUL, BEL, BS, TAB, LF, CR, ESC, ...), DEL, C1 controls (CSI 0x9b, NEL 0x85, ...), the
 * bidi controls (LRE/RLE/PDF/LRO/RLO U+202A-202E, LRI/RLI/FSI/PDI U+2066-2069, LRM/RLM U+200E/F,
 * ALM U+061C) and the line and paragraph separators U+2028/9.
 */
const UNSAFE = '[\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069\\u2028\\u2029]'

/**
 * The SGR (colour) sequences chalk emits for imo's own colours: reset, bold, dim, italic,
 * underline, their ends, and the 16 foreground / background colours. Never conceal (8), blink or
 * anything that moves the cursor.
 */
const OWN_COLOUR = '\\u001b\\[(?:[0-4]|2[2-4]|3[0-9]|4[0-9]|9[0-7]|10[0-7])m'

const unsafe = new RegExp(UNSAFE, 'g')
const unsafeOrColour = new RegExp(`${OWN_COLOUR}|${UNSAFE}`, 'g')

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

function escapeChar(char: string): string {
  const named = NAMED[char]
  if (named) return named
  const code = char.charCodeAt(0)
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

export interface EscapeControlOptions {
  /** Keep line feeds (a whole multi-line output of imo's own). Default false: a value stays on one line. */
  keepNewlines?: boolean
  /** Keep the colour sequences imo's own colours use (set when colour output is on). Default false. */
  keepColour?: boolean
}

/**
 * Escapes terminal control and bidi characters so they show instead of acting.
 * @param text - the text to print.
 * @param options - keep line feeds and/or imo's own colour sequences (for whole outputs).
 * @returns the text with every unsafe character as a visible escape.
 * @example
 * import { escapeControl } from './cli/escapeControl.js'
 * escapeControl('a\u001b]0;pwned\u0007b\nerror: x') // 'a\\x1b]0;pwned\\x07b\\nerror: x'
 * escapeControl('done\n\u001b[32m✔\u001b[39m', { keepNewlines: true, keepColour: true }) // unchanged
 */
export function escapeControl(text: string, options: EscapeControlOptions = {}): string {
  return text.replace(options.keepColour ? unsafeOrColour : unsafe, (match) =>
    match.length > 1 || (match === '\n' && options.keepNewlines) ? match : escapeChar(match),
  )
}

/**
 * A value quoted for a message: shortened to `max` characters (with `…`), escaped, in double quotes.
 * @param text - the value (a prompt, a line of a file).
 * @param max - longest shown, in UTF-16 units before escaping (default: no limit).
 * @example
 * quoteText('a red spiral') // '"a red spiral"'
 * quoteText('x'.repeat(50), 40) // '"xxx…x…"' (39 x and an ellipsis)
 */
export function quoteText(text: string, max?: number): string {
  const short = max !== undefined && text.length > max ? `${text.slice(0, max - 1)}…` : text
  return `"${escapeControl(short)}"`
}
