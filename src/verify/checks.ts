/**
 * The check list `imo verify` reports: each check has a name, a status and a one-line detail.
 * `pass` and `warn` hold; `fail` fails the verification; `skip` was not checked (said so in the
 * summary, e.g. on-chain checks without an RPC URL).
 */
import { VerificationFailedError } from '../errors.js'

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip'

export interface Check {
  name: string
  status: CheckStatus
  detail: string
}

export interface VerifyReport {
  /** What was verified: 'record' or 'token'. */
  kind: 'record' | 'token'
  /** The record path, or `<collection>#<tokenId hex>`. */
  subject: string
  /** True when no check failed. */
  ok: boolean
  checks: Check[]
  [extra: string]: unknown
}

/** Collects checks in order. */
export class CheckList {
  readonly checks: Check[] = []

  /** Adds a check from a condition: pass when true, fail when false, skip when null. */
  add(name: string, holds: boolean | null, detail: string, failDetail?: string): boolean {
    this.checks.push({
      name,
      status: holds === null ? 'skip' : holds ? 'pass' : 'fail',
      detail: holds === false && failDetail ? failDetail : detail,
    })
    return holds === true
  }

  push(check: Check): void {
    this.checks.push(check)
  }

  get ok(): boolean {
    return this.checks.every((check) => check.status !== 'fail')
  }
}

/** Verification failed: carries the whole report (exit 9). */
export class ChecksFailedError extends VerificationFailedError {
  override name = 'ChecksFailedError'
  readonly report: VerifyReport
  constructor(report: VerifyReport) {
    const failed = report.checks.filter((check) => check.status === 'fail')
    const first = failed[0]!
    super(
      `verification failed: ${first.name}: ${first.detail}${failed.length > 1 ? ` (and ${failed.length - 1} more failed checks)` : ''}`,
      { details: renderChecks(report), data: report },
    )
    this.report = report
  }
}

/**
 * The human table of checks: status, name, detail, then a summary line.
 * @example
 * renderChecks(report)
 * // 'PASS  model hash        0x5f…\nFAIL  re-execution      …\n…'
 */
export function renderChecks(report: VerifyReport): string {
  const width = Math.max(...report.checks.map((check) => check.name.length), 4)
  const lines = report.checks.map(
    (check) => `${check.status.toUpperCase().padEnd(4)}  ${check.name.padEnd(width)}  ${check.detail}`,
  )
  const failed = report.checks.filter((check) => check.status === 'fail').length
  const skipped = report.checks.filter((check) => check.status === 'skip').length
  lines.push(
    failed > 0
      ? `${report.subject}: ${failed} of ${report.checks.length} checks FAILED`
      : `${report.subject}: verified (${report.checks.length - skipped} checks passed${skipped ? `, ${skipped} skipped` : ''})`,
  )
  return lines.join('\n')
}

/**
 * The first line of an error's message, for a check's detail.
 * @example
 * errorLine(new Error('boom\nstack')) // 'boom'
 */
export function errorLine(error: unknown): string {
  const e = error as { shortMessage?: string; message?: string }
  return String(e?.shortMessage ?? e?.message ?? error).split('\n')[0] ?? ''
}
