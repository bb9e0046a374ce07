/**
 * Amounts for people: wei <-> decimal native units with the chain's symbol (viem chain info, else ETH).
 */
import { UsageError } from '../errors.js'

/**
 * Formats an amount in base units as a decimal amount with a symbol, trimming trailing zeros.
 * @param amount - amount in the currency's smallest unit.
 * @param decimals - the currency's decimals (18 for ether, 6 for USDC).
 * @param symbol - the currency's symbol.
 * @returns e.g. '2.5 USDC'.
 * @example
 * formatUnits(2_500_000n, 6, 'USDC') // '2.5 USDC'
 */
export function formatUnits(amount: bigint, decimals: number, symbol: string): string {
  const negative = amount < 0n
  const abs = negative ? -amount : amount
  const unit = 10n ** BigInt(decimals)
  const whole = abs / unit
  const fraction = decimals === 0 ? '' : (abs % unit).toString().padStart(decimals, '0').replace(/0+$/, '')
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''} ${symbol}`
}

/**
 * Formats wei as a decimal amount with the native symbol, trimming trailing zeros.
 * @param wei - amount in wei.
 * @param symbol - native currency symbol (default 'ETH').
 * @returns e.g. '1.5 ETH'.
 * @example
 * formatNative(1500000000000000000n) // '1.5 ETH'
 */
export function formatNative(wei: bigint, symbol = 'ETH'): string {
  return formatUnits(wei, 18, symbol)
}

/**
 * Formats a gas price in wei as gwei (up to 9 decimals).
 * @example
 * formatGwei(1500000000n) // '1.5 gwei'
 */
export function formatGwei(wei: bigint): string {
  const whole = wei / 10n ** 9n
  const fraction = (wei % 10n ** 9n).toString().padStart(9, '0').replace(/0+$/, '')
  return `${whole}${fraction ? `.${fraction}` : ''} gwei`
}

export interface ParseAmountOptions {
  /** Flag or argument name for errors, e.g. 'AMOUNT' or '--mint-fee'. */
  name?: string
  /** Accept zero (default false). */
  allowZero?: boolean
  /** Decimals of the unit (default 18: ETH -> wei; 9 for gwei -> wei). */
  decimals?: number
}

/**
 * Parses a decimal amount ('1.5', '0.01', '3') into base units (wei by default).
 * @param text - the amount as typed.
 * @param options - name for errors, zero allowed, decimals.
 * @returns the amount in base units.
 * @throws UsageError for negative, zero (unless allowed), malformed or over-precise amounts.
 * @example
 * parseAmount('1.5') // 1500000000000000000n
 */
export function parseAmount(text: string, options: ParseAmountOptions = {}): bigint {
  const name = options.name ?? 'amount'
  const decimals = options.decimals ?? 18
  const value = String(text).trim()
  if (value.startsWith('-')) throw new UsageError(`${name} must be positive, not "${value}"`)
  const match = /^(\d*)(?:\.(\d*))?$/.exec(value)
  if (!match || value === '' || value === '.' || (match[1] === '' && (match[2] ?? '') === ''))
    throw new UsageError(`${name} must be a decimal number like 1.5, not "${value}"`)
  const fraction = (match[2] ?? '').replace(/0+$/, '')
  if (fraction.length > decimals) throw new UsageError(`${name} has more than ${decimals} decimals: "${value}"`)
  const result = BigInt(match[1] || '0') * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, '0') || '0')
  if (result === 0n && !options.allowZero) throw new UsageError(`${name} must be greater than zero`)
  if (result >= 2n ** 256n) throw new UsageError(`${name} is too large: "${value}" does not fit in a uint256 of base units`)
  return result
}

/**
 * Parses a gwei amount into wei (for fee flags).
 * @example
 * parseGwei('1.5', '--max-fee-per-gas') // 1500000000n
 */
export function parseGwei(text: string, name: string): bigint {
  return parseAmount(text, { name, decimals: 9, allowZero: true })
}

/**
 * Parses a whole non-negative number flag.
 * @example
 * parseWhole('12', '--claim-window') // 12n
 */
export function parseWhole(text: string, name: string, options: { min?: bigint; max?: bigint } = {}): bigint {
  const value = String(text).trim()
  if (!/^\d+$/.test(value)) throw new UsageError(`${name} must be a whole number, not "${value}"`)
  const result = BigInt(value)
  if (options.min !== undefined && result < options.min) throw new UsageError(`${name} must be at least ${options.min}`)
  if (options.max !== undefined && result > options.max) throw new UsageError(`${name} must be at most ${options.max}`)
  return result
}
