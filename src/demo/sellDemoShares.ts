/**
 * Stage 4 of `imo demo`: the deployer sells 30% of the supply in a short fixed-price sale
 * (`imo offer`), the second holder buys it out, and the sold-out sale is finalized at once.
 */
import type { DemoDeployment, DemoRun } from './demoReport.js'
import { DEMO_SETTINGS } from './demoSettings.js'

/**
 * Opens the sale and has the second holder buy it out.
 * @example
 * await sellDemoShares(run, deployed)
 */
export async function sellDemoShares(run: DemoRun, deployed: DemoDeployment): Promise<void> {
  const { getAddress, parseEther } = await import('viem')
  const { formatNative } = await import('../chain/format.js')
  const amount = DEMO_SETTINGS.transfer * 10n ** 18n
  const sale = await run.step(
    'offer',
    `selling ${DEMO_SETTINGS.transfer} ${DEMO_SETTINGS.symbol} in a short sale at ${DEMO_SETTINGS.salePrice} ETH per token`,
    async () => {
      const { createOffering } = await import('../offer/createOffering.js')
      const { record } = await createOffering(run.deployer, deployed.deployment, {
        amount,
        startPriceWei: parseEther(DEMO_SETTINGS.salePrice),
        floorPriceWei: parseEther(DEMO_SETTINGS.salePrice),
        startText: 'now',
        durationSeconds: 60,
        softCapWei: 0n,
        maxPerAddress: 0n,
        deploymentFile: deployed.deploymentFile,
        yes: true,
      })
      return getAddress(record.sale!)
    },
    (address) => `opened the sale ${address}`,
  )
  const buyer = run.holder.account!.address
  await run.step(
    'buy',
    `the second holder ${buyer} buys ${DEMO_SETTINGS.transfer} ${DEMO_SETTINGS.symbol}`,
    async () => {
      const { buyTokens } = await import('../offer/buyTokens.js')
      const { settleOffering } = await import('../offer/settleOffering.js')
      const bought = await buyTokens(run.holder, sale, { amount, yes: true })
      // Sold out: the seller finalizes at once and withdraws the proceeds.
      await settleOffering(run.deployer, sale, 'finalize')
      return bought
    },
    (b) =>
      `the second holder ${buyer} bought ${DEMO_SETTINGS.transfer} ${DEMO_SETTINGS.symbol} (${(DEMO_SETTINGS.transfer * 100n) / DEMO_SETTINGS.supply}%) for ${formatNative(b.costWei, run.base.nativeSymbol)}; the sale is finalized`,
  )
}
