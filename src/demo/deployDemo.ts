/**
 * Stage 2 of `imo demo`: the contracts. The devnet's test USDC (funding the three dev accounts), then
 * the token (ERC-7641, with the test USDC as a revenue currency) and the collection (ERC-7007); for
 * `--model zk` a PLONK verifier too, with keys from an INSECURE demo powers-of-tau made once in
 * imo's cache.
 */
import { join } from 'node:path'
import type { DemoDeployment, DemoRun, DemoUsdc } from './demoReport.js'
import { DEMO_SETTINGS } from './demoSettings.js'

/**
 * Deploys the test USDC, then the token and the collection.
 * @param keptDeployment - the deployment file with --keep (else one under the demo's state folder).
 * @example
 * const { usdc, deployed } = await deployDemo(run, keptDeployment)
 * deployed.token // '0x5FbD…0aa3'
 */
export async function deployDemo(run: DemoRun, keptDeployment: string): Promise<{ usdc: DemoUsdc; deployed: DemoDeployment }> {
  const { ANVIL_DEV_ACCOUNTS } = await import('../devnet/startAnvil.js')
  const { getAddress, parseEther } = await import('viem')
  const usdc = await run.step(
    'usdc',
    'deploying the test USDC and funding the development accounts',
    async (): Promise<DemoUsdc> => {
      const { deployTestUsdc } = await import('../devnet/deployTestUsdc.js')
      const info = await deployTestUsdc(
        run.chain.rpcUrl,
        ANVIL_DEV_ACCOUNTS.slice(0, 3).map((a) => a.address),
      )
      return { address: info.address, symbol: info.symbol, decimals: info.decimals, native: false }
    },
    (u) => `test USDC at ${u.address}`,
  )
  const zk = run.model === 'zk'
  const { deployment, path: deploymentFile } = await run.step(
    'deploy',
    zk
      ? 'deploying the token (ERC-7641), the PLONK verifier and the zk collection (ERC-7007); the keys come from an INSECURE demo powers-of-tau file'
      : 'deploying the token (ERC-7641) and the collection (ERC-7007)',
    async () => {
      const { hashModel } = await import('../model/hashModel.js')
      const zkParams = zk ? await demoZkDeploy(run.modelPath) : undefined
      const modelHash = zkParams?.modelHash ?? (await hashModel(run.modelPath)).modelHash
      const { deployImo } = await import('../deployment/deployImo.js')
      return deployImo(run.deployer, {
        ...(zkParams ? { zk: zkParams.zk } : {}),
        modelHash,
        model: { path: run.modelPath, given: run.modelPath },
        name: DEMO_SETTINGS.name,
        symbol: DEMO_SETTINGS.symbol,
        supply: DEMO_SETTINGS.supply,
        snapshotInterval: DEMO_SETTINGS.snapshotInterval,
        mintFeeWei: parseEther(DEMO_SETTINGS.mintFee),
        requestFeeWei: parseEther(DEMO_SETTINGS.requestFee),
        revenueCurrencies: [{ address: usdc.address, symbol: usdc.symbol, decimals: usdc.decimals }],
        deploymentFile: run.keep ? keptDeployment : join(run.stateRoot, 'deployments', '31337', 'default.json'),
      })
    },
    (r) =>
      `deployed token ${getAddress(r.deployment.imoToken.address)} and collection ${getAddress(r.deployment.aigcCollection.address)}`,
  )
  const token = getAddress(deployment.imoToken.address)
  const collection = getAddress(deployment.aigcCollection.address)
  return { usdc, deployed: { deployment, deploymentFile, token, collection } }
}

/** The zk demo's verifier and layout, with keys made from an insecure ptau in imo's cache (made once). */
async function demoZkDeploy(modelPath: string) {
  const { cachedInsecurePtau } = await import('../zk/writeInsecurePtau.js')
  const { zkVerifierForDeploy } = await import('../zk/zkVerifierForDeploy.js')
  return zkVerifierForDeploy(modelPath, { ptau: await cachedInsecurePtau(15), allowInsecurePtau: true })
}
