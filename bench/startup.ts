// Start-up of the CLI against its floors (not a test). Paired and interleaved: each round runs every
// command once, the order rotating from round to round, so all of them see the same background load;
// the ratios are medians of the per-round ratios, printed with their spread (25th-75th percentile).
// On Linux it also prints each command's mean CPU time (the kernel's count for waited-for children,
// in 10 ms ticks, so only the mean over the rounds means anything): less disturbed than wall time
// by other processes on a busy machine.
// - `imo --help` against `node -e 0`, the floor of any Node CLI (target <= 1.25);
// - `imo claimable ADDRESS` (read-only: chain id, deployment check, one multicall) against
//   `cast call balanceOf(ADDRESS)` on the same anvil (target <= 1.50), twice: against Foundry's
//   native binary, and against the npm wrapper `node_modules/.bin/cast` (a Node script that spawns
//   the binary, what `npx cast` runs). A Node process cannot match a native binary that starts in
//   a few milliseconds: `node -e 0` alone takes longer than the whole `cast call`.
// Run: npm run build && npx tsx bench/startup.ts [--rounds 21] [--strict]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { foundryBinary } from '../src/devnet/foundryBinary.js'
import { startAnvil } from '../src/devnet/startAnvil.js'
import { printTable, type Row, runOnce } from './lib/measure.js'

const ROOT = join(fileURLToPath(import.meta.url), '..', '..')
const IMO = join(ROOT, 'bin', 'imo.cjs')
const roundsAt = process.argv.indexOf('--rounds')
const ROUNDS = roundsAt > 0 ? Number(process.argv[roundsAt + 1]) : 21
const strict = process.argv.includes('--strict')

interface Subject {
  name: string
  command: string
  args: string[]
  env?: NodeJS.ProcessEnv
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (sorted.length - 1) * q
  const low = Math.floor(at)
  return sorted[low]! + (sorted[Math.ceil(at)]! - sorted[low]!) * (at - low)
}
const median = (values: number[]) => quantile(values, 0.5)
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
/** CPU time of this process's waited-for children so far, in ms (cutime + cstime, ticks of 10 ms), or undefined off Linux. */
const childrenCpuMs = (): number | undefined => {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[13]) + Number(fields[14])) * 10
  } catch {
    return undefined
  }
}

const anvil = await startAnvil()
const dir = mkdtempSync(join(tmpdir(), 'imo-bench-startup-'))
try {
  const env = { ...process.env, CI: 'true', NO_COLOR: '1' }
  const deployed = await runOnce(
    process.execPath,
    [IMO, 'deploy', '--model-hash', `0x${'ab'.repeat(32)}`, '--name', 'Bench', '--symbol', 'B', '--supply', '1000', '--json'],
    { cwd: dir, env: { ...env, IMO_PRIVATE_KEY: anvil.accounts[0].privateKey, IMO_RPC_URL: anvil.rpcUrl }, rss: false },
  )
  if (deployed.code !== 0) throw new Error(`imo deploy failed: ${deployed.stderr}`)
  const token = JSON.parse(deployed.stdout).imoToken.address as string
  const holder = anvil.accounts[1].address
  const castArgs = ['call', token, 'balanceOf(address)(uint256)', holder, '--rpc-url', anvil.rpcUrl]
  const subjects: Subject[] = [
    { name: 'node -e 0', command: process.execPath, args: ['-e', '0'] },
    { name: 'imo --help', command: process.execPath, args: [IMO, '--help'] },
    { name: 'cast call (native binary)', command: foundryBinary('cast'), args: castArgs },
    { name: 'cast call (npm wrapper)', command: join(ROOT, 'node_modules', '.bin', 'cast'), args: castArgs },
    {
      name: 'imo claimable ADDRESS',
      command: process.execPath,
      args: [IMO, 'claimable', holder, '--json'],
      env: { ...env, IMO_RPC_URL: anvil.rpcUrl },
    },
  ]
  const times = new Map(subjects.map((subject) => [subject.name, [] as number[]]))
  const cpu = new Map(subjects.map((subject) => [subject.name, 0]))
  const loadBefore = load()
  for (let round = 0; round < ROUNDS + 1; round++) {
    for (let i = 0; i < subjects.length; i++) {
      const subject = subjects[(round + i) % subjects.length]!
      const cpuBefore = childrenCpuMs()
      const run = await runOnce(subject.command, subject.args, { cwd: dir, env: subject.env ?? env, rss: false })
      if (run.code !== 0) throw new Error(`${subject.name} failed (${run.code}): ${run.stderr}`)
      // Round 0 warms the page cache and anvil; it is not counted.
      if (round === 0) continue
      times.get(subject.name)!.push(run.wallMs)
      const cpuAfter = childrenCpuMs()
      if (cpuBefore !== undefined && cpuAfter !== undefined) cpu.set(subject.name, cpu.get(subject.name)! + cpuAfter - cpuBefore)
    }
  }
  const of = (name: string) => times.get(name)!
  const ratioRow = (figure: string, name: string, baseline: string, target: number): Row => {
    const ratios = of(name).map((ms, i) => ms / of(baseline)[i]!)
    const ratio = median(ratios)
    return {
      figure,
      value: `${median(of(name)).toFixed(0)} ms`,
      baseline: `${baseline} ${median(of(baseline)).toFixed(0)} ms`,
      ratio: `${ratio.toFixed(2)} (${quantile(ratios, 0.25).toFixed(2)}-${quantile(ratios, 0.75).toFixed(2)})`,
      target: `<= ${target.toFixed(2)}`,
      pass: ratio <= target,
    }
  }
  console.log(`start-up, ${ROUNDS} interleaved rounds, anvil at ${anvil.rpcUrl}`)
  console.log(`load average ${loadBefore} before, ${load()} after (${availableParallelism()} CPUs; noisy above ~0.5)`)
  const cpuMean = (name: string) => cpu.get(name)! / ROUNDS
  for (const subject of subjects) {
    const ms = of(subject.name)
    console.log(
      `  ${subject.name.padEnd(28)} median ${median(ms).toFixed(1).padStart(6)} ms  (25-75%: ${quantile(ms, 0.25).toFixed(1)}-${quantile(ms, 0.75).toFixed(1)})` +
        (childrenCpuMs() === undefined ? '' : `   CPU ${cpuMean(subject.name).toFixed(0).padStart(4)} ms (mean)`),
    )
  }
  const ok = printTable([
    ratioRow('imo --help', 'imo --help', 'node -e 0', 1.25),
    ratioRow('imo claimable vs native cast', 'imo claimable ADDRESS', 'cast call (native binary)', 1.5),
    ratioRow('imo claimable vs npm cast', 'imo claimable ADDRESS', 'cast call (npm wrapper)', 1.5),
  ])
  console.log('ratio: median of the per-round ratios (25th-75th percentile in brackets)')
  if (childrenCpuMs() !== undefined)
    console.log(
      `CPU-time ratios (means): imo --help / node -e 0 ${(cpuMean('imo --help') / cpuMean('node -e 0')).toFixed(2)}, ` +
        `imo claimable / npm cast ${(cpuMean('imo claimable ADDRESS') / cpuMean('cast call (npm wrapper)')).toFixed(2)}, ` +
        `/ native cast ${(cpuMean('imo claimable ADDRESS') / cpuMean('cast call (native binary)')).toFixed(2)}`,
    )
  if (strict && !ok) process.exitCode = 1
} finally {
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
}
