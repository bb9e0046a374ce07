/**
 * One consistent view of a deployment, read at one block: the model, the token (supply, holders,
 * parameters, snapshot timing), the pools (pending revenue, every live snapshot's pool and what is
 * left in it, the redemption pool), the collection, and optionally one account's balance and
 * claimable revenue. Reads are batched: one deployless-multicall eth_call per round.
 */
import type { Address, Hex } from 'viem'
import { aigcCollectionAbi, imoTokenAbi } from '../../contracts-abi/index.js'
import type { ChainContext } from '../chain/connect.js'
import type { Deployment } from '../deployment/deploymentFile.js'
import type { RequestsStatus } from '../requests/readRequestsStatus.js'
import type { LiveSnapshot } from './readClaimable.js'

export interface StatusReport {
  chain: { id: number; name: string; nativeSymbol: string }
  /** The block every figure was read at. */
  blockNumber: bigint
  /** The chain's now (unix seconds). */
  now: number
  model: { modelHash: Hex; uri: string; path?: string }
  token: {
    address: Address
    name: string
    symbol: string
    decimals: number
    /** Base units (18 decimals). */
    totalSupplyWei: bigint
    /** Accounts with a non-zero balance, counted from Transfer logs; null when that would be expensive. */
    holders: number | null
    /** Why holders is null. */
    holdersNote?: string
    percentClaimable: number
    snapshotInterval: number
    claimWindow: number
    currentSnapshotId: number
    /** 0 before the first snapshot. */
    lastSnapshotAt: number
    nextSnapshotAt: number
    /** The token contract's native balance. */
    balanceWei: bigint
  }
  pools: {
    pendingRevenueWei: bigint
    redemptionPoolWei: bigint
    /** Live snapshots, oldest first (without per-account fields). */
    snapshots: LiveSnapshot[]
    /** Sum over live snapshots of claimPool - claimed. */
    unclaimedWei: bigint
  }
  /** Each ERC-20 revenue currency of the token: its pools, in its smallest unit (amounts) beside its address, symbol, decimals. */
  currencyPools: CurrencyPools[]
  collection: {
    address: Address
    name: string
    symbol: string
    totalMinted: bigint
    mintFeeWei: bigint
    royaltyBps: number
    royaltyReceiver: Address
    /** Who may sign proofs; empty for a zk collection, which checks a proof instead. */
    attesters: Address[]
    /** "zk": the collection verifies a zk proof (no attester, no paid requests). */
    proofScheme: 'attestation' | 'zk'
  }
  /** Paid requests: the terms, and the open requests with their escrow; null for a zk collection (it takes none). */
  requests: RequestsStatus | null
  account?: {
    address: Address
    /** Token balance in base units. */
    tokenBalanceWei: bigint
    /** Share of the supply in percent (4 decimals), as text. */
    sharePercent: string
    nativeBalanceWei: bigint
    /** What burning the whole balance would pay now. */
    redeemableWei: bigint
    claimable: Array<{ id: number; amountWei: bigint; expiresWithSnapshot: number; earliestExpiryAt: number }>
    claimableWei: bigint
  }
}

export interface CurrencyPools {
  currency: { address: Address; symbol: string; decimals: number }
  /** Received beyond what the token owes: split at the next snapshot. */
  pendingRevenueWei: bigint
  redemptionPoolWei: bigint
  /** Live snapshots' unclaimed claims (outstandingClaims). */
  unclaimedWei: bigint
  /** The token's balance of the currency. */
  balanceWei: bigint
  /** Payouts the currency refused, credited to holders and owed until withdrawn (totalCredits). */
  creditsWei: bigint
  /**
   * The account's, when one was asked for: claimable now, what burning its whole balance pays, and its
   * credit (`imo claim --credits` withdraws it).
   */
  account?: { claimableWei: bigint; redeemableWei: bigint; creditWei: bigint }
}

export interface ReadStatusOptions {
  /** Whose balance and claims to show. */
  holder?: Address
  /** Count holders from Transfer logs only when the token's history spans at most this many blocks (default 1,000,000). */
  maxLogBlocks?: bigint
  /** Progress of a long Transfer-log scan (read in chunks when the node limits eth_getLogs ranges). */
  onProgress?(text: string): void
}

const transferEvent = {
  type: 'event',
  name: 'Transfer',
  inputs: [
    { indexed: true, name: 'from', type: 'address' },
    { indexed: true, name: 'to', type: 'address' },
    { indexed: false, name: 'value', type: 'uint256' },
  ],
} as const

/**
 * Counts accounts with a non-zero balance by replaying the token's Transfer logs (one eth_getLogs, or
 * chunks of the range when the node refuses it: src/chain/findLatestLogs.ts readAllLogs).
 * @param ctx - chain context.
 * @param token - the token.
 * @param fromBlock - its deployment block.
 * @param toBlock - the block to count at.
 * @param onProgress - called after each chunk of a chunked scan.
 * @returns the number of holders.
 * @example
 * await countHolders(ctx, token, 1n, 42n) // 3
 */
export async function countHolders(
  ctx: Pick<ChainContext, 'publicClient'>,
  token: Address,
  fromBlock: bigint,
  toBlock: bigint,
  onProgress?: (blocksDone: bigint, blocksTotal: bigint) => void,
): Promise<number> {
  const { readAllLogs } = await import('../chain/findLatestLogs.js')
  const logs = await readAllLogs(
    (range) => ctx.publicClient.getLogs({ address: token, event: transferEvent, ...range, strict: true }),
    { fromBlock, toBlock, ...(onProgress ? { onProgress } : {}) },
  )
  const balances = new Map<string, bigint>()
  const zero = '0x0000000000000000000000000000000000000000'
  for (const log of logs) {
    const { from, to, value } = log.args
    if (from.toLowerCase() !== zero) balances.set(from.toLowerCase(), (balances.get(from.toLowerCase()) ?? 0n) - value)
    if (to.toLowerCase() !== zero) balances.set(to.toLowerCase(), (balances.get(to.toLowerCase()) ?? 0n) + value)
  }
  return [...balances.values()].filter((balance) => balance > 0n).length
}

/**
 * Reads the status of a deployment.
 * @param ctx - chain context.
 * @param deployment - the loaded deployment.
 * @param options - holder to show; holder-count log limit.
 * @returns every figure, read at one block.
 * @throws RpcError (exit 6) when the node cannot be reached.
 * @example
 * import { readStatus } from './readStatus.js'
 * const status = await readStatus(ctx, deployment, { holder: '0x7099…79C8' })
 * status.token.totalSupply // 1000000000000000000000n
 * status.account?.claimableWei // 250000000000000000n
 */
export async function readStatus(
  ctx: ChainContext,
  deployment: Deployment,
  options: ReadStatusOptions = {},
): Promise<StatusReport> {
  const { callsTo, readMany } = await import('./readMany.js')
  const { readClaimable } = await import('./readClaimable.js')
  const { readRequestsStatus } = await import('../requests/readRequestsStatus.js')
  const { toImoError } = await import('../chain/toImoError.js')
  const rpc = (action: string) => (error: unknown) => {
    throw toImoError(error, { rpcUrl: ctx.rpcUrl, action })
  }
  const token = deployment.imoToken.address
  const collection = deployment.aigcCollection.address
  // A zk collection has no attesters and no paid requests: reading them would revert.
  const zk = deployment.proofScheme === 'zk'
  const holder = options.holder
  const blockNumber = await ctx.publicClient.getBlockNumber({ cacheTime: 0 }).catch(rpc('reading the block number'))
  const at = { blockNumber }
  const t = callsTo(token, imoTokenAbi)
  const c = callsTo(collection, aigcCollectionAbi)
  const fromBlock = deployment.imoToken.blockNumber ? BigInt(deployment.imoToken.blockNumber) : undefined
  const maxLogBlocks = options.maxLogBlocks ?? 1_000_000n
  const holdersPromise: Promise<{ holders: number | null; holdersNote?: string }> =
    fromBlock === undefined
      ? Promise.resolve({ holders: null, holdersNote: 'deployment block unknown' })
      : blockNumber - fromBlock > maxLogBlocks
        ? Promise.resolve({
            holders: null,
            holdersNote: `not counted: ${blockNumber - fromBlock} blocks of Transfer logs (more than ${maxLogBlocks})`,
          })
        : countHolders(ctx, token, fromBlock, blockNumber, (done, total) =>
            options.onProgress?.(`counting holders: ${done} of ${total} blocks of Transfer logs`),
          ).then(
            (holders) => ({ holders }),
            () => ({ holders: null, holdersNote: 'the node refused the Transfer log query' }),
          )
  // readClaimable reads the chain's now at the same block; its report carries it.
  const claimable = readClaimable(ctx, token, holder, at)
  const [values, live, balanceWei, nativeBalanceWei, holders, requests] = await Promise.all([
    readMany(
      ctx,
      [
        t('name'),
        t('symbol'),
        t('decimals'),
        t('totalSupply'),
        t('modelHash'),
        t('modelURI'),
        t('percentClaimable'),
        t('lastSnapshotTimestamp'),
        t('pendingRevenue'),
        t('redemptionPool'),
        c('name'),
        c('symbol'),
        c('totalMinted'),
        c('mintFee'),
        c('royaltyInfo', [0n, 10_000n]),
        t('revenueCurrencies'),
        // The optional reads last: a zk collection has no attesters (the read would revert).
        ...(zk ? [] : [c('attesters')]),
        ...(holder ? [t('balanceOf', [holder])] : []),
      ],
      at,
    ),
    claimable,
    ctx.publicClient.getBalance({ address: token, blockNumber }).catch(rpc('reading the token balance')),
    holder ? ctx.publicClient.getBalance({ address: holder, blockNumber }).catch(rpc('reading the balance')) : 0n,
    holdersPromise,
    zk ? null : claimable.then((read) => readRequestsStatus(ctx, collection, { ...at, now: read.now })),
  ])
  const [
    name,
    symbol,
    decimals,
    totalSupply,
    modelHash,
    modelUri,
    percentClaimable,
    lastSnapshotTimestamp,
    pendingRevenueWei,
    redemptionPoolWei,
    collectionName,
    collectionSymbol,
    totalMinted,
    mintFeeWei,
    royalty,
    listedCurrencies,
    ...optional
  ] = values as [
    string,
    string,
    number,
    bigint,
    Hex,
    string,
    number,
    bigint,
    bigint,
    bigint,
    string,
    string,
    bigint,
    bigint,
    readonly [Address, bigint],
    readonly Address[],
    ...unknown[],
  ]
  const attesters = (zk ? [] : optional.shift()) as readonly Address[]
  const holderBalance = optional.shift() as bigint | undefined
  const snapshots = live.live.map(({ claimableWei: _c, claimed: _d, balanceAt: _b, ...rest }) => rest)
  const report: StatusReport = {
    chain: { id: ctx.chainId, name: ctx.chainName, nativeSymbol: ctx.nativeSymbol },
    blockNumber,
    now: live.now,
    model: { modelHash, uri: modelUri, ...(deployment.model?.path ? { path: deployment.model.path } : {}) },
    token: {
      address: token,
      name,
      symbol,
      decimals: Number(decimals),
      totalSupplyWei: totalSupply,
      ...holders,
      percentClaimable: Number(percentClaimable),
      snapshotInterval: live.snapshotInterval,
      claimWindow: live.claimWindow,
      currentSnapshotId: live.currentSnapshotId,
      lastSnapshotAt: Number(lastSnapshotTimestamp),
      nextSnapshotAt: live.nextSnapshotAt,
      balanceWei,
    },
    pools: {
      pendingRevenueWei,
      redemptionPoolWei,
      snapshots,
      unclaimedWei: snapshots.reduce((sum, snapshot) => sum + snapshot.remainingWei, 0n),
    },
    collection: {
      address: collection,
      name: collectionName,
      symbol: collectionSymbol,
      totalMinted,
      mintFeeWei,
      royaltyBps: Number(royalty[1]),
      royaltyReceiver: royalty[0],
      attesters: [...attesters],
      proofScheme: zk ? 'zk' : 'attestation',
    },
    requests,
    currencyPools: [],
  }
  report.currencyPools = await readCurrencyPools(
    ctx,
    token,
    listedCurrencies,
    holder ? { holder, balance: holderBalance ?? 0n } : undefined,
    at,
  )
  if (holder && holderBalance !== undefined) {
    const [redeemableWei] = (await readMany(ctx, [t('redeemableOnBurn', [holderBalance])], at)) as [bigint]
    const share = totalSupply === 0n ? 0n : (holderBalance * 1_000_000n) / totalSupply
    report.account = {
      address: holder,
      tokenBalanceWei: holderBalance,
      sharePercent: `${share / 10_000n}.${String(share % 10_000n).padStart(4, '0')}`,
      nativeBalanceWei: nativeBalanceWei as bigint,
      redeemableWei,
      claimable: live.claimable.map((snapshot) => ({
        id: snapshot.id,
        amountWei: snapshot.claimableWei ?? 0n,
        expiresWithSnapshot: snapshot.expiresWithSnapshot,
        earliestExpiryAt: snapshot.earliestExpiryAt,
      })),
      claimableWei: live.totalWei,
    }
  }
  return report
}

/** The pools of each ERC-20 revenue currency at one block (none for a token without ERC-20 currencies). */
async function readCurrencyPools(
  ctx: ChainContext,
  token: Address,
  listed: readonly Address[],
  account: { holder: Address; balance: bigint } | undefined,
  at: { blockNumber: bigint },
): Promise<CurrencyPools[]> {
  const { callsTo, readMany } = await import('./readMany.js')
  const { readClaimable } = await import('./readClaimable.js')
  if (listed.length === 0) return []
  const { currencyJson, readErc20 } = await import('./resolveCurrency.js')
  const { erc20Abi } = await import('viem')
  const erc20s = await Promise.all(listed.map((address) => readErc20(ctx, address, 'revenue currency')))
  const t = callsTo(token, imoTokenAbi)
  return Promise.all(
    erc20s.map(async (currency) => {
      const [pendingRevenue, redemptionPool, unclaimed, balance, credits, redeemable, credit] = (await readMany(
        ctx,
        [
          t('pendingRevenue', [currency.address]),
          t('redemptionPool', [currency.address]),
          t('outstandingClaims', [currency.address]),
          callsTo(currency.address, erc20Abi)('balanceOf', [token]),
          t('totalCredits', [currency.address]),
          ...(account
            ? [t('redeemableOnBurn', [account.balance, currency.address]), t('creditOf', [account.holder, currency.address])]
            : []),
        ],
        at,
      )) as bigint[]
      const claimable = account
        ? (await readClaimable(ctx, token, account.holder, { ...at, currency: currency.address })).totalWei
        : 0n
      return {
        currency: currencyJson(currency),
        pendingRevenueWei: pendingRevenue!,
        redemptionPoolWei: redemptionPool!,
        unclaimedWei: unclaimed!,
        balanceWei: balance!,
        creditsWei: credits!,
        ...(account ? { account: { claimableWei: claimable, redeemableWei: redeemable!, creditWei: credit! } } : {}),
      }
    }),
  )
}
