/**
 * `imo deploy --revenue-currency ADDRESS` (repeatable): the ERC-20s the token shares as revenue beside
 * the native currency. Checked twice: the flags alone before connecting (addresses, duplicates, the
 * contract's maximum), then each address on the chain (code, symbol, decimals) before anything is sent,
 * so a typo never becomes a token whose list can never change.
 */
import type { Address } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import { UsageError } from '../errors.js'
import { NATIVE_CURRENCY, readErc20 } from '../revenue/resolveCurrency.js'

/** The most ERC-20 revenue currencies a token takes (the contract's MAX_REVENUE_CURRENCIES). */
export const MAX_REVENUE_CURRENCIES = 7

/**
 * Parses the flag values: addresses, no duplicates, no zero address (the native currency is always
 * listed), at most MAX_REVENUE_CURRENCIES.
 * @throws UsageError (exit 2) naming the offending value.
 * @example
 * await parseRevenueCurrencies(['0x51935f7e534792a8a2c7571f6b790d364bd532ea']) // ['0x51935F7e534792A8a2C7571f6b790d364bd532EA']
 */
export async function parseRevenueCurrencies(values: readonly string[]): Promise<Address[]> {
  const { parseAddress } = await import('../util/parseAddress.js')
  const addresses: Address[] = []
  for (const value of values) {
    const address = await parseAddress(value, '--revenue-currency')
    if (address === NATIVE_CURRENCY)
      throw new UsageError(
        '--revenue-currency 0x0000000000000000000000000000000000000000 is the native currency, which is always a revenue currency',
      )
    if (addresses.includes(address)) throw new UsageError(`--revenue-currency ${address} is given twice`)
    addresses.push(address)
  }
  if (addresses.length > MAX_REVENUE_CURRENCIES)
    throw new UsageError(
      `--revenue-currency is given ${addresses.length} times: a token takes at most ${MAX_REVENUE_CURRENCIES} ERC-20 revenue currencies`,
    )
  return addresses
}

/**
 * Reads each currency's symbol and decimals from the chain, refusing an address that is not an ERC-20.
 * @throws UsageError (exit 2) for an address with no code or without symbol()/decimals().
 * @example
 * await readRevenueCurrencyFlags(ctx, [usdc]) // [{ address: usdc, symbol: 'USDC', decimals: 6 }]
 */
export async function readRevenueCurrencyFlags(
  ctx: Pick<ChainContext, 'publicClient' | 'rpcUrl'>,
  addresses: readonly Address[],
): Promise<Array<{ address: Address; symbol: string; decimals: number }>> {
  const currencies = await Promise.all(addresses.map((address) => readErc20(ctx, address, '--revenue-currency')))
  return currencies.map(({ address, symbol, decimals }) => ({ address, symbol, decimals }))
}
