/**
 * Stage 5 of `imo demo`: a paid on-chain request. The model user (anvil dev account 2) pays the request
 * fee with `imo request`; the operator's node (`imo serve`, in process, until idle) runs the model
 * and fulfils it, minting the token to the user. The fee is the token's at the next snapshot.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { ImoError } from '../errors.js'
import type { DemoDeployment, DemoReport, DemoRun } from './demoReport.js'
import { DEMO_REQUEST_PROMPTS, DEMO_SETTINGS } from './demoSettings.js'

/**
 * Pays for a prompt and has serve fulfil it.
 * @throws ImoError when serve does not fulfil exactly that request.
 * @example
 * const request = await serveDemoRequest(run, deployed) // { requestId: 1n, tokenId: '0x…', … }
 */
export async function serveDemoRequest(run: DemoRun, deployed: DemoDeployment): Promise<NonNullable<DemoReport['request']>> {
  const { parseEther } = await import('viem')
  const { formatNative } = await import('../chain/format.js')
  const prompt = DEMO_REQUEST_PROMPTS[run.model === 'tinylm' ? 'tinylm' : 'cppn']
  const user = run.user.account!.address
  return run.step(
    'request',
    `a model user ${user} pays ${DEMO_SETTINGS.requestFee} ETH for "${prompt}"; imo serve fulfils it`,
    async () => {
      const t0 = performance.now()
      const { sendRequest } = await import('../requests/sendRequest.js')
      const sent = await sendRequest(run.user, deployed.collection, {
        prompt,
        expectedFeeWei: parseEther(DEMO_SETTINGS.requestFee),
      })
      const { startServe } = await import('../serve/startServe.js')
      const events: Array<Record<string, unknown>> = []
      const serving = await startServe(run.deployer, deployed.deployment, {
        modelPath: run.modelPath,
        out: run.outDir,
        stateRoot: run.stateRoot,
        untilIdle: true,
        pollMs: 100,
        log: (event) => events.push(event),
      })
      const summary = await serving.done
      const fulfilled = events.find((e) => e.event === 'fulfilled' && e.requestId === String(sent.requestId))
      if (summary.fulfilled !== 1 || !fulfilled)
        throw new ImoError(
          `imo serve did not fulfil the demo's request ${sent.requestId}: ${events.map((e) => e.message).join('; ')}`,
        )
      const folder = findOutputFolder(run.outDir, sent.promptHash)
      const { readRecord } = await import('../inference/record.js')
      const record = readRecord(join(folder, 'record.json'))
      const image = join(folder, record.artifact.file)
      return {
        prompt,
        requester: user,
        recipient: sent.recipient,
        requestId: sent.requestId!,
        feeWei: sent.feeWei,
        ...(sent.hash ? { requestTx: sent.hash } : {}),
        tokenId: fulfilled.tokenId as Hex,
        ...(fulfilled.tx ? { fulfilTx: fulfilled.tx as Hex } : {}),
        image,
        ...(record.artifact.mime.startsWith('text/') ? { text: readFileSync(image, 'utf8') } : {}),
        servedMs: Math.round(performance.now() - t0),
      }
    },
    (r) =>
      `the model user ${r.requester} paid ${formatNative(r.feeWei, run.base.nativeSymbol)} for "${r.prompt}"; imo serve fulfilled request ${r.requestId} with token ${r.tokenId.slice(0, 12)}…`,
  )
}

/** The inference folder under `outDir` whose record is for `promptHash` (serve writes one per request). */
function findOutputFolder(outDir: string, promptHash: Hex): string {
  for (const entry of readdirSync(outDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue
    const file = join(outDir, entry.name, 'record.json')
    if (!existsSync(file)) continue
    const record = JSON.parse(readFileSync(file, 'utf8')) as { promptHash?: string }
    if (record.promptHash?.toLowerCase() === promptHash.toLowerCase()) return join(outDir, entry.name)
  }
  throw new ImoError(`imo serve wrote no inference folder for the prompt ${promptHash} under ${outDir}`)
}
