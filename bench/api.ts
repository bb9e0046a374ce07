// Benchmark of the paid HTTP API of `imo serve --http` (not a test; run `npm run build` first):
//   npx tsx bench/api.ts [seconds=10] [paidCalls=40] [latencyCalls=12]   (0 skips a part)
// A real `imo serve --http 0 --no-follow` (the built CLI, the bundled cppn model, real onnxruntime)
// on a real anvil with the devnet's TestUsdc; serve's RPC goes through a loopback proxy here that
// counts every JSON-RPC call it forwards.
// 1. Unpaid calls: autocannon (50 connections, `seconds` s) POSTs /v1/images/generations without a
//    payment; every answer must be 402. Target >= 5,000 answers/s on 2 cores; and per request no model
//    run (serve's imo_api_model_runs_total unchanged) and no RPC call (the proxy's count unchanged).
//    Beside it, the same server's GET /healthz rate just before (its ceiling under the current load).
// 2. Paid calls, anvil --block-time 1: 8 clients (dev accounts 1-8, each paying with @x402/fetch as
//    `imo ask` does) run `paidCalls` distinct prompts, 8 at a time; against `imo infer` (one process per
//    prompt, as a user runs it) on the same prompts in the same run. Target >= 0.8 x. Beside it (no
//    target) the model alone in this process on the same prompts: what payment costs. The settlements'
//    blocks are counted: pipelined settlements share blocks; one block per call in turn would cap the
//    rate at 1 call/s.
// 3. Latency, anvil --block-time 1: `latencyCalls` paid calls one at a time; median time of a paid call
//    minus the model's own time (median of in-process runs on a loaded model, the same prompts) is what
//    verify + settle (and the 402 round trip and the signature) add. No target: printed beside it.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ExactEvmScheme } from '@x402/evm/exact/client'
import { wrapFetchWithPaymentFromConfig } from '@x402/fetch'
import autocannon from 'autocannon'
import { type Address, createPublicClient, erc20Abi, type Hex, http, type PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { deployTestUsdc } from '../src/devnet/deployTestUsdc.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { printTable, type Row, runOnce } from './lib/measure.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const MODEL = join(ROOT, 'models', 'cppn')
const SECONDS = Number(process.argv[2] ?? 10)
const PAID = Number(process.argv[3] ?? 40)
const LATENCY = Number(process.argv[4] ?? 12)
const CLIENTS = 8
const PRICE = 10_000n // 0.01 test USDC, `--price 0.01`
const NETWORK = 'eip155:31337'
const IMAGE_BODY = (prompt: string) => JSON.stringify({ model: 'cppn', prompt, response_format: 'b64_json' })

interface RpcProxy {
  url: string
  /** JSON-RPC calls forwarded so far (a batch counts each call). */
  calls(): number
  close(): Promise<void>
}

/** A loopback HTTP proxy in front of anvil that counts the JSON-RPC calls going through it. */
async function startRpcProxy(target: string): Promise<RpcProxy> {
  let calls = 0
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8')
      try {
        const parsed = JSON.parse(body) as unknown
        calls += Array.isArray(parsed) ? parsed.length : 1
      } catch {
        calls++
      }
      try {
        const answer = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text())
      } catch {
        res.writeHead(502).end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    calls: () => calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

interface Chain {
  anvil: Anvil
  proxy: RpcProxy
  dir: string
  env: NodeJS.ProcessEnv
  client: PublicClient
  usdc: Address
  token: Address
}

/** A fresh anvil (behind the counting proxy), TestUsdc funding every dev account, the cppn token and collection. */
async function setUp(blockTime?: number): Promise<Chain> {
  const anvil = await startAnvil({ dieWithParent: true, ...(blockTime !== undefined ? { blockTime } : {}) })
  const proxy = await startRpcProxy(anvil.rpcUrl)
  const dir = mkdtempSync(join(tmpdir(), 'imo-bench-api-'))
  const env = { ...process.env, CI: 'true', NO_COLOR: '1', IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey }
  const usdc = await deployTestUsdc(
    anvil.rpcUrl,
    anvil.accounts.map((a) => a.address as Address),
  )
  const run = await runOnce(
    process.execPath,
    [join(ROOT, 'bin', 'imo.cjs'), 'deploy', '--model', MODEL, '--name', 'Bench', '--symbol', 'B', '--supply', '1000'],
    { cwd: dir, env: { ...env, IMO_RPC_URL: anvil.rpcUrl }, rss: false },
  )
  if (run.code !== 0) throw new Error(`imo deploy failed (${run.code}): ${run.stderr}`)
  const client = createPublicClient({ transport: http(anvil.rpcUrl) }) as PublicClient
  const deployment = JSON.parse(readFileSync(join(dir, '.imo', 'deployments', '31337', 'default.json'), 'utf8'))
  return { anvil, proxy, dir, env, client, usdc: usdc.address, token: deployment.imoToken.address as Address }
}

async function tearDown(chain: Chain): Promise<void> {
  await chain.proxy.close()
  await chain.anvil.stop()
  rmSync(chain.dir, { recursive: true, force: true })
}

interface Serve {
  child: ChildProcess
  url: string
  lines: Array<Record<string, unknown>>
  stop(): Promise<void>
}

/** `imo serve --http 0 --no-follow` (the built CLI) with its RPC through the counting proxy. */
async function startServe(chain: Chain): Promise<Serve> {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'imo.cjs'),
      'serve',
      '--json',
      '--no-follow',
      '--http',
      '0',
      '--price',
      '0.01',
      '--currency',
      chain.usdc,
      '--model',
      MODEL,
      '--rpc-url',
      chain.proxy.url,
    ],
    { cwd: chain.dir, env: chain.env, stdio: ['ignore', 'ignore', 'pipe'] },
  )
  const lines: Array<Record<string, unknown>> = []
  let buffer = ''
  child.stderr!.on('data', (chunk) => {
    buffer += chunk
    const parts = buffer.split('\n')
    buffer = parts.pop()!
    for (const line of parts) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>)
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const deadline = Date.now() + 60_000
  let url: string | undefined
  while (!url) {
    url = lines.find((l) => l.event === 'api' && typeof l.url === 'string')?.url as string | undefined
    if (child.exitCode !== null) throw new Error(`imo serve exited ${child.exitCode}: ${JSON.stringify(lines.slice(-3))}`)
    if (Date.now() > deadline) throw new Error(`imo serve did not start its API: ${JSON.stringify(lines.slice(-3))}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    child,
    url,
    lines,
    stop: async () => {
      child.kill('SIGTERM')
      await exited
    },
  }
}

/** One counter of serve's /metrics (the API's registry), by name and optional label text. */
async function metric(api: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${api}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || l.startsWith(`${name}${labels}{`))
  return Number(line?.split(' ').at(-1) ?? 0)
}

/** A fetch that pays with dev account `index` through @x402/fetch, as `imo ask` does. */
function payingFetch(chain: Chain, index: number): typeof fetch {
  const account = privateKeyToAccount(chain.anvil.accounts[index]!.privateKey as Hex)
  return wrapFetchWithPaymentFromConfig(fetch, {
    schemes: [{ network: NETWORK, client: new ExactEvmScheme(account) }],
    spendControls: { allowedAssets: [{ network: NETWORK, asset: chain.usdc, maxAmountPerPayment: PRICE.toString() }] },
  })
}

/** One paid call; its settlement transaction. */
async function paidCall(api: string, pay: typeof fetch, prompt: string): Promise<Hex> {
  const res = await pay(`${api}/v1/images/generations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: IMAGE_BODY(prompt),
  })
  const doc = (await res.json()) as { imo?: { settlement?: { txHash: Hex } }; error?: { message: string } }
  if (res.status !== 200 || !doc.imo?.settlement)
    throw new Error(`paid call "${prompt}": ${res.status} ${JSON.stringify(doc.error)}`)
  return doc.imo.settlement.txHash
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
const usdcOf = (chain: Chain, holder: Address) =>
  chain.client.readContract({ address: chain.usdc, abi: erc20Abi, functionName: 'balanceOf', args: [holder] })
const load = () => `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`
const prompts = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `bench ${tag} pattern ${i}`)

console.log(
  `api bench: ${SECONDS} s of unpaid calls, ${PAID} paid calls by ${CLIENTS} clients, ${LATENCY} paid calls one at a time; ${load()}`,
)
const rows: Row[] = []

// 1. Unpaid calls: 402s per second, no model run, no RPC call.
if (SECONDS > 0) {
  const chain = await setUp()
  const serve = await startServe(chain)
  try {
    const probe = await fetch(`${serve.url}/v1/images/generations`, { method: 'POST', body: IMAGE_BODY('probe') })
    if (probe.status !== 402 || !probe.headers.get('payment-required'))
      throw new Error(`an unpaid call answered ${probe.status}, not 402 with PAYMENT-REQUIRED`)
    // The same server's ceiling on this machine right now: GET /healthz (no body, no x402), same load generator.
    const health = await autocannon({ url: `${serve.url}/healthz`, connections: 50, duration: SECONDS })
    const healthRate = health.requests.total / health.duration
    const runsBefore = await metric(serve.url, 'imo_api_model_runs_total')
    const rpcBefore = chain.proxy.calls()
    const result = await autocannon({
      url: `${serve.url}/v1/images/generations`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: IMAGE_BODY('a red spiral'),
      connections: 50,
      duration: SECONDS,
    })
    const rpcCalls = chain.proxy.calls() - rpcBefore
    const runs = (await metric(serve.url, 'imo_api_model_runs_total')) - runsBefore
    const answered = result.requests.total
    const other = answered - (result.statusCodeStats['402']?.count ?? 0)
    const rate = answered / result.duration // autocannon's duration is in seconds
    console.log(
      `unpaid     ${answered} answers in ${result.duration.toFixed(1)} s by autocannon (50 connections): ${rate.toFixed(0)}/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; ${other} not 402, ${result.errors} errors; model runs ${runs}, RPC calls ${rpcCalls}`,
    )
    rows.push({
      figure: 'unpaid calls answered 402 (autocannon)',
      value: `${rate.toFixed(0)}/s`,
      baseline: `${healthRate.toFixed(0)}/s (/healthz)`,
      ratio: (rate / healthRate).toFixed(2),
      target: '>= 5000/s',
      pass: rate >= 5000 && other === 0 && result.errors === 0,
    })
    rows.push({
      figure: `model runs + RPC calls during ${answered} unpaid calls`,
      value: `${runs} + ${rpcCalls}`,
      baseline: '-',
      ratio: '-',
      target: '0 + 0',
      pass: runs === 0 && rpcCalls === 0,
    })
  } finally {
    await serve.stop()
    await tearDown(chain)
  }
}

// 2 and 3 on one chain with 1-second blocks.
if (PAID > 0 || LATENCY > 0) {
  const chain = await setUp(1)
  const serve = await startServe(chain)
  try {
    const pays = Array.from({ length: CLIENTS }, (_, i) => payingFetch(chain, i + 1))
    // Warm-up: one paid call (onnxruntime, the SDK's code paths, the journal), not counted.
    await paidCall(serve.url, pays[0]!, 'bench warm-up')
    if (PAID > 0) {
      const list = prompts(PAID, 'paid')
      const before = await usdcOf(chain, chain.token)
      const rpcBefore = chain.proxy.calls()
      let next = 0
      const settlements: Hex[] = []
      const started = performance.now()
      await Promise.all(
        pays.map(async (pay) => {
          for (let i = next++; i < list.length; i = next++) settlements.push(await paidCall(serve.url, pay, list[i]!))
        }),
      )
      const paidSeconds = (performance.now() - started) / 1000
      const rpcCalls = chain.proxy.calls() - rpcBefore
      const received = (await usdcOf(chain, chain.token)) - before
      if (received !== PRICE * BigInt(PAID)) throw new Error(`the token received ${received}, not ${PAID} x ${PRICE}`)
      const blocks = new Set(
        await Promise.all(settlements.map(async (hash) => (await chain.client.getTransactionReceipt({ hash })).blockNumber)),
      )
      // imo infer on the same prompts: one process each, as a user runs it.
      const out = mkdtempSync(join(tmpdir(), 'imo-bench-api-infer-'))
      const inferStarted = performance.now()
      for (const [i, prompt] of list.entries()) {
        const run = await runOnce(
          process.execPath,
          [join(ROOT, 'bin', 'imo.cjs'), 'infer', '--model', MODEL, '--prompt', prompt, '--out', join(out, String(i))],
          { cwd: chain.dir, env: chain.env, rss: false },
        )
        if (run.code !== 0) throw new Error(`imo infer failed (${run.code}): ${run.stderr}`)
      }
      const inferSeconds = (performance.now() - inferStarted) / 1000
      rmSync(out, { recursive: true, force: true })
      // The model alone, in this process on a loaded model (no start-up, no payment), same prompts.
      const { runInference } = await import('../src/inference/runInference.js')
      const { loadModel } = await import('../src/inference/loadModel.js')
      const model = await loadModel(MODEL)
      await runInference({ modelPath: model, prompt: 'warm-up' })
      const modelStarted = performance.now()
      for (const prompt of list) await runInference({ modelPath: model, prompt })
      const modelRate = PAID / ((performance.now() - modelStarted) / 1000)
      const paidRate = PAID / paidSeconds
      const inferRate = PAID / inferSeconds
      console.log(
        `paid       ${PAID} calls by ${CLIENTS} clients in ${paidSeconds.toFixed(1)} s (${paidRate.toFixed(2)}/s), settled in ${settlements.length} transactions in ${blocks.size} blocks (1-second blocks), ${(rpcCalls / PAID).toFixed(1)} RPC calls per call; the token received exactly ${PAID} x the price`,
      )
      console.log(`imo infer  ${PAID} prompts, one process each, in ${inferSeconds.toFixed(1)} s (${inferRate.toFixed(2)}/s)`)
      rows.push({
        figure: `paid calls/s, ${CLIENTS} clients, 1-s blocks`,
        value: paidRate.toFixed(2),
        baseline: `${inferRate.toFixed(2)} (imo infer)`,
        ratio: (paidRate / inferRate).toFixed(2),
        target: '>= 0.80',
        pass: paidRate / inferRate >= 0.8,
      })
      rows.push({
        figure: 'paid calls/s against the model alone in process',
        value: paidRate.toFixed(2),
        baseline: `${modelRate.toFixed(2)} (model)`,
        ratio: (paidRate / modelRate).toFixed(2),
        target: '-',
        pass: undefined,
      })
      rows.push({
        figure: 'paid calls per settlement block',
        value: (PAID / blocks.size).toFixed(1),
        baseline: '-',
        ratio: '-',
        target: '> 1 (pipelined)',
        pass: blocks.size < PAID,
      })
    }
    if (LATENCY > 0) {
      const list = prompts(LATENCY, 'latency')
      const { runInference } = await import('../src/inference/runInference.js')
      const { loadModel } = await import('../src/inference/loadModel.js')
      const model = await loadModel(MODEL)
      await runInference({ modelPath: model, prompt: 'warm-up' })
      const modelMs: number[] = []
      for (const prompt of list) {
        const t0 = performance.now()
        await runInference({ modelPath: model, prompt })
        modelMs.push(performance.now() - t0)
      }
      const callMs: number[] = []
      for (const prompt of list) {
        const t0 = performance.now()
        await paidCall(serve.url, pays[0]!, `${prompt} paid`)
        callMs.push(performance.now() - t0)
      }
      const added = median(callMs) - median(modelMs)
      console.log(
        `latency    ${LATENCY} paid calls one at a time: median ${median(callMs).toFixed(0)} ms (min ${Math.min(...callMs).toFixed(0)}, max ${Math.max(...callMs).toFixed(0)}); the model alone, in process: median ${median(modelMs).toFixed(1)} ms`,
      )
      rows.push({
        figure: 'added by verify + settle, median (1-s blocks)',
        value: `${added.toFixed(0)} ms`,
        baseline: `${median(modelMs).toFixed(1)} ms (model)`,
        ratio: (median(callMs) / median(modelMs)).toFixed(1),
        target: '-',
        pass: undefined,
      })
    }
  } finally {
    await serve.stop()
    await tearDown(chain)
  }
}

console.log('')
const ok = printTable(rows)
console.log(`${ok ? 'PASS' : 'FAIL'}: every target ${ok ? 'met' : 'not met'}; ${load()}`)
