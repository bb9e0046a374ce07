/**
 * Revenue currencies as commands see them: the native currency (address zero, the chain's symbol, 18
 * decimals) and the ERC-20s a token lists, each with the symbol and decimals read from the chain.
 * `--currency ADDRESS|SYMBOL` is resolved here, amounts are parsed and formatted here in each
 * currency's own units, and `--json` gets the same `{ address, symbol, decimals }` beside every amount.
 *
 * An address is trusted only as what the chain says it is: no code is refused (a typo, an EOA, another
 * chain's token), and a contract without `symbol()`/`decimals()` is not an ERC-20 we can show amounts of.
 */
import type { Address } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import { formatUnits, parseAmount } from '../chain/format.js'
import { UsageError } from '../errors.js'

/** The address that stands for the native currency (ether) in the token's revenue-currency list. */
export const NATIVE_CURRENCY: Address = '0x0000000000000000000000000000000000000000'

export interface Currency {
  /** The ERC-20's address; NATIVE_CURRENCY for the native currency. */
  address: Address
  symbol: string
  decimals: number
  native: boolean
}

type Reader = Pick<ChainContext, 'publicClient' | 'rpcUrl'>

/**
 * The chain's native currency as a Currency.
 * @example
 * nativeCurrency(ctx) // { address: '0x0000…0000', symbol: 'ETH', decimals: 18, native: true }
 */
export function nativeCurrency(ctx: Pick<ChainContext, 'nativeSymbol'>): Currency {
  return { address: NATIVE_CURRENCY, symbol: ctx.nativeSymbol, decimals: 18, native: true }
}

/**
 * Reads an ERC-20's symbol and decimals, refusing an address that is not one.
 * @param ctx - chain context (reads only).
 * @param address - the checksummed address.
 * @param name - the flag or argument, for errors (e.g. '--revenue-currency').
 * @returns the currency.
 * @throws UsageError (exit 2) when the address has no code, or its code has no `symbol()`/`decimals()`.
 * @example
 * await readErc20(ctx, '0x8464135c8F25Da09e49BC8782676a84730C318bC', '--currency')
 * // { address: '0x8464…18bC', symbol: 'USDC', decimals: 6, native: false }
 */
export async function readErc20(ctx: Reader, address: Address, name: string): Promise<Currency> {
  const { toImoError } = await import('../chain/toImoError.js')
  const code = await ctx.publicClient.getCode({ address }).catch((error: unknown) => {
    throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: `reading the code at ${address}` })
  })
  if (!code || code === '0x')
    throw new UsageError(`${name} ${address} has no contract code on this chain: it is not an ERC-20 token`)
  const { erc20Abi } = await import('viem')
  const { isConnectionError } = await import('../chain/toImoError.js')
  try {
    const [symbol, decimals] = await Promise.all([
      ctx.publicClient.readContract({ address, abi: erc20Abi, functionName: 'symbol' }),
      ctx.publicClient.readContract({ address, abi: erc20Abi, functionName: 'decimals' }),
    ])
    return { address, symbol, decimals, native: false }
  } catch (error) {
    if (isConnectionError(error)) throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: `reading the ERC-20 at ${address}` })
    throw new UsageError(`${name} ${address} is a contract without ERC-20 symbol() and decimals()`, { cause: error })
  }
}

/**
 * The token's revenue currencies: the native currency first, then its ERC-20s in the token's order.
 * @param ctx - chain context (reads only).
 * @param token - the IMO token.
 * @example
 * (await readRevenueCurrencies(ctx, token)).map((c) => c.symbol) // ['ETH', 'USDC']
 */
export async function readRevenueCurrencies(
  ctx: Reader & Pick<ChainContext, 'nativeSymbol'>,
  token: Address,
): Promise<Currency[]> {
  const { imoTokenAbi } = await import('../../contracts-abi/index.js')
  const { readMany } = await import('./readMany.js')
  const { isConnectionError } = await import('../chain/toImoError.js')
  let listed: readonly Address[]
  try {
    ;[listed] = (await readMany(ctx, [{ address: token, abi: imoTokenAbi, functionName: 'revenueCurrencies' }])) as [
      readonly Address[],
    ]
  } catch (error) {
    // A token deployed before revenue currencies existed has no revenueCurrencies(): native only.
    if (isConnectionError(error) || (error as { exitCode?: number }).exitCode === 6) throw error
    listed = []
  }
  const erc20s = await Promise.all(
    listed.filter((address) => address !== NATIVE_CURRENCY).map((address) => readErc20(ctx, address, 'revenue currency')),
  )
  return [nativeCurrency(ctx), ...erc20s]
}

/**
 * Resolves `--currency ADDRESS|SYMBOL` against the token's list (absent: the native currency).
 * @param ctx - chain context (reads only).
 * @param token - the IMO token.
 * @param text - what was typed, or undefined.
 * @param name - the flag, for errors (default '--currency').
 * @returns the listed currency.
 * @throws UsageError (exit 2) for a malformed address, an address with no ERC-20 code, or a currency
 *   the token does not list (its transfers to the token are not revenue).
 * @example
 * await resolveCurrency(ctx, token, 'usdc') // { address: '0x8464…18bC', symbol: 'USDC', decimals: 6, native: false }
 * await resolveCurrency(ctx, token, undefined) // the native currency
 */
export async function resolveCurrency(
  ctx: Reader & Pick<ChainContext, 'nativeSymbol'>,
  token: Address,
  text: string | undefined,
  name = '--currency',
): Promise<Currency> {
  const value = text?.trim()
  if (value === undefined || value === '' || value.toUpperCase() === ctx.nativeSymbol.toUpperCase() || value === 'native')
    return nativeCurrency(ctx)
  const listed = await readRevenueCurrencies(ctx, token)
  const names = listed.map((c) => `${c.symbol}${c.native ? '' : ` (${c.address})`}`).join(', ')
  if (value.startsWith('0x')) {
    const { parseAddress } = await import('../util/parseAddress.js')
    const address = await parseAddress(value, name)
    const found = listed.find((c) => c.address.toLowerCase() === address.toLowerCase())
    if (found) return found
    const currency = await readErc20(ctx, address, name) // no code: say so rather than "not listed"
    throw new UsageError(
      `${name} ${currency.symbol} (${address}) is not a revenue currency of the token ${token}: what it receives of it is not revenue (listed: ${names})`,
    )
  }
  const matches = listed.filter((c) => c.symbol.toUpperCase() === value.toUpperCase())
  if (matches.length === 1) return matches[0]!
  if (matches.length > 1)
    throw new UsageError(`${name} ${value} names ${matches.length} of the token's currencies: pass the address (${names})`)
  throw new UsageError(`${name} ${value} is not a revenue currency of the token ${token} (listed: ${names})`)
}

/**
 * Parses an amount typed in a currency's own units into its smallest unit.
 * @throws UsageError (exit 2) for negative, zero, malformed amounts or more decimals than the currency has.
 * @example
 * parseCurrencyAmount('2.5', usdc, 'AMOUNT') // 2500000n
 */
export function parseCurrencyAmount(text: string, currency: Currency, name: string): bigint {
  return parseAmount(text, { name: `${name} (${currency.symbol})`, decimals: currency.decimals })
}

/**
 * Formats an amount in a currency's smallest unit in its own units, with its symbol.
 * @example
 * formatCurrency(2_500_000n, usdc) // '2.5 USDC'
 */
export function formatCurrency(amount: bigint, currency: Pick<Currency, 'decimals' | 'symbol'>): string {
  return formatUnits(amount, currency.decimals, currency.symbol)
}

/**
 * What `--json` prints beside an amount: the currency's address, symbol and decimals.
 * @example
 * currencyJson(usdc) // { address: '0x8464…18bC', symbol: 'USDC', decimals: 6 }
 */
export function currencyJson(currency: Currency): { address: Address; symbol: string; decimals: number } {
  return { address: currency.address, symbol: currency.symbol, decimals: currency.decimals }
}
