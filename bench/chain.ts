// Wall time of `imo deploy`'s re-run detection against a local anvil ("already deployed": the path
// every sending command starts with: connect, chain id, journal, code at the recorded addresses).
// The read-only path and start-up against `cast` and `node -e 0` are in bench/startup.ts.
// Run: npm run build && npx tsx bench/chain.ts
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startAnvil } from '../src/devnet/startAnvil.js'
import { runOnce } from './lib/measure.js'

const ROOT = join(fileURLToPath(import.meta.url), '..', '..')
const IMO = join(ROOT, 'bin', 'imo.cjs')
const RUNS = 7

// Asynchronous (runOnce): a synchronous spawn would block this process, which drains anvil's output.
async function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const result = await runOnce(command, args, { cwd, env })
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`)
  return result
}

async function times(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number[]> {
  const ms: number[] = []
  for (let i = 0; i < RUNS; i++) ms.push((await run(command, args, cwd, env)).wallMs)
  return ms
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

const anvil = await startAnvil()
const dir = mkdtempSync(join(tmpdir(), 'imo-bench-chain-'))
try {
  const env = { ...process.env, CI: 'true', NO_COLOR: '1', IMO_PRIVATE_KEY: anvil.accounts[0].privateKey }
  const args = [
    'deploy',
    '--model-hash',
    `0x${'ab'.repeat(32)}`,
    '--name',
    'Bench',
    '--symbol',
    'B',
    '--supply',
    '1000',
    '--rpc-url',
    anvil.rpcUrl,
    '--json',
  ]
  const first = await run(process.execPath, [IMO, ...args], dir, env)
  if (!JSON.parse(first.stdout).imoToken?.address) throw new Error('imo deploy printed no token address')
  const imo = await times(process.execPath, [IMO, ...args], dir, env)
  console.log(`deploy re-run, ${RUNS} runs, anvil at ${anvil.rpcUrl}`)
  console.log(
    `imo deploy (re-run: already deployed)  median ${median(imo).toFixed(0).padStart(5)} ms   min ${Math.min(...imo)
      .toFixed(0)
      .padStart(5)} ms`,
  )
} finally {
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
}
