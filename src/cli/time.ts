/**
 * Times for people: ISO 8601 local date-times with the UTC offset, and short relative durations
 * ("in 3 h 12 min", "5 min ago"). Inputs are unix seconds, as contracts store them.
 */

/**
 * A duration in seconds as at most two units: '3 d 4 h', '3 h 12 min', '5 min 3 s', '42 s'.
 * @param seconds - a non-negative duration (negative values use their absolute value).
 * @returns the short text.
 * @example
 * formatDuration(11_520) // '3 h 12 min'
 */
export function formatDuration(seconds: number): string {
  const total = Math.round(Math.abs(seconds))
  const units: Array<[string, number]> = [
    ['d', 86_400],
    ['h', 3600],
    ['min', 60],
    ['s', 1],
  ]
  const first = units.findIndex(([, size]) => total >= size)
  if (first === -1) return '0 s'
  const [bigName, bigSize] = units[first]!
  const big = Math.floor(total / bigSize)
  const next = units[first + 1]
  const small = next ? Math.floor((total % bigSize) / next[1]) : 0
  return small > 0 && next ? `${big} ${bigName} ${small} ${next[0]}` : `${big} ${bigName}`
}

/**
 * A moment relative to now: 'in 3 h 12 min', '5 min ago', or 'now'.
 * @param at - unix seconds.
 * @param now - unix seconds taken as now (e.g. the chain's latest block time).
 * @returns the relative text.
 * @example
 * formatRelative(1_700_000_600, 1_700_000_000) // 'in 10 min'
 */
export function formatRelative(at: number, now: number): string {
  const delta = Math.round(at - now)
  if (delta === 0) return 'now'
  return delta > 0 ? `in ${formatDuration(delta)}` : `${formatDuration(-delta)} ago`
}

/**
 * Unix seconds as an ISO 8601 local date-time with its UTC offset, e.g. '2025-06-01T14:03:00+02:00'.
 * @param at - unix seconds.
 * @returns the local date-time (the TZ environment variable chooses the zone).
 * @example
 * formatLocalIso(0) // '1970-01-01T00:00:00+00:00' when TZ=UTC
 */
export function formatLocalIso(at: number): string {
  const date = new Date(at * 1000)
  const two = (n: number) => String(n).padStart(2, '0')
  const offset = -date.getTimezoneOffset()
  const sign = offset >= 0 ? '+' : '-'
  const abs = Math.abs(offset)
  return (
    `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}` +
    `T${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}` +
    `${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`
  )
}

/**
 * Both at once, for human output: '2025-06-01T14:03:00+02:00 (in 3 h 12 min)'.
 * @param at - unix seconds.
 * @param now - unix seconds taken as now.
 * @example
 * formatWhen(1_700_000_600, 1_700_000_000) // '2023-11-14T22:23:20+00:00 (in 10 min)' when TZ=UTC
 */
export function formatWhen(at: number, now: number): string {
  return `${formatLocalIso(at)} (${formatRelative(at, now)})`
}

/**
 * Parses a moment given on the command line: `now`, a relative `+90s` / `+30m` / `+2h` / `+1d` (from `now`),
 * or an ISO 8601 date-time (`2026-06-01T14:00:00Z`, `2026-06-01T14:00:00+02:00`; without an offset, local time).
 * @param text - the value as typed.
 * @param now - unix seconds taken as now (the chain's time).
 * @param flag - the flag, named in errors.
 * @returns unix seconds.
 * @throws UsageError (exit 2) for anything else.
 * @example
 * parseTime('+2h', 1_700_000_000, '--start') // 1700007200
 */
export async function parseTime(text: string, now: number, flag: string): Promise<number> {
  const value = String(text).trim()
  if (value === 'now') return now
  const relative = /^\+(\d+)\s*(s|m|min|h|d)$/.exec(value)
  let at: number
  if (relative) {
    const unit = { s: 1, m: 60, min: 60, h: 3600, d: 86_400 }[relative[2] as 's' | 'm' | 'min' | 'h' | 'd']
    at = now + Number(relative[1]) * unit
  } else {
    const ms = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(value)
      ? Date.parse(value)
      : Number.NaN
    if (Number.isNaN(ms)) {
      const { UsageError } = await import('../errors.js')
      throw new UsageError(
        `${flag} must be an ISO 8601 date-time like 2026-06-01T14:00:00Z, or +30m, +2h, +1d, or now; not "${value}"`,
      )
    }
    at = Math.floor(ms / 1000)
  }
  // Beyond the year 9999 a time cannot be shown (it printed as NaN-NaN-NaN) and no sale lasts that long.
  if (!(at >= 0 && at <= MAX_TIME)) {
    const { UsageError } = await import('../errors.js')
    throw new UsageError(`${flag} ${value} is out of range: give a time between 1970 and 9999`)
  }
  return at
}

/** The last second of the year 9999, the latest time parseTime accepts. */
export const MAX_TIME = 253_402_300_799
