// Benchmark of the inference queue (not a test; run `npm run build` first):
//   npx tsx bench/queue.ts [jobs=200] [serveRequests=200] [serveModels=lm480,cppn128x24]
// A real redis-server (throw-away, loopback) and `imo worker` processes on the bundled cppn model, run
// as the README recommends (`node --single-threaded-gc`; WORKER_GC=concurrent runs them without it).
// SERVE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof' passes Node flags to part 3's `imo serve` (a
// profile of the dispatcher; the bench's figures then include the profiler's cost).
// 1. Throughput of the queue alone: `jobs` requests with 2 workers vs 1 worker (each concurrency 1),
//    from the first enqueue to the last result collected, this process collecting. cppn's ~14 ms jobs
//    make it a measure of the queue's own cost; the 1.6x target is for serve, part 3.
// 2. Queue overhead: one request at a time with 1 worker, median time from enqueue to the collected,
//    checked result, against the median of runInference in-process on a loaded model (what `imo serve`
//    does without --queue). Target: overhead <= 15 ms.
import { type ChildProcess, spawn } from 'node:child_process'
import { availableParallelism, loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildCppnModel } from '../scripts/build-model.js'
import { hashModel } from '../src/model/hashModel.js'
import { type InferenceOutcome, type InferenceQueue, openInferenceQueue } from '../src/queue/openInferenceQueue.js'
import type { Bytes32 } from '../src/tensor/encodeTensors.js'
import { startRedis, type TestRedis } from '../test/helpers/startRedis.js'

const repo = fileURLToPath(new URL('..', import.meta.url))
const model = join(repo, 'models/cppn')
const jobs = Number(process.argv[2] ?? 200)
const recipient = `0x${'11'.repeat(20)}`
const modelHash = (await hashModel(model)).modelHash as Bytes32
/** Node flags of the spawned workers: V8's helper threads cost a worker about half as much CPU again per job (README). */
const workerFlags = process.env.WORKER_GC === 'concurrent' ? [] : ['--single-threaded-gc']

/** `count` `imo worker` processes on `modelPath`, resolved once each says it is ready. */
function startWorkers(url: string, count: number, modelPath = model) {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const child = spawn(
        process.execPath,
        [...workerFlags, join(repo, 'bin/imo.cjs'), 'worker', '--queue', url, '--model', modelPath, '--json'],
        {
          cwd: repo,
          env: { ...process.env, CI: 'true', NO_COLOR: '1' },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      )
      await new Promise<void>((resolve, reject) => {
        let text = ''
        child.stderr.on('data', (chunk) => {
          text += chunk
          if (text.includes('"event":"ready"')) resolve()
        })
        child.once('exit', (code) => reject(new Error(`worker exited ${code}: ${text}`)))
      })
      child.stderr.resume()
      return child
    }),
  )
}

/** Stops the processes (SIGTERM) and waits until they have exited, so none still writes to a folder about to be removed. */
async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map((child) => {
      if (child.exitCode !== null || child.signalCode !== null) return undefined
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGCONT') // a paused (SIGSTOP) process handles SIGTERM only once continued
      child.kill('SIGTERM')
      return exited
    }),
  )
}

/** Opens the queue on its own database with a handler that resolves a promise per request id. */
async function open(redis: TestRedis, db: number) {
  const waiting = new Map<string, { resolve: (outcome: InferenceOutcome) => void; reject: (error: Error) => void }>()
  const queue: InferenceQueue = await openInferenceQueue({ url: redis.url.replace(/\/0$/, `/${db}`), modelHash })
  queue.collect((outcome) => {
    if (outcome.kind === 'refused') throw new Error('a worker refused')
    const waiter = waiting.get(outcome.requestId)
    if (outcome.kind === 'failed') waiter?.reject(new Error(`request ${outcome.requestId} failed: ${outcome.reason}`))
    else waiter?.resolve(outcome)
  })
  const run = (id: number): Promise<InferenceOutcome> =>
    new Promise((resolve, reject) => {
      waiting.set(String(id), { resolve, reject })
      queue.enqueueInference({ requestId: id, prompt: `pattern ${id}`, recipient }).catch(reject)
    })
  return { queue, run }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

async function throughput(redis: TestRedis, db: number, workers: number): Promise<number> {
  const { queue, run } = await open(redis, db)
  const children = await startWorkers(redis.url.replace(/\/0$/, `/${db}`), workers)
  try {
    await Promise.all(Array.from({ length: 4 }, (_, i) => run(1_000_000 + i))) // warm-up
    const started = performance.now()
    await Promise.all(Array.from({ length: jobs }, (_, i) => run(i)))
    const ms = performance.now() - started
    console.log(
      `${workers} worker${workers > 1 ? 's' : ' '}  ${jobs} jobs in ${ms.toFixed(0)} ms = ${((jobs / ms) * 1000).toFixed(1)} jobs/s`,
    )
    return ms
  } finally {
    await stopAll(children)
    await queue.close()
  }
}

const load = () => `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`
console.log(
  `queue bench: ${jobs} jobs, workers run with [${workerFlags.join(' ')}], ${load()} (ratios need an otherwise idle machine)`,
)
const redis = await startRedis()
try {
  const one = await throughput(redis, 1, 1)
  const two = await throughput(redis, 2, 2)
  const ratio = one / two
  console.log(
    `throughput 2 workers / 1 worker = ${ratio.toFixed(2)}x (queue alone, ~14 ms jobs; the 1.6x target is for serve, below)`,
  )

  const samples = 40
  const { runInference } = await import('../src/inference/runInference.js')
  const { loadModel } = await import('../src/inference/loadModel.js')
  const loaded = await loadModel(model)
  const inProcess: number[] = []
  for (let i = 0; i < samples + 3; i++) {
    const started = performance.now()
    await runInference({ modelPath: loaded, prompt: `pattern ${i}` })
    if (i >= 3) inProcess.push(performance.now() - started)
  }
  const { queue, run } = await open(redis, 3)
  const children = await startWorkers(redis.url.replace(/\/0$/, '/3'), 1)
  const queued: number[] = []
  try {
    for (let i = 0; i < samples + 3; i++) {
      const started = performance.now()
      await run(i)
      if (i >= 3) queued.push(performance.now() - started)
    }
  } finally {
    await stopAll(children)
    await queue.close()
  }
  const overhead = median(queued) - median(inProcess)
  console.log(
    `latency    in-process median ${median(inProcess).toFixed(1)} ms, through the queue median ${median(queued).toFixed(1)} ms (${samples} each)`,
  )
  console.log(
    `overhead   ${overhead.toFixed(1)} ms per request (target <= 15 ms) -> ${overhead <= 15 ? 'OK' : 'OVER'}; ${load()}`,
  )
} finally {
  await redis.close()
}

// 3. Through `imo serve --queue` on a real anvil (automine): the whole dispatcher (chain follow, enqueue,
//    collect, re-check, fulfil pipelined through the journal), for each model of `serveModels`:
//    - `lmN`: a copy of models/tinylm set to generate exactly N tokens (stopIds emptied, greedy);
//      lm256 takes ~0.06 s a job, lm480 ~0.14 s;
//    - `cppnWxL`: the bundled CPPN rebuilt W wide with L extra layers (scripts/build-model.ts, the same
//      pipeline and output); cppn128x24 takes ~0.5 s a job, the order of a real model's (issue 15:
//      "a real model takes seconds per request").
//    Each request also costs 25-60 ms of CPU outside the workers (dispatcher 15-45, more the busier the
//    cores; anvil 6-10; Redis 1-2) on the same 2 cores, so the 2-vs-1 ratio grows with the job's size
//    toward 2: about 2W / (W' + F), W the job's CPU with one worker, W' with two (they slow each other
//    by 0-10 %), F that fixed cost. Every size is printed.
//    (cppn's own ~14 ms render is smaller than those fixed costs, so with it the ratio measures the
//    dispatcher, not the workers.)
//    a) throughput: serve and its workers first fulfil WARM_UP requests (their JIT compiles: a cold
//       dispatcher spent a quarter more CPU per request over its first 200), then serve is paused
//       (SIGSTOP), `serveJobs` requests are sent, and the time runs from its SIGCONT to the last of
//       them fulfilled, 2 workers vs 1 (fresh deployment each). The CPU each process used in that
//       window is printed per request (/proc/PID/stat), which shows where the 2 cores went.
//    b) latency: one request at a time on lm256, the inference time serve logs with each fulfilment
//       (local: the model run; queue: enqueue -> worker -> collected, checked result), median, 1 worker
//       vs in-process.
{
  const { startAnvil } = await import('../src/devnet/startAnvil.js')
  const { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { createPublicClient, createWalletClient, http, toHex } = await import('viem')
  const { privateKeyToAccount } = await import('viem/accounts')
  const { aigcCollectionAbi } = await import('../contracts-abi/index.js')
  const serveJobs = Number(process.argv[3] ?? 200)
  const serveModels = (process.argv[4] ?? 'lm480,cppn128x24').split(',')
  /** Requests fulfilled before the throughput is timed. */
  const WARM_UP = 50
  let anvil = await startAnvil()
  const scratch = mkdtempSync(join(tmpdir(), 'imo-bench-serve-queue-'))
  /** The model folder a `serveModels` entry names, made in the scratch folder. */
  const modelOf = (name: string) => {
    const folder = join(scratch, name)
    const tokens = /^lm(\d+)$/.exec(name)
    const cppn = /^cppn(\d+)x(\d+)$/.exec(name)
    if (tokens) {
      cpSync(join(repo, 'models', 'tinylm'), folder, { recursive: true })
      writeFileSync(join(folder, 'imo.pipeline.json'), `{"kind": "causal-lm", "stopIds": [], "maxNewTokens": ${tokens[1]}}\n`)
    } else if (cppn) {
      cpSync(join(repo, 'models', 'cppn'), folder, { recursive: true })
      writeFileSync(join(folder, 'model.onnx'), buildCppnModel({ hidden: Number(cppn[1]), extraLayers: Number(cppn[2]) }))
    } else throw new Error(`bench: unknown model ${name} (lmN or cppnWxL)`)
    return folder
  }
  let served = modelOf('lm256')
  let client = createPublicClient({ transport: http(anvil.rpcUrl) })
  const env = (extra: Record<string, string> = {}) => ({ ...process.env, CI: 'true', NO_COLOR: '1', ...extra })
  const imo = (args: string[], cwd: string) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [join(repo, 'bin/imo.cjs'), ...args, '--rpc-url', anvil.rpcUrl], {
        cwd,
        env: env({ IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey }),
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let out = ''
      child.stdout.on('data', (c) => (out += c))
      child.stderr.resume()
      child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`imo ${args[0]} exited ${code}`))))
    })
  const deploy = async () => {
    const dir = mkdtempSync(join(scratch, 'd-'))
    await imo(['deploy', '--model', served, '--name', 'B', '--symbol', 'B', '--supply', '1000', '--request-timeout', '3600'], dir)
    const file = JSON.parse(readFileSync(join(dir, '.imo/deployments/31337/default.json'), 'utf8'))
    return { dir, collection: file.aigcCollection.address as `0x${string}` }
  }
  const requesters = () =>
    [1, 2, 3].map((i) =>
      createWalletClient({
        account: privateKeyToAccount(anvil.accounts[i]!.privateKey as `0x${string}`),
        transport: http(anvil.rpcUrl),
      }),
    )
  let senders = requesters()
  /**
   * A new anvil for each measurement: one anvil through all runs grew slower as its history grew (its
   * CPU per request 7 ms in the first run, 23-28 ms in the fourth), which penalised the later runs.
   */
  const freshChain = async () => {
    await anvil.stop()
    anvil = await startAnvil()
    client = createPublicClient({ transport: http(anvil.rpcUrl) })
    senders = requesters()
  }
  const send = async (collection: `0x${string}`, prompts: string[]) => {
    const nonces = await Promise.all(senders.map((s) => client.getTransactionCount({ address: s.account.address })))
    const hashes = await Promise.all(
      prompts.map((prompt, i) =>
        senders[i % 3]!.writeContract({
          address: collection,
          abi: aigcCollectionAbi,
          functionName: 'request',
          args: [toHex(new TextEncoder().encode(prompt)), senders[0]!.account.address],
          value: 1_000_000_000_000_000n,
          nonce: nonces[i % 3]! + Math.floor(i / 3),
          gas: 500_000n,
          chain: null,
        } as never),
      ),
    )
    for (const hash of hashes) await client.waitForTransactionReceipt({ hash })
  }
  /** `imo serve` (with --queue when `url`), its JSON lines as they come. */
  const startServing = (dir: string, url?: string) => {
    const child = spawn(
      process.execPath,
      [
        ...(process.env.SERVE_FLAGS ? process.env.SERVE_FLAGS.split(' ') : []),
        join(repo, 'bin/imo.cjs'),
        'serve',
        '--json',
        '--rpc-url',
        anvil.rpcUrl,
        ...(url ? ['--queue', url] : []),
      ],
      { cwd: dir, env: env({ IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey }), stdio: ['ignore', 'ignore', 'pipe'] },
    )
    const lines: Array<Record<string, unknown> & { t: number }> = []
    let buffer = ''
    child.stderr.on('data', (chunk) => {
      buffer += chunk
      const parts = buffer.split('\n')
      buffer = parts.pop()!
      for (const part of parts) {
        if (!part.trim().startsWith('{')) continue // a Node warning, not serve's
        lines.push({ ...JSON.parse(part), t: performance.now() })
      }
    })
    return { child, lines }
  }
  const waitFor = async (test: () => boolean, what: string, timeoutMs = 600_000) => {
    for (const deadline = Date.now() + timeoutMs; !test(); ) {
      if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  /** CPU time (user + system, ms) a process has used, from /proc/PID/stat. */
  const cpuMs = (pid: number) => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) * (1000 / 100) // clock ticks: 100 per second on Linux
  }
  const serveThroughput = async (workers: number, db: number) => {
    await freshChain()
    const d = await deploy()
    await send(
      d.collection,
      Array.from({ length: WARM_UP }, (_, i) => `warming ${workers} ${i}`),
    )
    const url = redis.url.replace(/\/0$/, `/${db}`)
    const children = await startWorkers(url, workers, served)
    const serving = startServing(d.dir, url)
    const usage = () => ({
      serve: cpuMs(serving.child.pid!),
      anvil: cpuMs(anvil.pid),
      redis: cpuMs(redis.pid),
      workers: children.reduce((sum, child) => sum + cpuMs(child.pid!), 0),
    })
    try {
      const fulfilled = () => serving.lines.filter((l) => l.event === 'fulfilled')
      await waitFor(() => fulfilled().length >= WARM_UP, `${WARM_UP} warm-up fulfilments`)
      serving.child.kill('SIGSTOP')
      await send(
        d.collection,
        Array.from({ length: serveJobs }, (_, i) => `the ${workers}-worker lighthouse ${i}`),
      )
      const before = usage()
      const started = performance.now()
      serving.child.kill('SIGCONT')
      await waitFor(() => fulfilled().length >= WARM_UP + serveJobs, `${serveJobs} fulfilments`)
      const ms = fulfilled()[WARM_UP + serveJobs - 1]!.t - started
      const after = usage()
      const per = (key: keyof typeof before) => ((after[key] - before[key]) / serveJobs).toFixed(1)
      console.log(
        `serve --queue, ${workers} worker${workers > 1 ? 's' : ' '}  ${serveJobs} requests in ${ms.toFixed(0)} ms = ${((serveJobs / ms) * 1000).toFixed(1)} req/s; CPU ms per request: workers ${per('workers')}, serve ${per('serve')}, anvil ${per('anvil')}, redis ${per('redis')}`,
      )
      return ms
    } finally {
      await stopAll([serving.child, ...children])
    }
  }
  const serveLatency = async (url: string | undefined, samples: number) => {
    await freshChain()
    const d = await deploy()
    const children = url ? await startWorkers(url, 1, served) : []
    const serving = startServing(d.dir, url)
    try {
      await waitFor(() => serving.lines.some((l) => l.event === 'start' && l.fromBlock), 'serve to start')
      const values: number[] = []
      for (let i = 0; i < samples + 3; i++) {
        await send(d.collection, [`one at a time ${url ? 'queued' : 'local'} ${i}`])
        await waitFor(() => serving.lines.filter((l) => l.event === 'fulfilled').length > i, `fulfilment ${i}`, 60_000)
        const line = serving.lines.filter((l) => l.event === 'fulfilled')[i]!
        if (i >= 3) values.push(Number(line.inferenceMs))
      }
      return values
    } finally {
      await stopAll([serving.child, ...children])
    }
  }
  const redis = await startRedis()
  try {
    const latencyModel = served
    for (const [index, name] of serveModels.entries()) {
      served = modelOf(name)
      console.log(
        `serve --queue, ${name} (${name.startsWith('lm') ? 'tinylm generating that many tokens' : 'CPPN width x extra layers'}):`,
      )
      const one = await serveThroughput(1, 7 + 2 * index)
      const two = await serveThroughput(2, 8 + 2 * index)
      const ratio = one / two
      console.log(
        `serve --queue throughput on ${name}, 2 workers / 1 worker = ${ratio.toFixed(2)}x (target >= 1.6x) -> ${ratio >= 1.6 ? 'PASS' : 'FAIL'}`,
      )
    }
    served = latencyModel
    const local = await serveLatency(undefined, 20)
    const queued = await serveLatency(redis.url.replace(/\/0$/, '/6'), 20)
    const overhead = median(queued) - median(local)
    console.log(
      `serve latency  in-process median ${median(local).toFixed(1)} ms, --queue (1 worker) median ${median(queued).toFixed(1)} ms (20 each)`,
    )
    console.log(
      `serve --queue overhead ${overhead.toFixed(1)} ms per request (target <= 15 ms) -> ${overhead <= 15 ? 'PASS' : 'FAIL'}; ${load()}`,
    )
  } finally {
    await redis.close()
    await anvil.stop()
    rmSync(scratch, { recursive: true, force: true })
  }
}
