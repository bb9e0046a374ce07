/**
 * One error base for the whole tool, after viem's `BaseError`: a short one-line message for the
 * operator, optional details for `--verbose`, a `cause` chain, and the process exit code that the
 * CLI boundary (src/cli.ts, the only place that exits) uses. Exit codes: README "Exit codes".
 */

/** Exit codes (README "Exit codes"; VerificationFailed and Unverified are 9 and 10). */
export const ExitCode = {
  Success: 0,
  Internal: 1,
  Usage: 2,
  SimulationReverted: 3,
  TransactionReverted: 4,
  NotConfirmed: 5,
  Rpc: 6,
  NonceConflict: 7,
  InsufficientFunds: 8,
  VerificationFailed: 9,
  /** imo verify: nothing failed, but a check that decides the result could not run (no RPC, other chain). */
  Unverified: 10,
  Interrupted: 130,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export interface ImoErrorOptions {
  /** Longer explanation, printed with --verbose (and in --json errors). */
  details?: string
  /** What the operator can do next; printed on a second line. */
  hint?: string
  cause?: unknown
  exitCode?: ExitCode
  /** The command's result so far (e.g. verify's table of checks), printed as `result` in --json errors. */
  data?: unknown
}

/**
 * Base of every error imo raises on purpose.
 * @example
 * import { ImoError, ExitCode } from './errors.js'
 * throw new ImoError('deployment file not found: .imo/deployments/31337/default.json', { exitCode: ExitCode.Usage })
 */
export class ImoError extends Error {
  override name = 'ImoError'
  readonly shortMessage: string
  readonly details: string | undefined
  readonly hint: string | undefined
  readonly exitCode: ExitCode
  readonly data: unknown

  constructor(shortMessage: string, options: ImoErrorOptions = {}) {
    super(shortMessage, options.cause === undefined ? undefined : { cause: options.cause })
    this.shortMessage = shortMessage
    this.details = options.details
    this.hint = options.hint
    this.exitCode = options.exitCode ?? ExitCode.Internal
    this.data = options.data
  }

  /** Walks the cause chain and returns the first error `match` accepts (viem's `walk`). */
  walk(match: (error: unknown) => boolean): unknown {
    let current: unknown = this
    while (current) {
      if (match(current)) return current
      current = (current as { cause?: unknown }).cause
    }
    return undefined
  }
}

/** Bad flags, bad input files, or a value that is needed while nobody can be asked (exit 2). */
export class UsageError extends ImoError {
  override name = 'UsageError'
  constructor(message: string, options: Omit<ImoErrorOptions, 'exitCode'> = {}) {
    super(message, { ...options, exitCode: ExitCode.Usage })
  }
}

/** A required value is missing and there is no TTY to ask for it (exit 2, names the flag). */
export class InputNeededError extends UsageError {
  override name = 'InputNeededError'
  constructor(flag: string, what: string, env?: string) {
    super(`missing ${what}: pass ${flag}${env ? ` or set ${env}` : ''} (no terminal to ask on)`)
  }
}

/** Simulation of a call reverted: nothing was sent (exit 3). */
export class SimulationRevertedError extends ImoError {
  override name = 'SimulationRevertedError'
  constructor(message: string, options: Omit<ImoErrorOptions, 'exitCode'> = {}) {
    super(message, { ...options, exitCode: ExitCode.SimulationReverted })
  }
}

/** The transaction was mined but reverted (exit 4). */
export class TransactionRevertedError extends ImoError {
  override name = 'TransactionRevertedError'
  constructor(message: string, options: Omit<ImoErrorOptions, 'exitCode'> = {}) {
    super(message, { ...options, exitCode: ExitCode.TransactionReverted })
  }
}

/** Sent but not confirmed; the journal lets a re-run resume (exit 5). */
export class NotConfirmedError extends ImoError {
  override name = 'NotConfirmedError'
  constructor(message: string, options: Omit<ImoErrorOptions, 'exitCode'> = {}) {
    super(message, { hint: 're-run the same command to resume', ...options, exitCode: ExitCode.NotConfirmed })
  }
}

/** RPC unreachable, or it serves another chain than expected (exit 6). */
export class RpcError extends ImoError {
  override name = 'RpcError'
  constructor(message: string, options: Omit<ImoErrorOptions, 'exitCode'> = {}) {
    super(message, { ...options, exitCode: ExitCode.Rpc })
  }
}

/** A journalled nonce was taken by another transaction, or ours was replaced (exit 7). */
export class NonceConflictError extends ImoError {
  override name = 'NonceConflictError'
  constructor(message: string, options: Omit<ImoErrorOptions, 'exitCode'> = {}) {
    super(message, { ...options, exitCode: ExitCode.NonceConflict })
  }
}

/** The signer cannot pay for value + gas (exit 8). */
export class InsufficientFundsError extends ImoError {
  override name = 'InsufficientFundsError'
  constructor(message: string, options: Omit<ImoErrorOptions, 'exitCode'> = {}) {
    super(message, { ...options, exitCode: ExitCode.InsufficientFunds })
  }
}

/** A verification check failed: the content does not match its proof (exit 9). */
export class VerificationFailedError extends ImoError {
  override name = 'VerificationFailedError'
  constructor(message: string, options: Omit<ImoErrorOptions, 'exitCode'> = {}) {
    super(message, { ...options, exitCode: ExitCode.VerificationFailed })
  }
}

/** Ctrl-C or SIGTERM while working (exit 130). */
export class InterruptedError extends ImoError {
  override name = 'InterruptedError'
  constructor(message = 'interrupted') {
    super(message, { exitCode: ExitCode.Interrupted })
  }
}
