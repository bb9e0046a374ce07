/**
 * The one place that writes to the terminal. Results go to stdout (one JSON document with --json);
 * everything else (notes, warnings, spinners, progress) goes to stderr, and spinners only when
 * stderr is a terminal. Colours honour --no-color and NO_COLOR.
 */
import chalk from 'chalk'
import { redact } from '../util/redact.js'
import { escapeControl } from './escapeControl.js'

export interface UiSettings {
  json: boolean
  quiet: boolean
  verbose: boolean
  color: boolean
}

const settings: UiSettings = { json: false, quiet: false, verbose: false, color: true }

/** Applies the global output flags; called once by src/cli.ts before a command runs. */
export function configureUi(next: Partial<UiSettings>): void {
  Object.assign(settings, next)
  if (!settings.color) chalk.level = 0
}

export function uiSettings(): Readonly<UiSettings> {
  return settings
}

/** True when a person can answer prompts: stdin and stderr are terminals and CI is unset. */
export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY && !process.env.CI)
}

export const color = chalk

/**
 * What every human output passes through: secrets redacted, then every terminal control and bidi
 * character escaped except the text's own line breaks and imo's own colours (src/cli/escapeControl.ts).
 * A one-line value from outside (a prompt, a Redis text) is escaped whole where it joins a message,
 * so it cannot start a line either.
 */
function safeText(text: string): string {
  return escapeControl(redact(text), { keepNewlines: true, keepColour: settings.color && chalk.level > 0 })
}

function writeErr(line: string): void {
  process.stderr.write(`${safeText(line)}\n`)
}

/** A note for the operator on stderr (hidden by --quiet). */
export function note(message: string): void {
  if (!settings.quiet) writeErr(message)
}

/** A warning on stderr (always shown). */
export function warn(message: string): void {
  writeErr(`${chalk.yellow('warning:')} ${message}`)
}

/**
 * Prints a command's result: the data object as one JSON document with --json, else the human
 * rendering on stdout. Bigints become decimal strings in JSON.
 * @example
 * printResult({ modelHash: '0x..' }, (r) => r.modelHash)
 */
export function printResult<T>(data: T, human: (data: T) => string): void {
  if (settings.json) {
    process.stdout.write(`${redact(toJson(data))}\n`)
    return
  }
  const text = human(data)
  if (text) process.stdout.write(`${safeText(text)}\n`)
}

/** JSON with bigints as decimal strings and Uint8Arrays as 0x-hex, indented for people. */
export function toJson(data: unknown): string {
  return JSON.stringify(
    data,
    (_key, value) => {
      if (typeof value === 'bigint') return value.toString()
      if (value instanceof Uint8Array) return `0x${Buffer.from(value).toString('hex')}`
      return value
    },
    2,
  )
}

export interface Spinner {
  update(text: string): void
  succeed(text?: string): void
  fail(text?: string): void
  stop(): void
}

/** Spinners running now: a nested one (say a transaction's, inside a command's) stays silent. */
let activeSpinners = 0

/** Counts a spinner as active until its first succeed/fail/stop. */
function tracked(inner: Spinner): Spinner {
  activeSpinners++
  let open = true
  const end = () => {
    if (open) activeSpinners--
    open = false
  }
  return {
    update: (t) => {
      if (open) inner.update(t)
    },
    succeed: (t) => {
      if (open) inner.succeed(t)
      end()
    },
    fail: (t) => {
      if (open) inner.fail(t)
      end()
    },
    stop: () => {
      if (open) inner.stop()
      end()
    },
  }
}

/**
 * A spinner on stderr for work that may take over a second; degrades to plain stderr lines
 * (one at start, one at the end) without a terminal, and to nothing with --quiet or --json, or
 * while another spinner runs (the outer one speaks for the work).
 */
export async function spinner(text: string): Promise<Spinner> {
  if (activeSpinners > 0) return { update: () => {}, succeed: () => {}, fail: () => {}, stop: () => {} }
  return tracked(await startSpinner(text))
}

/**
 * True when stderr (or `stream`) can show an animated spinner or progress bar: a terminal that is not `TERM=dumb`, not under CI,
 * and reports its width (a terminal of 0 columns made ora redraw without end: issue 21 item 23).
 */
export function canAnimate(stream: NodeJS.WriteStream = process.stderr): boolean {
  const { env } = process
  return Boolean(stream.isTTY) && !env.CI && env.TERM !== 'dumb' && (stream.columns ?? 0) > 0
}

async function startSpinner(text: string): Promise<Spinner> {
  const quietLines = settings.quiet || settings.json
  if (!canAnimate() || quietLines) {
    if (!quietLines) writeErr(`… ${text}`)
    let current = text
    return {
      update: (t) => {
        current = t
      },
      succeed: (t) => {
        if (!quietLines) writeErr(`${chalk.green('✔')} ${t ?? current}`)
      },
      fail: (t) => {
        if (!quietLines) writeErr(`${chalk.red('✖')} ${t ?? current}`)
      },
      stop: () => {},
    }
  }
  const { default: ora } = await import('ora')
  const s = ora({ text: safeText(text), stream: process.stderr, color: 'cyan', isEnabled: true }).start()
  return {
    update: (t) => {
      s.text = safeText(t)
    },
    succeed: (t) => {
      s.succeed(t === undefined ? undefined : safeText(t))
    },
    fail: (t) => {
      s.fail(t === undefined ? undefined : safeText(t))
    },
    stop: () => {
      s.stop()
    },
  }
}

/**
 * Runs work under a spinner: on success the spinner ends with `done(result)`'s text, on failure it
 * stops silently (the error is printed once, by src/cli.ts) and the error is rethrown.
 * @param text - what the spinner says while the work runs.
 * @param work - gets the spinner, to update its text with progress.
 * @param done - the success line, from the result.
 * @example
 * const result = await withSpinner('minting', (s) => mintRecords(ctx, items, { onProgress: s.update }), () => 'minted')
 */
export async function withSpinner<T>(
  text: string,
  work: (progress: Spinner) => Promise<T>,
  done: (result: T) => string,
): Promise<T> {
  const progress = await spinner(text)
  let result: T
  try {
    result = await work(progress)
  } catch (error) {
    progress.stop()
    throw error
  }
  progress.succeed(done(result))
  return result
}

/** Formats a byte count as KiB/MiB/GiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}
