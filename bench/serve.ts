// Benchmark of `imo serve`, the operator's node for paid requests (not a test; run `npm run build`
// first): npx tsx bench/serve.ts [requests=200] [rssRequests=1000] [latencyRequests=40] (0 skips a part)
// Through the built CLI on local anvil chains with the bundled cppn model (real onnxruntime).
// 1. Throughput: `requests` requests from 4 accounts (dev accounts 1-4), all on chain first, served by
//    `imo serve --until-idle` (process start to exit), against `imo infer-and-mint --prompts` of as many
//    other prompts of the same lengths on the same chain (a prompt can be minted once).
//    Target: serve's rate >= 0.8 x infer-and-mint's.
// 2. Latency (anvil --block-time 1): requests arriving one at a time while `imo serve` runs; median
//    and p95 of the time from each request's block timestamp to the moment serve reports the
//    fulfilment's receipt (its `fulfilled` log line). Target: median <= the model's inference time
//    (median of in-process runs on a loaded model) + 2 block intervals.
// 3. Memory: one `imo serve` process, a warm-up of 300 requests (the V8 heap and the allocator grow to
//    their working size over the first few hundred), then `rssRequests` more; VmRSS (/proc/PID/status)
//    sampled every 250 ms while they are served, its median per 100 requests. Target: the last
//    hundred's median within +-10 % of the first's (a single reading lands anywhere on the garbage
//    collector's saw-tooth: the same run read 1.08 and 1.32).
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Address, createPublicClient, createWalletClient, http, type PublicClient, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { aigcCollectionAbi } from '../contracts-abi/index.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { printTable, type Row, runOnce } from './lib/measure.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const MODEL = join(ROOT, 'models', 'cppn')
const COUNT = Number(process.argv[2] ?? 200)
const RSS_COUNT = Number(process.argv[3] ?? 1000)
const LATENCY_COUNT = Number(process.argv[4] ?? 40)
const WARM_UP = 300
const REQUESTERS = [1, 2, 3, 4] as const
const FEE = 10n ** 15n // 0.001 ETH, the deploy default

interface Chain {
  anvil: Anvil
  dir: string
  env: NodeJS.ProcessEnv
  collection: Address
  client: PublicClient
}

/** `imo ARGS --json` in the chain's folder as the operator (dev account 0); its JSON and wall time. */
async function imo(chain: Chain, args: string[]): Promise<{ out: Record<string, unknown>; ms: number }> {
  const run = await runOnce(process.execPath, [join(ROOT, 'bin', 'imo.cjs'), ...args, '--json'], {
    cwd: chain.dir,
    env: chain.env,
  })
  if (run.code !== 0) throw new Error(`imo ${args[0]} failed (${run.code}): ${run.stderr}`)
  return { out: JSON.parse(run.stdout), ms: run.wallMs }
}

/** A fresh anvil and folder with the token and collection deployed for the cppn model. */
async function setUp(blockTime?: number): Promise<Chain> {
  const anvil = await startAnvil({ dieWithParent: true, ...(blockTime !== undefined ? { blockTime } : {}) })
  const dir = mkdtempSync(join(tmpdir(), 'imo-bench-serve-'))
  const env = {
    ...process.env,
    CI: 'true',
    NO_COLOR: '1',
    IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey,
    IMO_RPC_URL: anvil.rpcUrl,
  }
  const chain = { anvil, dir, env, client: createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl) }) as PublicClient }
  await imo({ ...chain, collection: '0x' }, [
    'deploy',
    '--model',
    MODEL,
    '--name',
    'Bench',
    '--symbol',
    'B',
    '--supply',
    '1000',
    '--mint-fee',
    '0.001',
    '--request-timeout',
    '3600',
  ])
  const deployment = JSON.parse(readFileSync(join(dir, '.imo', 'deployments', '31337', 'default.json'), 'utf8'))
  return { ...chain, collection: deployment.aigcCollection.address as Address }
}

async function tearDown(chain: Chain): Promise<void> {
  await chain.anvil.stop()
  rmSync(chain.dir, { recursive: true, force: true })
}

/** `count` prompts of the same lengths for both sides: side 'A' is minted, side 'R' is requested. */
const prompts = (side: 'A' | 'R', from: number, count: number) =>
  Array.from({ length: count }, (_, i) => `bench ${side} ${String(from + i).padStart(5, '0')}: a spiral of colour`)

/**
 * Pays the request fee for each prompt, round robin over dev accounts 1-4 (the accounts in parallel, or
 * one every ~spacingMs); resolves once every request is mined.
 */
async function sendRequests(chain: Chain, list: string[], spacingMs = 0): Promise<void> {
  const wallets = REQUESTERS.map((index) =>
    createWalletClient({
      chain: foundry,
      transport: http(chain.anvil.rpcUrl),
      account: privateKeyToAccount(chain.anvil.accounts[index]!.privateKey),
    }),
  )
  const nonces = await Promise.all(
    wallets.map((w) => chain.client.getTransactionCount({ address: w.account.address, blockTag: 'pending' })),
  )
  const send = (i: number) => {
    const slot = i % wallets.length
    const wallet = wallets[slot]!
    return wallet.writeContract({
      address: chain.collection,
      abi: aigcCollectionAbi,
      functionName: 'request',
      args: [toHex(list[i]!), wallet.account.address],
      value: FEE,
      nonce: nonces[slot]!++,
      gas: 400_000n,
    })
  }
  const hashes: Array<`0x${string}`> = []
  if (spacingMs > 0) {
    for (let i = 0; i < list.length; i++) {
      hashes.push(await send(i))
      await new Promise((resolve) => setTimeout(resolve, spacingMs * (0.5 + Math.random())))
    }
  } else {
    // Each account waits for its request's receipt before the next (automine: at once), so a request
    // never waits behind a nonce gap.
    const lanes = wallets.map(async (_, slot) => {
      for (let i = slot; i < list.length; i += wallets.length)
        await chain.client.waitForTransactionReceipt({ hash: await send(i), pollingInterval: 20 })
    })
    await Promise.all(lanes)
  }
  for (const hash of hashes) {
    const receipt = await chain.client.waitForTransactionReceipt({ hash, pollingInterval: 50 })
    if (receipt.status !== 'success') throw new Error(`request ${hash} reverted`)
  }
}

/** A long-running `imo serve --json`: its log lines, each with the wall time it arrived at. */
function startServe(chain: Chain, extra: string[] = []) {
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'bin', 'imo.cjs'), 'serve', '--json', ...extra], {
    cwd: chain.dir,
    env: chain.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: Array<Record<string, unknown> & { receivedAt: number }> = []
  let buffer = ''
  child.stdout!.resume()
  child.stderr!.on('data', (chunk) => {
    const receivedAt = Date.now()
    buffer += chunk
    const parts = buffer.split('\n')
    buffer = parts.pop()!
    for (const line of parts) {
      if (!line.trim()) continue
      try {
        lines.push({ ...JSON.parse(line), receivedAt })
      } catch {
        console.log(`serve printed a line that is not JSON: ${line}`)
      }
    }
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  const count = (event: string) => lines.filter((l) => l.event === event).length
  return { child, lines, exited, count }
}

async function until(what: string, fn: () => boolean, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
}

function vmRssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!match) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(match[1])
}

const load = () => `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`
console.log(`serve bench: ${COUNT} requests (throughput), ${LATENCY_COUNT} (latency), ${RSS_COUNT} (memory); ${load()}`)
const rows: Row[] = []

// 1. Throughput, both sides on one chain.
if (COUNT > 0) {
  const chain = await setUp()
  try {
    writeFileSync(join(chain.dir, 'prompts.txt'), `${prompts('A', 0, COUNT).join('\n')}\n`)
    const minted = await imo(chain, ['infer-and-mint', '--prompts', 'prompts.txt'])
    const mintedCount = (minted.out.outcomes as Array<{ status: string }>).filter((o) => o.status === 'minted').length
    if (mintedCount !== COUNT) throw new Error(`infer-and-mint minted ${mintedCount} of ${COUNT}`)
    const mintRate = COUNT / (minted.ms / 1000)
    await sendRequests(chain, prompts('R', 0, COUNT))
    const served = await imo(chain, ['serve', '--until-idle'])
    if (served.out.fulfilled !== COUNT) throw new Error(`serve fulfilled ${served.out.fulfilled} of ${COUNT}`)
    const serveRate = COUNT / (served.ms / 1000)
    console.log(`infer-and-mint --prompts  ${COUNT} minted in ${(minted.ms / 1000).toFixed(2)} s = ${mintRate.toFixed(1)}/s`)
    console.log(
      `serve --until-idle        ${COUNT} requests from ${REQUESTERS.length} accounts fulfilled in ${(served.ms / 1000).toFixed(2)} s = ${serveRate.toFixed(1)}/s`,
    )
    rows.push({
      figure: `serve rate, ${COUNT} requests`,
      value: `${serveRate.toFixed(1)}/s`,
      baseline: `infer-and-mint ${mintRate.toFixed(1)}/s`,
      ratio: (serveRate / mintRate).toFixed(2),
      target: '>= 0.80',
      pass: serveRate / mintRate >= 0.8,
    })
  } finally {
    await tearDown(chain)
  }
}

// 2. Latency with one-second blocks.
if (LATENCY_COUNT > 0) {
  const { loadModel } = await import('../src/inference/loadModel.js')
  const { runInference } = await import('../src/inference/runInference.js')
  const loaded = await loadModel(MODEL)
  const inference: number[] = []
  for (let i = 0; i < 23; i++) {
    const started = performance.now()
    await runInference({ modelPath: loaded, prompt: prompts('R', 90_000 + i, 1)[0]! })
    if (i >= 3) inference.push(performance.now() - started)
  }
  const inferenceMs = quantile(inference, 0.5)
  const chain = await setUp(1)
  const serve = startServe(chain)
  try {
    await until('serve to start', () => serve.lines.some((l) => l.event === 'start' && l.fromBlock))
    await sendRequests(chain, prompts('R', 0, LATENCY_COUNT), 700)
    await until('every request fulfilled', () => serve.count('fulfilled') >= LATENCY_COUNT)
    const seenBlock = new Map(
      serve.lines.filter((l) => l.event === 'seen').map((l) => [l.requestId, BigInt(l.blockNumber as string)]),
    )
    const latencies: number[] = []
    const blocks: number[] = []
    for (const line of serve.lines.filter((l) => l.event === 'fulfilled')) {
      const block = seenBlock.get(line.requestId)!
      const { timestamp } = await chain.client.getBlock({ blockNumber: block })
      latencies.push(line.receivedAt - Number(timestamp) * 1000)
      blocks.push(Number(BigInt(line.blockNumber as string) - block))
    }
    const median = quantile(latencies, 0.5)
    const budget = inferenceMs + 2 * 1000
    console.log(
      `latency (block time 1 s)  ${LATENCY_COUNT} requests: median ${median.toFixed(0)} ms, p95 ${quantile(latencies, 0.95).toFixed(0)} ms from the request's block timestamp to the fulfilment's receipt; fulfilled a median ${quantile(blocks, 0.5)} block(s) after the request; inference ${inferenceMs.toFixed(1)} ms`,
    )
    rows.push({
      figure: 'request block -> fulfilment receipt, median',
      value: `${median.toFixed(0)} ms`,
      baseline: `inference ${inferenceMs.toFixed(0)} ms`,
      ratio: '-',
      target: `<= ${budget.toFixed(0)} ms`,
      pass: median <= budget,
    })
    rows.push({
      figure: 'request block -> fulfilment receipt, p95',
      value: `${quantile(latencies, 0.95).toFixed(0)} ms`,
      baseline: '',
      ratio: '-',
      target: '-',
      pass: undefined,
    })
  } finally {
    serve.child.kill('SIGTERM')
    await serve.exited
    await tearDown(chain)
  }
}

// 3. Memory over RSS_COUNT requests, after a warm-up.
if (RSS_COUNT > 0) {
  const chain = await setUp()
  const serve = startServe(chain)
  try {
    const pid = serve.child.pid!
    await until('serve to start', () => serve.lines.some((l) => l.event === 'start' && l.fromBlock))
    const atStart = vmRssKiB(pid)
    // Sent 100 at a time (all on chain, then served): the bench waits for each hundred.
    const serveHundreds = async (side: string, from: number, count: number, each?: (done: number) => void) => {
      for (let at = from; at < from + count; at += 100) {
        const size = Math.min(100, from + count - at)
        await sendRequests(
          chain,
          prompts('R', at, size).map((p) => `${side}${p}`),
        )
        await until(`${at + size} fulfilled (${serve.count('fulfilled')} so far)`, () => serve.count('fulfilled') >= at + size)
        each?.(at + size - from)
      }
    }
    await serveHundreds('w', 0, WARM_UP)
    const afterWarmUp = vmRssKiB(pid)
    const samples: Array<{ done: number; kib: number }> = []
    const sampler = setInterval(() => samples.push({ done: serve.count('fulfilled') - WARM_UP, kib: vmRssKiB(pid) }), 250)
    await serveHundreds('m', WARM_UP, RSS_COUNT, (done) =>
      console.log(`  ${done} of ${RSS_COUNT} fulfilled after the warm-up, VmRSS ${(vmRssKiB(pid) / 1024).toFixed(1)} MiB`),
    )
    clearInterval(sampler)
    const window = (from: number) =>
      quantile(
        samples.filter((s) => s.done >= from && s.done < from + 100).map((s) => s.kib),
        0.5,
      )
    const windows = Array.from({ length: Math.ceil(RSS_COUNT / 100) }, (_, i) => window(i * 100))
    const first = windows[0]!
    const last = windows.at(-1)!
    const peak = Math.max(...samples.map((s) => s.kib))
    const ratio = last / first
    console.log(
      `memory                    serve VmRSS ${(atStart / 1024).toFixed(1)} MiB idle at start, ${(afterWarmUp / 1024).toFixed(1)} MiB after a warm-up of ${WARM_UP} requests; median per 100 requests: ${windows.map((kib) => (kib / 1024).toFixed(0)).join(' ')} MiB (peak ${(peak / 1024).toFixed(1)} MiB)`,
    )
    rows.push({
      figure: `serve RSS, last / first 100 of ${RSS_COUNT} requests`,
      value: `${(last / 1024).toFixed(1)} MiB`,
      baseline: `${(first / 1024).toFixed(1)} MiB`,
      ratio: ratio.toFixed(3),
      target: '0.90-1.10',
      pass: ratio >= 0.9 && ratio <= 1.1,
    })
  } catch (error) {
    const other = serve.lines.filter((l) => l.event !== 'seen' && l.event !== 'fulfilled')
    console.log(`serve: ${serve.count('seen')} seen, ${serve.count('fulfilled')} fulfilled; other lines:`)
    for (const line of other.slice(-20)) console.log(`  ${JSON.stringify(line)}`)
    throw error
  } finally {
    serve.child.kill('SIGTERM')
    await serve.exited
    await tearDown(chain)
  }
}

console.log('')
const ok = printTable(rows)
console.log(`${ok ? 'PASS' : 'FAIL'}: every target ${ok ? 'met' : 'not met'}; ${load()}`)
