/**
 * The inference queue end to end on a real redis-server and real onnxruntime: `imo worker` processes
 * (spawned, so one can be SIGKILLed) run the bundled cppn model, the dispatcher API collects.
 * Exactly once means: the dispatcher's collect handler sees each request id once, and all of them.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Queue, QueueEvents } from 'bullmq'
import { hashModel } from '../src/model/hashModel.js'
import { loadRedis, parseQueueUrl, redisOptions } from '../src/queue/connectRedis.js'
import { QUEUE_NAME, QUEUE_PREFIX } from '../src/queue/inferenceJob.js'
import { type InferenceOutcome, type InferenceQueue, openInferenceQueue } from '../src/queue/openInferenceQueue.js'
import { type Bytes32, sha256Hex } from '../src/tensor/encodeTensors.js'
import { promtool } from './helpers/promtool.js'
import { cleanEnv, imoBin, repoRoot } from './helpers/runCli.js'
import { killMidJob, type SpawnedImo, spawnImo, stopImo } from './helpers/spawnImo.js'
import { startRedis, type TestRedis } from './helpers/startRedis.js'

const CPPN = join(repoRoot, 'models', 'cppn')
const RECIPIENT = `0x${'11'.repeat(20)}`
let dir: string
let modelHash: Bytes32

/** Starts `imo worker --json` (under `node ...nodeFlags`) and resolves once it logged its ready line. */
const spawnWorker = (url: string, args: string[] = ['--model', CPPN], nodeFlags: string[] = []): SpawnedImo =>
  spawnImo(['worker', '--queue', url, ...args], { readyEvent: 'ready', nodeFlags })
const stopWorker = stopImo

/** Polls `fn` (every 200 ms) until it returns a value; fails after `timeoutMs`. */
async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** Collects outcomes, counting deliveries per request id. */
function collector(queue: InferenceQueue) {
  const seen = new Map<string, number>()
  const outcomes: InferenceOutcome[] = []
  let wake: () => void = () => {}
  queue.collect((outcome) => {
    outcomes.push(outcome)
    if (outcome.kind !== 'refused') seen.set(outcome.requestId, (seen.get(outcome.requestId) ?? 0) + 1)
    wake()
  })
  return {
    seen,
    outcomes,
    async until(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
      const deadline = Date.now() + timeoutMs
      while (!test()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${seen.size} collected)`)
        await new Promise<void>((resolve) => {
          wake = resolve
          setTimeout(resolve, 200)
        })
      }
    },
  }
}

/** Each test on its own Redis database, so one's leftovers cannot bend another's counts. */
const database = (redis: TestRedis, db: number) => redis.url.replace(/\/0$/, `/${db}`)

const assertExactlyOnce = (seen: Map<string, number>, count: number, from = 0) => {
  for (let id = from; id < from + count; id++)
    assert.equal(seen.get(String(id)), 1, `request ${id} collected ${seen.get(String(id)) ?? 0} times`)
  assert.equal(seen.size, count)
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'imo-queue-'))
  modelHash = (await hashModel(CPPN)).modelHash as Bytes32
})
after(() => rmSync(dir, { recursive: true, force: true }))

describe('inference queue (real Redis, spawned imo worker processes)', () => {
  let redis: TestRedis
  before(async () => {
    redis = await startRedis()
  })
  after(() => redis.close())

  it('says which garbage collector it runs; under the default one, a tip naming the script it runs', async () => {
    const url = database(redis, 9)
    const tuned = spawnWorker(url, ['--model', CPPN], ['--single-threaded-gc'])
    await tuned.ready
    assert.equal(tuned.lines.find((l) => l.event === 'ready')?.gc, 'single-threaded', JSON.stringify(tuned.lines))
    assert.equal(await stopWorker(tuned), 0)
    // Human output (no --json): the ready line and its tip, with this checkout's bin/imo.cjs.
    const child = spawn(process.execPath, [imoBin, 'worker', '--queue', url, '--model', CPPN], {
      cwd: repoRoot,
      env: cleanEnv(),
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let text = ''
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (chunk) => {
        text += chunk
        if (/uses about a third less CPU per job/.test(text)) resolve()
      })
      child.once('exit', (code) => reject(new Error(`worker exited ${code}: ${text}`)))
    })
    assert.match(text, /^ {2}tip: `node --single-threaded-gc bin\/imo\.cjs worker \.\.\.` uses about a third less CPU per job$/m)
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  })

  it('--lock-ms sets the lock a running job holds in Redis (a model run longer than the default 10 s lock needs it)', async () => {
    const url = database(redis, 10)
    // tinylm generating 400 tokens: a job long enough to catch its lock in Redis while it runs.
    const lm = join(dir, 'tinylm-lock')
    cpSync(join(repoRoot, 'models', 'tinylm'), lm, { recursive: true })
    writeFileSync(join(lm, 'imo.pipeline.json'), '{"kind": "causal-lm", "stopIds": [], "maxNewTokens": 400}\n')
    const queue = await openInferenceQueue({ url, modelHash: (await hashModel(lm)).modelHash as Bytes32 })
    const collected = collector(queue)
    const worker = spawnWorker(url, ['--model', lm, '--lock-ms', '60000'])
    const Redis = await loadRedis()
    const client = new Redis(redisOptions(parseQueueUrl(url)))
    try {
      await worker.ready
      assert.equal(worker.lines.find((l) => l.event === 'ready')?.lockMs, 60000, JSON.stringify(worker.lines))
      await queue.enqueueInference({ requestId: 1, prompt: 'The lighthouse', recipient: RECIPIENT })
      const lockKey = `${QUEUE_PREFIX}:${QUEUE_NAME}:request-1:lock`
      let ttl = -2
      while (ttl < 0 && collected.seen.size === 0) {
        ttl = await client.pttl(lockKey)
        if (ttl < 0) await new Promise((resolve) => setTimeout(resolve, 5))
      }
      // The default lock would show at most 10000 ms left; this one is set to a minute.
      assert.ok(ttl > 10_000 && ttl <= 60_000, `the job's lock had ${ttl} ms left`)
      await collected.until(() => collected.seen.size === 1, 30_000, 'the result')
      assert.equal(collected.outcomes[0]?.kind, 'completed')
    } finally {
      client.disconnect()
      assert.equal(await stopWorker(worker), 0)
      await queue.close()
    }
  })

  it('100 jobs on 3 workers, one SIGKILLed mid-job: the stalled job is re-run elsewhere, each result collected once', async () => {
    const workers = [spawnWorker(redis.url), spawnWorker(redis.url), spawnWorker(redis.url)]
    const queue = await openInferenceQueue({ url: redis.url, modelHash, sweepIntervalMs: 1000 })
    const probe = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port }, prefix: QUEUE_PREFIX })
    const events = new QueueEvents(QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port }, prefix: QUEUE_PREFIX })
    const stalled: string[] = []
    events.on('stalled', ({ jobId }) => stalled.push(jobId))
    try {
      await Promise.all(workers.map((w) => w.ready))
      await events.waitUntilReady()
      const collected = collector(queue)
      for (let id = 0; id < 100; id++) {
        const added = await queue.enqueueInference({ requestId: id, prompt: `pattern ${id}`, recipient: RECIPIENT })
        assert.equal(added.status, 'added')
      }
      // An event seen twice is one job (queued, running, or already collected: nothing is added).
      assert.notEqual((await queue.enqueueInference({ requestId: 5, prompt: 'pattern 5', recipient: RECIPIENT })).status, 'added')

      await collected.until(() => collected.seen.size >= 10, 60_000, '10 results')
      const victim = workers[0]!
      const killedJob = await killMidJob(victim, () => probe.getActive(), 20_000)
      assert.ok(killedJob, 'the victim never held a job')
      await victim.exited

      await collected.until(() => collected.seen.size >= 100, 120_000, 'all 100 results')
      await new Promise((resolve) => setTimeout(resolve, 1500)) // two more sweeps: nothing is handed over twice
      assertExactlyOnce(collected.seen, 100)
      assert.ok(stalled.includes(killedJob!), `the killed job ${killedJob} was not detected as stalled (${stalled.join(', ')})`)
      const rerun = collected.outcomes.find((o) => o.kind === 'completed' && o.jobId === killedJob)
      assert.ok(rerun?.kind === 'completed')
      assert.notEqual(rerun.received.worker.pid, victim.pid, 'the stalled job was completed by another worker')
      for (const outcome of collected.outcomes) {
        assert.equal(outcome.kind, 'completed')
        if (outcome.kind === 'completed') {
          assert.equal(outcome.received.record.modelHash, modelHash)
          assert.equal(outcome.received.record.prompt, `pattern ${outcome.requestId}`)
          assert.equal(outcome.received.record.outputHash, sha256Hex(outcome.received.outputEncoding))
          assert.equal(outcome.names.worker, outcome.received.worker.id)
          assert.equal(outcome.names.processedBy, outcome.received.worker.id)
        }
      }
      const counts = await queue.counts()
      assert.deepEqual(counts, { waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 })
      // A request collected before adds no job unless asked to.
      assert.equal(
        (await queue.enqueueInference({ requestId: 7, prompt: 'pattern 7', recipient: RECIPIENT })).status,
        'collected',
      )
    } finally {
      await Promise.all(workers.map(stopWorker))
      await Promise.allSettled([queue.close(), probe.close(), events.close()])
    }
    for (const worker of workers.slice(1)) {
      assert.equal(await worker.exited, 0, 'SIGTERM stops a worker cleanly')
      const summary = JSON.parse(worker.stdout) as { completed: number }
      assert.ok(summary.completed > 0)
      const jobLines = worker.lines.filter((line) => line.event === 'job')
      assert.equal(jobLines.length, summary.completed, 'one log line per job')
    }
  })

  it('a worker whose model hashes otherwise refuses the job, puts it back, exits 2; the dispatcher reports it', async () => {
    const url = database(redis, 1)
    const other = join(dir, 'other-model')
    cpSync(CPPN, other, { recursive: true })
    writeFileSync(join(other, 'notes.txt'), 'makes the hash differ\n')
    const otherHash = (await hashModel(other)).modelHash
    const queue = await openInferenceQueue({ url: url, modelHash, sweepIntervalMs: 500 })
    const wrong = spawnWorker(url, ['--model', other])
    let right: SpawnedImo | undefined
    try {
      await wrong.ready
      const collected = collector(queue)
      await queue.enqueueInference({ requestId: 1000, prompt: 'refused first', recipient: RECIPIENT })
      assert.equal(await wrong.exited, 2)
      const error = wrong.lines.find((line) => typeof line.text === 'string' && line.text.startsWith('error:'))
      assert.match(
        String(error?.text),
        new RegExp(`^error: refusing work: the model .* hashes to ${otherHash}, but job request-1000 asks for ${modelHash}$`),
      )
      await collected.until(() => collected.outcomes.some((o) => o.kind === 'refused'), 10_000, 'the refusal')
      const refusal = collected.outcomes.find((o) => o.kind === 'refused')
      assert.ok(refusal?.kind === 'refused')
      assert.equal(refusal.refusal.workerModelHash, otherHash)
      assert.equal(refusal.refusal.expectedModelHash, modelHash)
      assert.equal(refusal.refusal.jobId, 'request-1000')
      assert.equal(refusal.refusal.worker.pid, wrong.pid)
      assert.equal((await queue.listRefusals()).length, 1)
      assert.equal((await queue.counts()).waiting, 1, 'the refused job is back in the queue, untouched')

      // The right model picks it up.
      right = spawnWorker(url)
      await collected.until(() => collected.seen.get('1000') === 1, 60_000, 'the job on the right worker')
      const done = collected.outcomes.find((o) => o.kind === 'completed')
      assert.ok(done?.kind === 'completed' && done.attemptsMade === 1)

      // With --deployment, a worker refuses at start-up, before taking any job.
      const deployment = join(dir, 'deployment.json')
      writeFileSync(
        deployment,
        JSON.stringify({
          format: 'imo-deployment-v1',
          modelHash,
          imoToken: { address: RECIPIENT },
          aigcCollection: { address: RECIPIENT },
        }),
      )
      const early = spawnWorker(url, ['--model', other, '--deployment', deployment])
      assert.equal(await early.exited, 2)
      assert.ok(early.lines.some((line) => String(line.text).includes('but the deployment asks for')))
      await collected.until(
        () => collected.outcomes.filter((o) => o.kind === 'refused').length === 2,
        10_000,
        'the second refusal',
      )
    } finally {
      await Promise.all([stopWorker(wrong), right ? stopWorker(right) : undefined])
      await queue.close()
    }
  })

  it('a job failing on every attempt lands in the failed set: reported once, listed, retried on request', async () => {
    const url = database(redis, 2)
    // A model without a pipeline cannot take a prompt: the job fails without retries (bad input).
    const bare = join(dir, 'bare')
    mkdirSync(bare)
    cpSync(join(CPPN, 'model.onnx'), join(bare, 'model.onnx'))
    const bareHash = (await hashModel(bare)).modelHash as Bytes32
    const queue = await openInferenceQueue({ url: url, modelHash: bareHash, sweepIntervalMs: 500 })
    const worker = spawnWorker(url, ['--model', bare])
    try {
      await worker.ready
      const collected = collector(queue)
      await queue.enqueueInference({ requestId: 2000, prompt: 'no pipeline', recipient: RECIPIENT })
      await collected.until(() => collected.seen.has('2000'), 30_000, 'the failure')
      await new Promise((resolve) => setTimeout(resolve, 1200))
      assert.equal(collected.seen.get('2000'), 1, 'a failure is reported once')
      const failure = collected.outcomes.find((o) => o.kind === 'failed')
      assert.ok(failure?.kind === 'failed')
      assert.equal(failure.where, 'failed-set')
      assert.match(failure.reason, /has no pipeline for --prompt/)
      const failed = await queue.listFailed()
      assert.equal(failed.length, 1)
      assert.equal(failed[0]!.requestId, '2000')
      assert.equal(failed[0]!.prompt, 'no pipeline')
      assert.equal(await queue.retryFailed(2000), 1)
      await collected.until(() => collected.seen.get('2000') === 2, 30_000, 'the retried failure')
      assert.equal(await queue.retryFailed(), 1)
      assert.equal(await queue.retryFailed(123456), 0)
    } finally {
      await stopWorker(worker)
      await queue.close()
    }
  })
})

describe('inference queue: the dispatcher goes away and comes back', () => {
  it('results finished while no dispatcher listened are handed over once by the next one', async () => {
    const redis = await startRedis()
    const worker = spawnWorker(redis.url)
    try {
      await worker.ready
      const first = await openInferenceQueue({ url: redis.url, modelHash, sweepIntervalMs: 500 })
      // This dispatcher adds 20 jobs and stops before collecting any (as after a crash).
      for (let id = 0; id < 20; id++) await first.enqueueInference({ requestId: id, prompt: `away ${id}`, recipient: RECIPIENT })
      await first.close()
      const probe = await openInferenceQueue({ url: redis.url, modelHash })
      for (let wait = 0; (await probe.counts()).completed < 20 && wait < 600; wait++)
        await new Promise((resolve) => setTimeout(resolve, 100))
      assert.equal((await probe.counts()).completed, 20)
      // The event seen again while its result waits: still one job.
      assert.equal((await probe.enqueueInference({ requestId: 3, prompt: 'away 3', recipient: RECIPIENT })).status, 'exists')
      await probe.close()
      const second = await openInferenceQueue({ url: redis.url, modelHash, sweepIntervalMs: 500 })
      try {
        const collected = collector(second)
        await collected.until(() => collected.seen.size >= 20, 30_000, 'the 20 waiting results')
        await new Promise((resolve) => setTimeout(resolve, 1200))
        assertExactlyOnce(collected.seen, 20)
        assert.ok(collected.outcomes.every((o) => o.kind === 'completed' && o.received.record.prompt === `away ${o.requestId}`))
        assert.equal((await second.counts()).completed, 0, 'collected results are acknowledged (removed)')
      } finally {
        await second.close()
      }
    } finally {
      await stopWorker(worker)
      await redis.close()
    }
  })
})

describe('inference queue across a Redis restart (append-only file on)', () => {
  it('Redis down: SIGTERM stops a busy worker within seconds, and the dispatcher closes in seconds (it waited for a reconnection for ever)', async () => {
    const redis = await startRedis()
    const worker = spawnWorker(redis.url)
    const queue = await openInferenceQueue({ url: redis.url, modelHash, sweepIntervalMs: 1000 })
    try {
      await worker.ready
      // Busy when Redis goes: a job finishing then cannot be recorded, and waits for Redis.
      const collected = collector(queue)
      for (let id = 0; id < 200; id++) await queue.enqueueInference({ requestId: id, prompt: `busy ${id}`, recipient: RECIPIENT })
      await collected.until(() => collected.seen.size >= 5, 60_000, '5 results')
      await redis.stop()
      await new Promise((resolve) => setTimeout(resolve, 500))
      const started = Date.now()
      worker.child.kill('SIGTERM')
      const code = await Promise.race([
        worker.exited,
        new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 15_000)),
      ])
      assert.equal(code, 0, `the worker ${code === 'hung' ? 'was still running 15 s after SIGTERM' : `exited ${code}`}`)
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`)
      const closing = Date.now()
      await queue.close()
      assert.ok(Date.now() - closing < 5000, `the dispatcher's close took ${Date.now() - closing} ms`)
    } finally {
      worker.child.kill('SIGKILL')
      await queue.close().catch(() => {})
      await redis.close()
    }
  })

  it('imo worker --metrics-port: jobs by status and their seconds, promtool-clean; /healthz 503 while Redis is lost, 200 once it is back', async () => {
    const redis = await startRedis({ persistence: true })
    const worker = spawnWorker(redis.url, ['--model', CPPN, '--metrics-port', '0'])
    const queue = await openInferenceQueue({ url: redis.url, modelHash, sweepIntervalMs: 500 })
    try {
      await worker.ready
      const port = Number(worker.lines.find((line) => line.event === 'metrics')?.metricsPort)
      assert.ok(port > 0, JSON.stringify(worker.lines))
      const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
      const health = async () => {
        const answer = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) })
        return { status: answer.status, text: await answer.text() }
      }
      const collected = collector(queue)
      for (let id = 0; id < 3; id++)
        await queue.enqueueInference({ requestId: id, prompt: `counted ${id}`, recipient: RECIPIENT })
      await collected.until(() => collected.seen.size >= 3, 60_000, '3 results')
      const text = await scrape()
      assert.match(text, /^imo_worker_jobs_total\{status="completed"\} 3$/m)
      assert.match(text, /^imo_worker_jobs_total\{status="failed"\} 0$/m)
      assert.match(text, /^imo_worker_job_seconds_count 3$/m)
      assert.match(text, /^imo_worker_build_info\{version="[^"]+",node="v[0-9.]+"\} 1$/m)
      assert.equal(promtool(text), '')
      assert.deepEqual(await health(), { status: 200, text: 'ok\n' })
      await queue.close()
      await redis.stop()
      const down = await until('/healthz 503 with Redis gone', async () => {
        const answer = await health()
        return answer.status === 503 ? answer : undefined
      })
      assert.match(down.text, /^redis: connection lost \d+ s ago$/m)
      assert.match(await scrape(), /^imo_worker_redis_errors_total [1-9]/m)
      await redis.restart()
      await until('/healthz 200 with Redis back', async () => ((await health()).status === 200 ? true : undefined))
    } finally {
      await stopWorker(worker)
      await queue.close().catch(() => {})
      await redis.close()
    }
  })

  it('Redis stopped for 5 s mid-run: workers and dispatcher reconnect, no job lost or duplicated', async () => {
    const redis = await startRedis({ persistence: true })
    const workers = [spawnWorker(redis.url), spawnWorker(redis.url)]
    const queue = await openInferenceQueue({ url: redis.url, modelHash, sweepIntervalMs: 1000 })
    try {
      await Promise.all(workers.map((w) => w.ready))
      const collected = collector(queue)
      for (let id = 0; id < 60; id++)
        await queue.enqueueInference({ requestId: id, prompt: `restart ${id}`, recipient: RECIPIENT })
      await collected.until(() => collected.seen.size >= 10, 60_000, '10 results')
      await redis.stop()
      // Requests keep arriving while Redis is away: they wait in the client and go in on reconnect.
      const late = Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          queue.enqueueInference({ requestId: 60 + i, prompt: `restart ${60 + i}`, recipient: RECIPIENT }),
        ),
      )
      await new Promise((resolve) => setTimeout(resolve, 5000))
      await redis.restart()
      await late
      await collected.until(() => collected.seen.size >= 70, 120_000, 'all 70 results')
      await new Promise((resolve) => setTimeout(resolve, 2500))
      assertExactlyOnce(collected.seen, 70)
      for (const worker of workers) {
        assert.equal(worker.child.exitCode, null, 'the worker rode out the restart')
        const said = worker.lines.filter((line) => line.event === 'connection').map((line) => String(line.message))
        assert.ok(said.some((message) => /lost Redis/.test(message)) && said.includes('worker: Redis is back'), said.join('; '))
      }
    } finally {
      await Promise.all(workers.map(stopWorker))
      await queue.close()
      await redis.close()
    }
  })
})
