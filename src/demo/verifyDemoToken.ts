/**
 * Stage 8 of `imo demo`: anyone's check of a minted token. `imo verify --token` on the first mint:
 * the proof, the record and the metadata, and the model re-run locally to the same output.
 */
import type { Hex } from 'viem'
import type { DemoDeployment, DemoReport, DemoRun } from './demoReport.js'

/**
 * Verifies one token by re-running the model.
 * @example
 * const verification = await verifyDemoToken(run, deployed, mints[0].tokenId) // { ok: true, checks: [...] }
 */
export async function verifyDemoToken(run: DemoRun, deployed: DemoDeployment, tokenId: Hex): Promise<DemoReport['verification']> {
  const verification = await run.step(
    'verify',
    `verifying token ${tokenId.slice(0, 12)}… by re-running the model`,
    async () => {
      const { verifyToken } = await import('../verify/verifyToken.js')
      return verifyToken(run.base, {
        collection: deployed.collection,
        tokenId: BigInt(tokenId),
        modelPath: run.modelPath,
        metadataDir: run.outDir,
      })
    },
    (v) => (v.ok ? `verified: ${v.checks.filter((c) => c.status === 'pass').length} checks passed` : 'verification FAILED'),
  )
  return {
    tokenId,
    ok: verification.ok,
    checks: verification.checks.map((c) => ({ name: c.name, status: c.status, detail: c.detail })),
  }
}
