/**
 * Transaction settings from the shared tx flags (src/cli/options.ts txOptions), parsed once.
 */
import { UsageError } from '../errors.js'
import { parseGwei, parseWhole } from './format.js'

export interface TxSettings {
  dryRun: boolean
  yes: boolean
  /** Send although a check advises against it (a --gas-limit below the estimate). */
  force: boolean
  /** Idempotency key (--key, IMO_IDEMPOTENCY_KEY): a value-moving action is done at most once per key. */
  key?: string
  /** Blocks to wait after inclusion (1 = included). */
  confirmations: number
  /** How long to wait for receipts before NotConfirmedError (exit 5). */
  timeoutMs: number
  /** Receipt polling interval. */
  pollingIntervalMs: number
  gasLimit?: bigint
  maxFeePerGas?: bigint
  maxPriorityFeePerGas?: bigint
  gasPrice?: bigint
}

export interface TxOptionValues {
  dryRun?: boolean
  yes?: boolean
  force?: boolean
  key?: string
  confirmations?: string
  timeout?: string
  gasLimit?: string
  maxFeePerGas?: string
  maxPriorityFeePerGas?: string
  gasPrice?: string
}

/**
 * Parses the tx flags.
 * @param values - commander option values.
 * @returns the settings, with defaults (1 confirmation, 120 s timeout).
 * @throws UsageError for malformed numbers or contradictory fee flags.
 * @example
 * parseTxSettings({ confirmations: '2', maxFeePerGas: '30' }).maxFeePerGas // 30000000000n
 */
export function parseTxSettings(values: TxOptionValues): TxSettings {
  const settings: TxSettings = {
    dryRun: Boolean(values.dryRun),
    yes: Boolean(values.yes),
    force: Boolean(values.force),
    confirmations:
      values.confirmations === undefined
        ? 1
        : Number(parseWhole(values.confirmations, '--confirmations', { min: 1n, max: 1000n })),
    timeoutMs:
      values.timeout === undefined ? 120_000 : Number(parseWhole(values.timeout, '--timeout', { min: 1n, max: 86_400n })) * 1000,
    pollingIntervalMs: 1000,
  }
  if (values.key !== undefined) {
    if (!/^[A-Za-z0-9._:/-]{1,128}$/.test(values.key))
      throw new UsageError('--key must be 1-128 characters of letters, digits and . _ : / -, e.g. --key "$CI_PIPELINE_ID"')
    settings.key = values.key
  }
  if (values.gasLimit !== undefined) settings.gasLimit = parseWhole(values.gasLimit, '--gas-limit', { min: 21_000n })
  if (values.maxFeePerGas !== undefined) settings.maxFeePerGas = parseGwei(values.maxFeePerGas, '--max-fee-per-gas')
  if (values.maxPriorityFeePerGas !== undefined)
    settings.maxPriorityFeePerGas = parseGwei(values.maxPriorityFeePerGas, '--max-priority-fee-per-gas')
  if (values.gasPrice !== undefined) settings.gasPrice = parseGwei(values.gasPrice, '--gas-price')
  if (settings.gasPrice !== undefined && (settings.maxFeePerGas !== undefined || settings.maxPriorityFeePerGas !== undefined))
    throw new UsageError('--gas-price (legacy) cannot be combined with --max-fee-per-gas / --max-priority-fee-per-gas')
  if (
    settings.maxFeePerGas !== undefined &&
    settings.maxPriorityFeePerGas !== undefined &&
    settings.maxPriorityFeePerGas > settings.maxFeePerGas
  )
    throw new UsageError('--max-priority-fee-per-gas cannot exceed --max-fee-per-gas')
  return settings
}
