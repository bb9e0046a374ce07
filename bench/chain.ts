// Wall time of imo's chain read path next to Foundry's `cast`, against a local anvil:
// - `imo claimable ADDRESS` (a read-only command: connect, chain id, deployment file, one multicall)
//   against `cast call balanceOf(ADDRESS)` (one eth_call);
// - `imo deploy` re-run detection ("already deployed": the path every sending command starts with);
// - `node -e 0`, the floor of any Node CLI, and `imo --help`.
// Run: npm run build && npx tsx bench/chain.ts
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { foundryBinary } from '../src/devnet/foundryBinary.js'
import { startAnvil } from '../src/devnet/startAnvil.js'
import { runOnce } from './lib/measure.js'

const ROOT = join(fileURLToPath(import.meta.url), '..', '..')
const IMO = join(ROOT, 'bin', 'imo.cjs')
const CAST = foundryBinary('cast')
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
  const token = JSON.parse(first.stdout).imoToken.address as string
  const imo = await times(process.execPath, [IMO, ...args], dir, env)
  // A pure read: the holder's balance of the token, through imo (connect, chain id, deployment file,
  // one multicall) and through cast (one eth_call), without a signer.
  const holder = anvil.accounts[1].address
  const readEnv = { ...env, IMO_PRIVATE_KEY: undefined, IMO_RPC_URL: anvil.rpcUrl }
  const claimable = await times(process.execPath, [IMO, 'claimable', holder, '--json'], dir, readEnv)
  const cast = await times(CAST, ['call', token, 'balanceOf(address)(uint256)', holder, '--rpc-url', anvil.rpcUrl], dir, env)
  const node = await times(process.execPath, ['-e', '0'], dir, env)
  const help = await times(process.execPath, [IMO, '--help'], dir, env)
  const row = (name: string, values: number[]) =>
    console.log(
      `${name.padEnd(44)} median ${median(values).toFixed(0).padStart(5)} ms   min ${Math.min(...values)
        .toFixed(0)
        .padStart(5)} ms`,
    )
  console.log(`chain read path, ${RUNS} runs each, anvil at ${anvil.rpcUrl}`)
  row('imo claimable ADDRESS (read-only)', claimable)
  row('cast call balanceOf(ADDRESS)', cast)
  row('imo deploy (re-run: already deployed)', imo)
  console.log(`ratio imo claimable / cast call: ${(median(claimable) / median(cast)).toFixed(2)}`)
  row('node -e 0', node)
  row('imo --help', help)
} finally {
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
}
