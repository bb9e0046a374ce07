/**
 * Stage 6 of `imo demo`: a paid call of serve's HTTP API. The operator's node starts its
 * OpenAI-compatible API (`imo serve --http`, in process, no chain following) at a price in the test
 * USDC; the model user asks it through `imo ask`'s client (askApi: 402, price check, an EIP-3009
 * authorization through @x402/fetch, the attestation checked), and serve's own x402 facilitator
 * settles the payment straight into the token. The token's USDC balance must grow by exactly the price:
 * the payment is revenue at the next snapshot like any deposit.
 */
import { join } from 'node:path'
import type { Address, Hex } from 'viem'
import type { DemoDeployment, DemoReport, DemoRun, DemoUsdc } from './demoReport.js'
import { DEMO_API_PROMPTS, DEMO_SETTINGS } from './demoSettings.js'

/**
 * Starts serve's API, pays for one call and stops it.
 * @example
 * const apiCall = await askDemoApi(run, deployed, usdc) // { paidWei: 1000000n, tokenReceivedWei: 1000000n, … }
 */
export async function askDemoApi(
  run: DemoRun,
  deployed: DemoDeployment,
  usdc: DemoUsdc,
): Promise<NonNullable<DemoReport['apiCall']>> {
  const { erc20Abi } = await import('viem')
  const { formatUnits } = await import('../chain/format.js')
  const prompt = DEMO_API_PROMPTS[run.model === 'tinylm' ? 'tinylm' : 'cppn']
  const payer = run.user.account!.address
  const tokenUsdc = () =>
    run.base.publicClient.readContract({
      address: usdc.address,
      abi: erc20Abi,
      functionName: 'balanceOf',
      args: [deployed.token],
    }) as Promise<bigint>
  return run.step(
    'api',
    `the model user ${payer} pays ${DEMO_SETTINGS.apiPrice} ${usdc.symbol} for "${prompt}" through imo serve's HTTP API (x402)`,
    async () => {
      const t0 = performance.now()
      const { startServe } = await import('../serve/startServe.js')
      const serving = await startServe(run.deployer, deployed.deployment, {
        modelPath: run.modelPath,
        stateRoot: run.stateRoot,
        follow: false,
        http: { port: 0, host: '127.0.0.1', price: DEMO_SETTINGS.apiPrice, currency: usdc.address },
        log: () => {},
      })
      try {
        const before = await tokenUsdc()
        const { askApi } = await import('../api/askApi.js')
        const answer = await askApi(run.user, {
          api: serving.apiUrl!,
          prompt,
          maxPrice: DEMO_SETTINGS.apiPrice,
          outDir: join(run.outDir, 'api'),
          ...(run.model === 'tinylm' ? { maxTokens: 16 } : {}),
        })
        const tokenReceivedWei = (await tokenUsdc()) - before
        const { parseCurrencyAmount } = await import('../revenue/resolveCurrency.js')
        return {
          url: serving.apiUrl!,
          prompt,
          payer: answer.payer,
          currency: answer.currency,
          paidWei: parseCurrencyAmount(DEMO_SETTINGS.apiPrice, usdc, 'apiPrice'),
          tokenReceivedWei,
          settlementTxHash: answer.transaction as Hex,
          file: answer.file,
          ...(answer.image ? { image: answer.image } : {}),
          ...(answer.text !== undefined ? { text: answer.text } : {}),
          commitment: answer.commitment,
          attester: answer.attester as Address,
          servedMs: Math.round(performance.now() - t0),
        }
      } finally {
        await serving.stop()
      }
    },
    (r) =>
      `the model user paid ${formatUnits(r.paidWei, usdc.decimals, usdc.symbol)} for "${r.prompt}"; serve settled it into the token in ${r.settlementTxHash.slice(0, 12)}…`,
  )
}
