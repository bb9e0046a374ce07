/**
 * The live snapshots of an IMO token (those not yet expired) with their pools, and what a holder can
 * claim from each now and until when. Snapshot N expires when snapshot N + claimWindow is taken; its
 * unclaimed remainder then rolls into that snapshot's pool. Snapshots are taken by a call, at most one
 * per interval, so an expiry is "with snapshot K, not before time T".
 */
import type { Address } from 'viem'
import { imoTokenAbi } from '../../contracts-abi/index.js'
import type { ChainContext } from '../chain/connect.js'
import type { Currency } from './resolveCurrency.js'

export interface LiveSnapshot {
  id: number
  /** When it was taken (unix seconds). */
  takenAt: number
  claimPoolWei: bigint
  claimedWei: bigint
  /** claimPool - claimed: what is left for the holders who have not claimed. */
  remainingWei: bigint
  /** Total supply (token base units) at the snapshot. */
  totalSupplyAt: bigint
  /** The snapshot whose taking expires this one (its remainder rolls into that one's pool). */
  expiresWithSnapshot: number
  /** The earliest time that snapshot can be taken (unix seconds). */
  expiresNotBefore: number
  /** The holder's claimable amount now (0 when claimed or nothing held), when a holder was asked for. */
  claimableWei?: bigint
  /** Whether the holder already claimed it, when a holder was asked for. */
  claimed?: boolean
  /** The holder's balance at the snapshot, when a holder was asked for. */
  balanceAt?: bigint
  /**
   * When claims on it open (unix seconds), set when the holder has a share here that even a claim
   * sent now could not take yet: the snapshot's second is still the chain's pending one.
   */
  opensAt?: number
}

export interface ClaimableReport {
  token: Address
  /** The ERC-20 revenue currency the amounts are in; absent for the native currency. */
  currency?: Address
  holder?: Address
  currentSnapshotId: number
  claimWindow: number
  snapshotInterval: number
  nextSnapshotTimestamp: number
  /** The chain's now (unix seconds), for relative times. */
  now: number
  /** Every live snapshot, oldest first. */
  live: LiveSnapshot[]
  /** The live snapshots where the holder has something to claim. */
  claimable: LiveSnapshot[]
  totalWei: bigint
}

/**
 * Ids of the snapshots that are still claimable: the latest `claimWindow` ones.
 * @param currentId - the latest snapshot id (0 before the first).
 * @param claimWindow - snapshots a snapshot stays claimable (>= 1).
 * @returns the ids, oldest first.
 * @example
 * liveSnapshotIds(5, 2) // [4, 5]
 */
export function liveSnapshotIds(currentId: number, claimWindow: number): number[] {
  const first = Math.max(1, currentId - claimWindow + 1)
  const ids: number[] = []
  for (let id = first; id <= currentId; id++) ids.push(id)
  return ids
}

/**
 * When a live snapshot expires: with snapshot id + claimWindow, which is the
 * (id + claimWindow - currentId)-th snapshot from now and so cannot come before
 * nextSnapshotTimestamp + (that count - 1) * interval.
 * @example
 * expiryOf(4, { currentId: 5, claimWindow: 2, nextSnapshotTimestamp: 1000, snapshotInterval: 60 })
 * // { expiresWithSnapshot: 6, expiresNotBefore: 1000 }
 */
export function expiryOf(
  id: number,
  token: { currentId: number; claimWindow: number; nextSnapshotTimestamp: number; snapshotInterval: number },
): { expiresWithSnapshot: number; expiresNotBefore: number } {
  const expiresWithSnapshot = id + token.claimWindow
  const ahead = expiresWithSnapshot - token.currentId
  return {
    expiresWithSnapshot,
    expiresNotBefore: token.nextSnapshotTimestamp + (ahead - 1) * token.snapshotInterval,
  }
}

/**
 * Reads the live snapshots and, for a holder, what each pays them now (two batched rounds of reads).
 * @param ctx - chain context.
 * @param token - the IMO token address.
 * @param holder - whose claims to read (optional).
 * @param options - blockNumber: read at this block (default latest); currency: an ERC-20 revenue currency
 *   of the token (pools and amounts in it; default the native currency).
 * @returns the report; `claimable` lists snapshots with a non-zero amount for the holder.
 * @throws RpcError (exit 6) when the node cannot be reached.
 * @example
 * import { readClaimable } from './readClaimable.js'
 * const report = await readClaimable(ctx, deployment.imoToken.address, '0x7099…79C8')
 * report.claimable.map((s) => [s.id, s.claimableWei]) // [[2, 500000000000000000n], [3, 1125000000000000000n]]
 * report.totalWei // 1625000000000000000n
 */
export async function readClaimable(
  ctx: Pick<ChainContext, 'publicClient' | 'rpcUrl'>,
  token: Address,
  holder?: Address,
  options: { blockNumber?: bigint; currency?: Address } = {},
): Promise<ClaimableReport> {
  const { callsTo, readMany } = await import('./readMany.js')
  const at = { ...(options.blockNumber !== undefined ? { blockNumber: options.blockNumber } : {}) }
  const currency = options.currency
  // The native functions keep EIP-7641's signatures; an ERC-20's take the currency as a last argument.
  const inCurrency = (args: unknown[]) => (currency ? [...args, currency] : args)
  const { chainNow } = await import('./chainNow.js')
  const read = callsTo(token, imoTokenAbi)
  const [[currentId, claimWindow, interval, next], now] = await Promise.all([
    readMany(
      ctx,
      [read('currentSnapshotId'), read('claimWindow'), read('snapshotInterval'), read('nextSnapshotTimestamp')],
      at,
    ) as Promise<[bigint, number, bigint, bigint]>,
    chainNow(ctx, options.blockNumber),
  ])
  const state = {
    currentId: Number(currentId),
    claimWindow: Number(claimWindow),
    snapshotInterval: Number(interval),
    nextSnapshotTimestamp: Number(next),
  }
  const ids = liveSnapshotIds(state.currentId, state.claimWindow)
  const perSnapshot = (holder ? 4 : 1) + (currency ? 1 : 0)
  const results = await readMany(
    ctx,
    ids.flatMap((id) => [
      read('snapshotInfo', [BigInt(id)]),
      ...(currency ? [read('snapshotInfo', [BigInt(id), currency])] : []),
      ...(holder
        ? [
            read('claimableRevenue', inCurrency([holder, BigInt(id)])),
            read('hasClaimed', inCurrency([holder, BigInt(id)])),
            read('balanceOfAt', [holder, BigInt(id)]),
          ]
        : []),
    ]),
    at,
  )
  const live: LiveSnapshot[] = ids.map((id, index) => {
    const base = index * perSnapshot
    const [nativePool, nativeClaimed, totalSupplyAt, timestamp] = results[base] as [bigint, bigint, bigint, bigint, boolean]
    const [claimPool, claimed] = currency ? (results[base + 1] as [bigint, bigint, boolean]) : [nativePool, nativeClaimed]
    const first = currency ? base + 2 : base + 1
    return {
      id,
      takenAt: Number(timestamp),
      claimPoolWei: claimPool,
      claimedWei: claimed,
      remainingWei: claimPool - claimed,
      totalSupplyAt,
      ...expiryOf(id, state),
      ...(holder
        ? {
            claimableWei: results[first] as bigint,
            claimed: results[first + 1] as boolean,
            balanceAt: results[first + 2] as bigint,
          }
        : {}),
    }
  })
  if (holder && options.blockNumber === undefined) await readOpening(ctx, token, holder, live, currency)
  const claimable = live.filter((snapshot) => (snapshot.claimableWei ?? 0n) > 0n)
  return {
    token,
    ...(currency ? { currency } : {}),
    ...(holder ? { holder } : {}),
    currentSnapshotId: state.currentId,
    claimWindow: state.claimWindow,
    snapshotInterval: state.snapshotInterval,
    nextSnapshotTimestamp: state.nextSnapshotTimestamp,
    now,
    live,
    claimable,
    totalWei: claimable.reduce((sum, snapshot) => sum + (snapshot.claimableWei ?? 0n), 0n),
  }
}

/**
 * Claims open one second after a snapshot, and `claimableRevenue` at the latest block answers 0 until
 * then: right after `imo snapshot` the latest block is the snapshot's own (a devnet makes no block
 * until the next transaction). For every snapshot where the holder held tokens, the pool has revenue
 * left and nothing was claimed, yet 0 was read: read again at the pending block (what a claim sent now
 * gets), and mark those whose claims are not open even there with `opensAt`.
 */
async function readOpening(
  ctx: Pick<ChainContext, 'publicClient' | 'rpcUrl'>,
  token: Address,
  holder: Address,
  live: LiveSnapshot[],
  currency?: Address,
): Promise<void> {
  const opening = live.filter(
    (s) => !s.claimed && (s.claimableWei ?? 0n) === 0n && (s.balanceAt ?? 0n) > 0n && s.remainingWei > 0n,
  )
  if (opening.length === 0) return
  const { callsTo, readMany } = await import('./readMany.js')
  const { pendingTimestamp } = await import('./chainNow.js')
  const read = callsTo(token, imoTokenAbi)
  const [amounts, pending] = await Promise.all([
    readMany(
      ctx,
      opening.map((s) => read('claimableRevenue', currency ? [holder, BigInt(s.id), currency] : [holder, BigInt(s.id)])),
      { blockTag: 'pending' },
    ) as Promise<bigint[]>,
    pendingTimestamp(ctx),
  ])
  opening.forEach((snapshot, index) => {
    snapshot.claimableWei = amounts[index] ?? 0n
    if (snapshot.claimableWei === 0n && pending <= snapshot.takenAt) snapshot.opensAt = snapshot.takenAt + 1
  })
}

/**
 * readClaimable for every revenue currency of the token: the native currency first, then its ERC-20s,
 * each with the holder's credit (payouts the currency refused, withdrawable with `imo claim --credits`;
 * always 0 for the native currency, whose payouts are never credited).
 * @param ctx - chain context.
 * @param token - the IMO token.
 * @param holder - whose claims to read.
 * @returns one report per currency, with the currency and the credit beside it.
 * @example
 * import { readClaimableByCurrency } from './readClaimable.js'
 * const reports = await readClaimableByCurrency(ctx, token, holder)
 * reports.map((r) => [r.currency.symbol, r.report.totalWei, r.credit]) // [['ETH', 500000000000000000n, 0n], ['USDC', 1250000n, 0n]]
 */
export async function readClaimableByCurrency(
  ctx: Pick<ChainContext, 'publicClient' | 'rpcUrl' | 'nativeSymbol'>,
  token: Address,
  holder: Address,
): Promise<Array<{ currency: Currency; report: ClaimableReport; credit: bigint }>> {
  const { readRevenueCurrencies } = await import('./resolveCurrency.js')
  const { callsTo, readMany } = await import('./readMany.js')
  const currencies = await readRevenueCurrencies(ctx, token)
  const read = callsTo(token, imoTokenAbi)
  const erc20s = currencies.filter((currency) => !currency.native)
  const [reports, credits] = await Promise.all([
    Promise.all(
      currencies.map(async (currency) => ({
        currency,
        report: await readClaimable(ctx, token, holder, currency.native ? {} : { currency: currency.address }),
      })),
    ),
    readMany(
      ctx,
      erc20s.map((currency) => read('creditOf', [holder, currency.address])),
    ) as Promise<bigint[]>,
  ])
  return reports.map((entry) => ({ ...entry, credit: entry.currency.native ? 0n : credits[erc20s.indexOf(entry.currency)]! }))
}
