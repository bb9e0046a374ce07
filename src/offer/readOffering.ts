/**
 * Finds the sale a command acts on (`--sale ADDRESS`, else the offering recorded beside the deployment)
 * and reads its whole state at one block: price now, sold, raised, soft-cap progress, time left, and the
 * given account's purchase.
 */
import { resolve } from 'node:path'
import type { Address } from 'viem'
import { imoOfferingAbi, imoTokenAbi } from '../../contracts-abi/index.js'
import type { ChainContext } from '../chain/connect.js'
import { ExitCode, ImoError, UsageError } from '../errors.js'

export type OfferingPhase = 'not funded' | 'upcoming' | 'open' | 'ended' | 'finalized'

export interface OfferingState {
  sale: Address
  token: Address
  symbol: string
  seller: Address
  kind: 'fixed' | 'descending'
  /** Base units. */
  amount: bigint
  unit: bigint
  startPriceWei: bigint
  floorPriceWei: bigint
  /** The price a purchase sent now pays at most (the next block's is the same or lower). */
  priceWei: bigint
  startTime: number
  endTime: number
  /** The chain's time (unix seconds) the state was read at. */
  now: number
  phase: OfferingPhase
  softCapWei: bigint
  softCapMet: boolean
  maxPerAddress: bigint
  merkleRoot: `0x${string}`
  sold: bigint
  raisedWei: bigint
  refundedWei: bigint
  withdrawnWei: bigint
  revenueCollectedWei: bigint
  /**
   * Revenue the token holds for the sale's own tokens and nobody collected yet (the live snapshots'
   * claimable shares): `claimRevenue()` moves it into the sale for the seller. Uncollected, a share
   * expires after the token's claim window and rolls over to the other holders.
   */
  pendingRevenueWei: bigint
  /** The token's newest snapshot id when read (names a revenue collection's journal step). */
  snapshotId: bigint
  owedWei: bigint
  owedTokens: bigint
  /** Ether in the sale. */
  balanceWei: bigint
  /** What the seller could withdraw now. */
  withdrawableWei: bigint
  account?: { address: Address; tokens: bigint; paidWei: bigint; isSeller: boolean }
}

/**
 * The sale address: `--sale`, else the offering recorded beside the deployment file.
 * @param ctx - chain context (for the chain id).
 * @param values - the command's `sale` and `deployment` option values.
 * @returns the sale address and, when read from a record, the record's path and allowlist file.
 * @throws UsageError (exit 2) when neither is there.
 * @example
 * const { sale } = await resolveSale(ctx, cmd.opts())
 */
export async function resolveSale(
  ctx: Pick<ChainContext, 'chainId'>,
  values: { sale?: string; deployment?: string },
): Promise<{ sale: Address; allowlistFile?: string; recordPath?: string }> {
  if (values.sale) {
    const { parseAddress } = await import('../util/parseAddress.js')
    return { sale: await parseAddress(values.sale, '--sale') }
  }
  const { deploymentPath } = await import('../deployment/deploymentFile.js')
  const { offeringPaths, readOfferingFile } = await import('./offerFile.js')
  const paths = offeringPaths(values.deployment ? resolve(values.deployment) : deploymentPath(ctx.chainId))
  const record = readOfferingFile(paths.record)
  if (!record?.sale || record.status !== 'created')
    throw new UsageError(`no offering recorded for chain ${ctx.chainId} (${paths.record})`, {
      hint: 'pass --sale ADDRESS, or create one with `imo offer create`',
    })
  if (record.chainId !== ctx.chainId)
    throw new UsageError(
      `${paths.record} records an offering on chain ${record.chainId}, but the node serves chain ${ctx.chainId}`,
    )
  return { sale: record.sale, recordPath: paths.record, ...(record.allowlistFile ? { allowlistFile: record.allowlistFile } : {}) }
}

/**
 * Reads the sale's state.
 * @param ctx - chain context.
 * @param sale - the sale contract.
 * @param account - whose purchase to read (the signer, usually).
 * @returns the state.
 * @throws UsageError (exit 2) when there is no sale contract at the address; RpcError (exit 6).
 * @example
 * const state = await readOffering(ctx, sale, ctx.account?.address)
 * state.priceWei // 10000000000000000n
 */
export async function readOffering(
  ctx: Pick<ChainContext, 'publicClient' | 'rpcUrl' | 'chainId'>,
  sale: Address,
  account?: Address,
): Promise<OfferingState> {
  const { callsTo, readMany } = await import('../revenue/readMany.js')
  const { chainNow } = await import('../revenue/chainNow.js')
  const { rpcFailureKind, toImoError } = await import('../chain/toImoError.js')
  // An RPC that cannot be reached is exit 6, not "no sale there" (issue 21 item 32).
  const rpc = (error: unknown) => {
    throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: 'reading the sale' })
  }
  const code = await ctx.publicClient.getCode({ address: sale }).catch(rpc)
  if (!code || code === '0x') throw new UsageError(`no sale contract at ${sale} on chain ${ctx.chainId}`)
  const read = callsTo(sale, imoOfferingAbi)
  const latest = await ctx.publicClient.getBlockNumber({ cacheTime: 0 }).catch(rpc)
  const now = await chainNow(ctx, latest)
  const names = [
    'token',
    'seller',
    'amountForSale',
    'unit',
    'startPrice',
    'floorPrice',
    'startTime',
    'endTime',
    'softCap',
    'maxPerAddress',
    'merkleRoot',
    'progress',
    'refunded',
    'withdrawn',
    'revenueCollected',
    'owedWei',
    'owedTokens',
  ] as const
  const values = await readMany(
    ctx,
    [...names.map((name) => read(name)), read('priceAt', [BigInt(now)]), ...(account ? [read('purchaseOf', [account])] : [])],
    { blockNumber: latest },
  ).catch((error: unknown) => {
    if ((error instanceof ImoError && error.exitCode === ExitCode.Rpc) || rpcFailureKind(error))
      throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: 'reading the sale' })
    throw new UsageError(`${sale} does not answer as an imo sale contract`, { cause: error })
  })
  const v = Object.fromEntries(names.map((name, i) => [name, values[i]])) as Record<(typeof names)[number], never>
  const [sold, raisedWei, funded, finalized] = v.progress as [bigint, bigint, boolean, boolean]
  const priceWei = values[names.length] as bigint
  const token = v.token as Address
  const [symbol, balanceWei, { pendingRevenueWei, snapshotId }] = await Promise.all([
    ctx.publicClient.readContract({ address: token, abi: imoTokenAbi, functionName: 'symbol' }),
    ctx.publicClient.getBalance({ address: sale, blockNumber: latest }),
    pendingRevenue(ctx, token, sale, latest),
  ]).catch(rpc)
  const startTime = Number(v.startTime as bigint)
  const endTime = Number(v.endTime as bigint)
  const amount = v.amountForSale as bigint
  const phase: OfferingPhase = finalized
    ? 'finalized'
    : !funded
      ? 'not funded'
      : now < startTime
        ? 'upcoming'
        : now >= endTime || sold >= amount
          ? 'ended'
          : 'open'
  const softCapWei = v.softCap as bigint
  const owedWei = v.owedWei as bigint
  const state: OfferingState = {
    sale,
    token,
    symbol,
    seller: v.seller as Address,
    kind: (v.startPrice as bigint) === (v.floorPrice as bigint) ? 'fixed' : 'descending',
    amount,
    unit: v.unit as bigint,
    startPriceWei: v.startPrice as bigint,
    floorPriceWei: v.floorPrice as bigint,
    priceWei,
    startTime,
    endTime,
    now,
    phase,
    softCapWei,
    softCapMet: raisedWei >= softCapWei,
    maxPerAddress: v.maxPerAddress as bigint,
    merkleRoot: v.merkleRoot as `0x${string}`,
    sold,
    raisedWei,
    refundedWei: v.refunded as bigint,
    withdrawnWei: v.withdrawn as bigint,
    revenueCollectedWei: v.revenueCollected as bigint,
    pendingRevenueWei,
    snapshotId,
    owedWei,
    owedTokens: v.owedTokens as bigint,
    balanceWei,
    withdrawableWei: softCapWei === 0n || finalized ? balanceWei - owedWei : 0n,
  }
  if (account) {
    const [tokens, paidWei] = values[names.length + 1] as [bigint, bigint]
    state.account = { address: account, tokens, paidWei, isSeller: account.toLowerCase() === state.seller.toLowerCase() }
  }
  return state
}

/**
 * What `holder` could claim now from the token's live snapshots: the newest `claimWindow` ids (older
 * ones have expired; claimableRevenue is 0 for an expired, claimed or not yet open snapshot), and the
 * newest snapshot id.
 */
async function pendingRevenue(
  ctx: Pick<ChainContext, 'publicClient' | 'rpcUrl' | 'chainId'>,
  token: Address,
  holder: Address,
  blockNumber: bigint,
): Promise<{ pendingRevenueWei: bigint; snapshotId: bigint }> {
  const { callsTo, readMany } = await import('../revenue/readMany.js')
  const read = callsTo(token, imoTokenAbi)
  const [current, claimWindow] = (await readMany(ctx, [read('currentSnapshotId'), read('claimWindow')], {
    blockNumber,
  })) as [bigint, number] // uint32: viem gives a number
  const window = BigInt(claimWindow)
  const ids: bigint[] = []
  for (let id = current; id >= 1n && id > current - window; id--) ids.push(id)
  if (ids.length === 0) return { pendingRevenueWei: 0n, snapshotId: current }
  const shares = (await readMany(
    ctx,
    ids.map((id) => read('claimableRevenue', [holder, id])),
    { blockNumber },
  )) as bigint[]
  return { pendingRevenueWei: shares.reduce((sum, share) => sum + share, 0n), snapshotId: current }
}

/**
 * The offering recorded beside a deployment, if one is running (recorded and not finalized), for `imo status`.
 * @param ctx - chain context.
 * @param deploymentFile - --deployment FILE, if given.
 * @param account - whose purchase to read.
 * @returns its state, or undefined when none is recorded or it is finalized.
 * @example
 * const offering = await readRunningOffering(ctx, values.deployment, holder)
 * offering?.phase // 'open'
 */
export async function readRunningOffering(
  ctx: Pick<ChainContext, 'publicClient' | 'rpcUrl' | 'chainId'>,
  deploymentFile?: string,
  account?: Address,
): Promise<OfferingState | undefined> {
  const found = await resolveSale(ctx, deploymentFile ? { deployment: deploymentFile } : {}).catch(() => undefined)
  if (!found) return undefined
  // A stale record (e.g. a restarted devnet) leaves the offering out instead of failing the whole screen.
  const state = await readOffering(ctx, found.sale, account).catch((error: unknown) => {
    if (error instanceof UsageError) return undefined
    throw error
  })
  return state === undefined || state.phase === 'finalized' ? undefined : state
}
