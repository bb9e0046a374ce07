/**
 * The `imo offer create` and `imo offer buy` flags turned into terms, checked before any RPC: every
 * mistake here is a one-line error with exit 2 and nothing sent.
 */
import { formatNative, parseAmount, parseWhole } from '../chain/format.js'
import { UsageError } from '../errors.js'
import { readRegularFile } from '../util/readRegularFile.js'
import type { BuyParams } from './buyTokens.js'
import type { CreateOfferingParams } from './createOffering.js'

/** Largest allowlist CSV read: 64 MiB, over a million lines of `address,cap`. */
export const MAX_ALLOWLIST_CSV_BYTES = 64 * 1024 * 1024

/** Longest sale, in seconds: 100 years (a longer --duration showed its end as NaN-NaN-NaN). */
export const MAX_SALE_SECONDS = 100n * 365n * 86_400n

export interface CreateFlags {
  amount?: string
  price?: string
  startPrice?: string
  floorPrice?: string
  start?: string
  end?: string
  duration?: string
  softCap?: string
  maxPerAddress?: string
  allowlist?: string
  deployment?: string
}

/**
 * Parses the create flags.
 * @param flags - the command's option values.
 * @returns the terms (times stay as typed; they resolve against the chain's clock).
 * @throws UsageError (exit 2) for a missing or contradictory price, zero amount, floor above start, no end,
 *   or a malformed allowlist CSV (naming its line).
 * @example
 * await parseTerms({ amount: '1000', price: '0.01', start: '+1m', duration: '3600' })
 * // { amount: 1000000000000000000000n, startPriceWei: 10000000000000000n, floorPriceWei: 10000000000000000n, … }
 */
export async function parseTerms(flags: CreateFlags): Promise<CreateOfferingParams> {
  const amount = parseAmount(flags.amount ?? '', { name: '--amount' })
  let startPriceWei: bigint
  let floorPriceWei: bigint
  if (flags.price !== undefined) {
    startPriceWei = parseAmount(flags.price, { name: '--price' })
    floorPriceWei = startPriceWei
  } else if (flags.startPrice !== undefined && flags.floorPrice !== undefined) {
    startPriceWei = parseAmount(flags.startPrice, { name: '--start-price' })
    floorPriceWei = parseAmount(flags.floorPrice, { name: '--floor-price' })
    if (floorPriceWei > startPriceWei)
      throw new UsageError(
        `--floor-price ${formatNative(floorPriceWei, 'ETH')} is above --start-price ${formatNative(startPriceWei, 'ETH')}: a descending price ends lower than it starts`,
      )
  } else throw new UsageError('give --price ETH (fixed), or both --start-price ETH and --floor-price ETH (descending)')
  if (flags.end === undefined && flags.duration === undefined) throw new UsageError('give --end TIME or --duration SECONDS')
  const params: CreateOfferingParams = {
    amount,
    startPriceWei,
    floorPriceWei,
    startText: flags.start ?? 'now',
    softCapWei: flags.softCap !== undefined ? parseAmount(flags.softCap, { name: '--soft-cap', allowZero: true }) : 0n,
    maxPerAddress: flags.maxPerAddress !== undefined ? parseAmount(flags.maxPerAddress, { name: '--max-per-address' }) : 0n,
  }
  if (flags.end !== undefined) params.endText = flags.end
  if (flags.duration !== undefined)
    params.durationSeconds = Number(parseWhole(flags.duration, '--duration', { min: 1n, max: MAX_SALE_SECONDS }))
  if (flags.deployment !== undefined) params.deploymentFile = flags.deployment
  if (flags.allowlist !== undefined) {
    // A regular file only, opened without blocking and size-capped (a FIFO hung create; /dev/zero filled memory).
    const text = readRegularFile(flags.allowlist, '--allowlist', { maxBytes: MAX_ALLOWLIST_CSV_BYTES }).toString('utf8')
    const { parseAllowlistCsv } = await import('./buildAllowlist.js')
    params.allowlist = await parseAllowlistCsv(text, flags.allowlist)
  }
  return params
}

/**
 * Parses the buy argument and flags.
 * @param tokens - TOKENS as typed, if given.
 * @param flags - spend, maxPrice, proofFile.
 * @returns the purchase.
 * @throws UsageError (exit 2) for neither or both of TOKENS and --spend, or a malformed amount.
 * @example
 * parseBuy('100', { maxPrice: '0.01' }) // { amount: 100000000000000000000n, maxPriceWei: 10000000000000000n }
 */
export function parseBuy(
  tokens: string | undefined,
  flags: { spend?: string; maxPrice?: string; proofFile?: string },
): BuyParams {
  const parse = parseAmount
  if ((tokens === undefined) === (flags.spend === undefined)) throw new UsageError('give TOKENS or --spend ETH (one of them)')
  const params: BuyParams = {}
  if (tokens !== undefined) params.amount = parse(tokens, { name: 'TOKENS' })
  if (flags.spend !== undefined) params.spendWei = parse(flags.spend, { name: '--spend' })
  if (flags.maxPrice !== undefined) params.maxPriceWei = parse(flags.maxPrice, { name: '--max-price' })
  if (flags.proofFile !== undefined) params.proofFile = flags.proofFile
  return params
}
