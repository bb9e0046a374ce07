/**
 * Stage 3 of `imo demo`: the deployer runs the model on the demo's prompts and mints them in one batch
 * (the mint fee of each goes to the token); the report lists each token with its artifact and record.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ImoError } from '../errors.js'
import type { DemoDeployment, DemoReport, DemoRun } from './demoReport.js'
import { DEMO_PROMPTS, DEMO_SETTINGS, DEMO_TEXT_PROMPTS } from './demoSettings.js'

/**
 * Mints the demo's prompts.
 * @returns the mints and what the token received in native currency from their fees.
 * @example
 * const { mints, feesToTokenWei } = await mintDemo(run, deployed)
 */
export async function mintDemo(
  run: DemoRun,
  deployed: DemoDeployment,
): Promise<{ mints: DemoReport['mints']; feesToTokenWei: bigint }> {
  // zk: one image (its PLONK proof takes about 30 s of CPU), a collection that checks it on chain.
  const prompts: readonly string[] =
    run.model === 'tinylm' ? DEMO_TEXT_PROMPTS : run.model === 'zk' ? DEMO_PROMPTS.slice(0, 1) : DEMO_PROMPTS
  const tokenBalance = () => run.base.publicClient.getBalance({ address: deployed.token })
  const before = await tokenBalance()
  const minted = await run.step(
    'mint',
    `running the model on ${prompts.length} prompts and minting them (fee ${DEMO_SETTINGS.mintFee} ETH each)`,
    async () => {
      const { inferAndMint } = await import('../mint/inferAndMint.js')
      return inferAndMint(run.deployer, {
        prompts: [...prompts],
        modelPath: run.modelPath,
        deployment: deployed.deployment,
        batch: true,
        out: run.outDir,
      })
    },
    (r) => `minted ${r.outcomes.length} tokens`,
  )
  const feesToTokenWei = (await tokenBalance()) - before
  const { readRecord } = await import('../inference/record.js')
  const mints = minted.outcomes.map((o) => {
    if (!o.outDir) throw new ImoError(`the mint of "${o.prompt}" has no output folder`)
    const recordPath = join(o.outDir, 'record.json')
    const record = readRecord(recordPath)
    const artifact = join(o.outDir, record.artifact.file)
    return {
      prompt: o.prompt ?? '',
      tokenId: o.tokenIdHex,
      ...(o.txHash ? { txHash: o.txHash } : {}),
      feeWei: o.feeWei,
      image: artifact,
      record: recordPath,
      ...(record.artifact.mime.startsWith('text/') ? { text: readFileSync(artifact, 'utf8') } : {}),
    }
  })
  return { mints, feesToTokenWei }
}
