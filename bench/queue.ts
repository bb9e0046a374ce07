// Benchmark of the inference queue (not a test; run `npm run build` first): npx tsx bench/queue.ts [jobs=200]
// A real redis-server (throw-away, loopback) and `imo worker` processes on the bundled cppn model.
// 1. Throughput: `jobs` requests with 2 workers vs 1 worker (each concurrency 1), from the first
//    enqueue to the last result collected. Target: >= 1.6x on 2 cores (the ratio is printed as measured;
//    on a machine shared with other work it can be lower).
// 2. Queue overhead: one request at a time with 1 worker, median time from enqueue to the collected,
//    checked result, against the median of runInference in-process on a loaded model (what `imo serve`
//    does without --queue). Target: overhead <= 15 ms.
import { spawn } from 'node:child_process'
import { availableParallelism, loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { hashModel } from '../src/model/hashModel.js'
import { type InferenceOutcome, type InferenceQueue, openInferenceQueue } from '../src/queue/openInferenceQueue.js'
import type { Bytes32 } from '../src/tensor/encodeTensors.js'
import { startRedis, type TestRedis } from '../test/helpers/startRedis.js'

const repo = fileURLToPath(new URL('..', import.meta.url))
const model = join(repo, 'models/cppn')
const jobs = Number(process.argv[2] ?? 200)
const recipient = `0x${'11'.repeat(20)}`
const modelHash = (await hashModel(model)).modelHash as Bytes32

function startWorkers(url: string, count: number) {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const child = spawn(process.execPath, [join(repo, 'bin/imo.mjs'), 'worker', '--queue', url, '--model', model, '--json'], {
        cwd: repo,
        env: { ...process.env, CI: 'true', NO_COLOR: '1' },
        stdio: ['ignore', 'ignore', 'pipe'],
      })
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
    for (const child of children) child.kill('SIGTERM')
    await queue.close()
  }
}

const load = () => `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`
console.log(`queue bench: ${jobs} jobs, ${load()} (ratios need an otherwise idle machine)`)
const redis = await startRedis()
try {
  const one = await throughput(redis, 1, 1)
  const two = await throughput(redis, 2, 2)
  const ratio = one / two
  console.log(`throughput 2 workers / 1 worker = ${ratio.toFixed(2)}x (target >= 1.6x) -> ${ratio >= 1.6 ? 'OK' : 'UNDER'}`)

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
    for (const child of children) child.kill('SIGTERM')
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
