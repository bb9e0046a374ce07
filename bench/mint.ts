// Minting speed: `imo infer-and-mint --prompts` of 100 prompts with the bundled model on a local anvil
// (started with startAnvil), through the built CLI (run `npm run build` first). Prints mints per
// second and splits the time into inference (model load + 100 runs) and chain (signing, metadata,
// pipelined sends via sendSteps, receipts). Run: npx tsx bench/mint.ts [COUNT]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startAnvil } from '../src/devnet/startAnvil.js'
import { runOnce } from './lib/measure.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const COUNT = Number(process.argv[2] ?? 100)
const anvil = await startAnvil()
const dir = mkdtempSync(join(tmpdir(), 'imo-bench-mint-'))
const env = {
  ...process.env,
  CI: 'true',
  NO_COLOR: '1',
  IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey,
  IMO_RPC_URL: anvil.rpcUrl,
}
interface BenchOutput {
  outcomes: Array<{ status: string; blockNumber: string }>
  timings: { inferenceMs: number; chainMs: number; totalMs: number }
  phases: Record<string, number>
}
// runOnce spawns asynchronously: a synchronous spawn would block this process, which drains anvil's output.
const imo = async (args: string[]): Promise<{ out: BenchOutput; ms: number }> => {
  const run = await runOnce(process.execPath, [join(ROOT, 'bin', 'imo.cjs'), ...args, '--json'], { cwd: dir, env })
  if (run.code !== 0) throw new Error(`imo ${args[0]} failed (${run.code}): ${run.stderr}`)
  return { out: JSON.parse(run.stdout), ms: run.wallMs }
}
try {
  await imo([
    'deploy',
    '--model',
    join(ROOT, 'models', 'cppn'),
    '--name',
    'Bench',
    '--symbol',
    'B',
    '--supply',
    '1000',
    '--mint-fee',
    '0.001',
  ])
  const prompts = Array.from({ length: COUNT }, (_, i) => `bench prompt ${i}: a spiral of colour number ${i}`)
  writeFileSync(join(dir, 'prompts.txt'), `${prompts.join('\n')}\n`)
  const { out, ms } = await imo(['infer-and-mint', '--prompts', 'prompts.txt'])
  const minted = out.outcomes.filter((o) => o.status === 'minted').length
  const { inferenceMs, chainMs, totalMs } = out.timings
  const blocks = new Set(out.outcomes.map((o) => o.blockNumber)).size
  console.log(`infer-and-mint --prompts: ${minted}/${COUNT} minted in ${(ms / 1000).toFixed(2)} s wall (process included)`)
  console.log(
    `  ${(minted / (ms / 1000)).toFixed(1)} mints/s end to end; ${(minted / (totalMs / 1000)).toFixed(1)} mints/s inside the command`,
  )
  console.log(
    `  inference ${(inferenceMs / 1000).toFixed(2)} s (${(inferenceMs / COUNT).toFixed(1)} ms/prompt, model load included)`,
  )
  console.log(
    `  chain     ${(chainMs / 1000).toFixed(2)} s (${(chainMs / COUNT).toFixed(1)} ms/mint: checks, sign, metadata, pipelined sends, receipts; ${blocks} blocks)`,
  )
  const p = out.phases
  console.log(
    `    of which: checks ${(p.checksMs! / 1000).toFixed(2)} s, sign + metadata ${(p.prepareMs! / 1000).toFixed(2)} s, writing folders ${(p.writeMs! / 1000).toFixed(2)} s, sendSteps ${(p.sendMs! / 1000).toFixed(2)} s`,
  )
  console.log(`  chain share ${((chainMs / totalMs) * 100).toFixed(0)}% of the command's time`)
} finally {
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
}
