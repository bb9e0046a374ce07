/**
 * Which worker results serve re-executes before it signs them (`imo serve --queue --audit-rate R`).
 *
 * Each result is drawn independently, after it arrived, with a cryptographic random number: a worker
 * cannot know whether its next answer will be re-run, and no name it gives itself changes the odds.
 * A worker that forges outputs is caught at its first audited forgery; with rate R the number of its
 * forgeries signed before that is (1 - R) / R on average (9 at the default 0.1) and more than k with
 * probability (1 - R)^k (at 0.1: 12 % beyond 20, 0.5 % beyond 50). After any mismatch serve audits
 * every result for ALARM_MS, whoever sent it, because a worker that was caught can come back under
 * another name.
 *
 * Why 0.1 by default: re-running one result in ten costs the dispatcher a tenth of a worker's model
 * time per request, so the queue still scales to about ten workers' worth of throughput before the
 * audits become serve's bottleneck; lower it for larger fleets of workers you run yourself, raise it
 * (up to 1: serve re-runs everything and workers add no throughput) for workers you trust less.
 */
import { randomInt } from 'node:crypto'
import { UsageError } from '../errors.js'

/** The default share of worker results serve re-executes. */
export const DEFAULT_AUDIT_RATE = 0.1
/** How long serve audits every result after a mismatch. */
export const ALARM_MS = 60 * 60_000

/**
 * Parses `--audit-rate` / `IMO_AUDIT_RATE`: a number from 0 to 1.
 * @throws UsageError (exit 2) naming the flag.
 * @example
 * parseAuditRate('0.25') // 0.25
 */
export function parseAuditRate(text: string): number {
  const rate = /^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(text.trim()) ? Number(text) : Number.NaN
  if (!(rate >= 0 && rate <= 1))
    throw new UsageError(
      `--audit-rate must be a number from 0 to 1 (the share of worker results serve re-runs), got ${JSON.stringify(text)}`,
    )
  return rate
}

/** serve's audit draw. */
export interface AuditSampler {
  readonly rate: number
  /** Whether to re-execute the result at hand (a fresh draw each call). */
  shouldAudit(): boolean
  /** A mismatch was found: audit everything for ALARM_MS from now. */
  alarm(): void
  /** The time (ms since the epoch) until which every result is audited, or 0. */
  alarmUntil(): number
}

/**
 * Creates the draw for a rate.
 * @param rate - from 0 to 1.
 * @param options - the alarm's length (tests shorten it).
 * @example
 * const sampler = createAuditSampler(0.1)
 * if (sampler.shouldAudit()) await reexecute(...)
 */
export function createAuditSampler(rate: number, options: { alarmMs?: number } = {}): AuditSampler {
  let until = 0
  return {
    rate,
    shouldAudit: () => Date.now() < until || randomInt(0, 2 ** 32) < rate * 2 ** 32,
    alarm() {
      until = Date.now() + (options.alarmMs ?? ALARM_MS)
    },
    alarmUntil: () => (Date.now() < until ? until : 0),
  }
}
