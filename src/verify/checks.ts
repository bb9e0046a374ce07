/**
 * The check list `imo verify` reports: each check has a name, a status and a one-line detail.
 * `pass` and `warn` hold; `fail` fails the verification; `skip` is a deciding check that could not
 * run (no RPC, another chain, ...), which leaves the result "unverified", never "verified";
 * `info` says what was not a claim to check (e.g. a record that was never minted).
 */
import { escapeControl } from '../cli/escapeControl.js'
import { ExitCode, ImoError, VerificationFailedError } from '../errors.js'

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip' | 'info'

/** verified: every deciding check ran and held; unverified: none failed, some could not run. */
export type VerifyStatus = 'verified' | 'unverified' | 'failed'

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
  /** True only when the result is 'verified' (every deciding check ran and passed). */
  ok: boolean
  status: VerifyStatus
  checks: Check[]
  /** Set by `--offline`: the result was accepted although the skipped checks did not run. */
  offline?: boolean
  [extra: string]: unknown
}

/** Collects checks in order. */
export class CheckList {
  readonly checks: Check[] = []

  /** Adds a check from a condition: pass when true, fail when false, skip (could not run) when null. */
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

  /** 'failed' when a check failed, else 'unverified' when one could not run, else 'verified'. */
  get status(): VerifyStatus {
    return verifyStatus(this.checks)
  }

  /** True when the result is verified. */
  get ok(): boolean {
    return this.status === 'verified'
  }
}

/**
 * The status of a set of checks.
 * @example
 * verifyStatus([{ name: 'attester', status: 'skip', detail: '' }]) // 'unverified'
 */
export function verifyStatus(checks: readonly Check[]): VerifyStatus {
  if (checks.some((check) => check.status === 'fail')) return 'failed'
  return checks.some((check) => check.status === 'skip') ? 'unverified' : 'verified'
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

/** Nothing failed but a deciding check could not run: not verified (exit 10), unless --offline. */
export class UnverifiedError extends ImoError {
  override name = 'UnverifiedError'
  readonly report: VerifyReport
  constructor(report: VerifyReport) {
    const skipped = report.checks.filter((check) => check.status === 'skip')
    super(`unverified: ${skipped.map((check) => `${check.name} (${check.detail})`).join('; ')}`, {
      details: renderChecks(report),
      data: report,
      exitCode: ExitCode.Unverified,
      hint: 'give an RPC URL of the chain the token is on (--rpc-url), or accept an offline check with --offline',
    })
    this.report = report
  }
}

/**
 * The human table of checks: status, name, detail, then a summary line that names every check that
 * could not run.
 * @example
 * renderChecks(report)
 * // 'PASS  model hash        0x5f…\nFAIL  re-execution      …\n…'
 */
export function renderChecks(report: VerifyReport): string {
  const width = Math.max(...report.checks.map((check) => check.name.length), 4)
  const lines = report.checks.map(
    // A detail quotes what the record, the token URI or the chain holds: one escaped line each.
    (check) => `${check.status.toUpperCase().padEnd(4)}  ${check.name.padEnd(width)}  ${escapeControl(check.detail)}`,
  )
  const failed = report.checks.filter((check) => check.status === 'fail').length
  const skipped = report.checks.filter((check) => check.status === 'skip')
  const passed = report.checks.filter((check) => check.status === 'pass' || check.status === 'warn').length
  const status = verifyStatus(report.checks)
  if (status === 'failed') lines.push(`${report.subject}: ${failed} of ${report.checks.length} checks FAILED`)
  else if (status === 'verified') lines.push(`${report.subject}: verified (${passed} checks passed)`)
  else
    lines.push(
      `${report.subject}: ${report.offline ? 'verified OFFLINE only' : 'UNVERIFIED'} (${passed} checks passed; NOT checked: ${skipped.map((check) => check.name).join(', ')})`,
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
