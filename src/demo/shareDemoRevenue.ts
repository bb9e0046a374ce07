/**
 * Stage 7 of `imo demo`: the revenue. The deployer deposits 1 ETH and 250 test USDC, takes a snapshot
 * (the mint and request fees and the API payment are in it), and both holders claim both currencies,
 * each signing with its own key.
 */
import type { Address, Hex } from 'viem'
import type { DemoDeployment, DemoRun, DemoUsdc } from './demoReport.js'
import { DEMO_SETTINGS } from './demoSettings.js'

export interface DemoRevenue {
  depositWei: bigint
  usdcDeposit: bigint
  snapshot: { snapshotId: number; toClaimPoolWei: bigint; toRedemptionWei: bigint }
  /** Each holder's token balance at the snapshot (deployer, second holder). */
  balances: [bigint, bigint]
  claims: Array<{ holder: Address; hash?: Hex; totalWei: bigint; totalUsdc: bigint }>
}

/**
 * Deposits, snapshots and claims.
 * @example
 * const revenue = await shareDemoRevenue(run, deployed, usdc)
 * revenue.claims.map((c) => c.totalWei) // [362250000000000000n, 155250000000000000n]
 */
export async function shareDemoRevenue(run: DemoRun, deployed: DemoDeployment, usdc: DemoUsdc): Promise<DemoRevenue> {
  const { parseEther } = await import('viem')
  const { formatNative, formatUnits } = await import('../chain/format.js')
  const { parseCurrencyAmount, nativeCurrency } = await import('../revenue/resolveCurrency.js')
  const { imoTokenAbi } = await import('../../contracts-abi/index.js')
  const eth = (wei: bigint) => formatNative(wei, run.base.nativeSymbol)
  const { token } = deployed
  const depositWei = parseEther(DEMO_SETTINGS.deposit)
  const usdcDeposit = parseCurrencyAmount(DEMO_SETTINGS.usdcDeposit, usdc, 'usdcDeposit')
  await run.step(
    'deposit',
    `depositing ${DEMO_SETTINGS.deposit} ETH of revenue`,
    async () => {
      const { depositRevenue } = await import('../revenue/depositRevenue.js')
      await depositRevenue(run.deployer, token, depositWei)
      return depositRevenue(run.deployer, token, usdcDeposit, usdc)
    },
    () => `deposited ${DEMO_SETTINGS.deposit} ETH and ${DEMO_SETTINGS.usdcDeposit} USDC of revenue`,
  )
  const snapshot = await run.step(
    'snapshot',
    'taking a snapshot',
    async () => {
      // The interval is 1 s; move the chain's clock past it instead of waiting.
      await advanceChainClock(run, 2)
      const { takeSnapshot } = await import('../revenue/takeSnapshot.js')
      return takeSnapshot(run.deployer, token, { yes: true })
    },
    (s) => `snapshot ${s.snapshotId}: ${eth(s.toClaimPoolWei)} to holders, ${eth(s.toRedemptionWei)} to the redemption pool`,
  )
  const balanceOf = (ctx: typeof run.deployer) =>
    run.base.publicClient.readContract({
      address: token,
      abi: imoTokenAbi,
      functionName: 'balanceOf',
      args: [ctx.account!.address],
    }) as Promise<bigint>
  const balances = (await Promise.all([balanceOf(run.deployer), balanceOf(run.holder)])) as [bigint, bigint]
  const claims = await run.step(
    'claim',
    'claiming for both holders (each with its own key)',
    async () => {
      // Claims on a snapshot open once its second has ended (the snapshot holds the balances at the end
      // of its second, so a flash loan cannot be in it); move the clock on by one second.
      await advanceChainClock(run, 1)
      const { claimCurrencies } = await import('../revenue/claimCurrencies.js')
      const native = nativeCurrency(run.base)
      const currencies = [native, usdc]
      const both = await Promise.all([
        claimCurrencies(run.deployer, token, currencies),
        claimCurrencies(run.holder, token, currencies),
      ])
      return both.map((claim) => ({
        holder: claim.holder,
        ...(claim.hash ? { hash: claim.hash } : {}),
        totalWei: claim.currencies.find((c) => c.currency.address === native.address)?.total ?? 0n,
        totalUsdc: claim.currencies.find((c) => c.currency.address === usdc.address)?.total ?? 0n,
      }))
    },
    (c) =>
      `claimed ${c.map((x) => `${eth(x.totalWei)} + ${formatUnits(x.totalUsdc, usdc.decimals, usdc.symbol)}`).join(' and ')}`,
  )
  return { depositWei, usdcDeposit, snapshot, balances, claims }
}

/** Moves anvil's clock on by `seconds` and mines a block (the demo does not wait out intervals). */
async function advanceChainClock(run: DemoRun, seconds: number): Promise<void> {
  await run.base.publicClient.request({ method: 'evm_increaseTime', params: [seconds] } as never)
  await run.base.publicClient.request({ method: 'evm_mine', params: [] } as never)
}
