/**
 * `imo serve --queue` end to end: a real anvil, a real redis-server, spawned `imo worker` processes on
 * the bundled cppn model (real onnxruntime) and a spawned `imo serve --queue` dispatcher. Requests are
 * sent straight from test accounts; "exactly once" is counted on chain (Fulfilled events per request).
 */
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Queue } from 'bullmq'
import { aigcCollectionAbi } from '../contracts-abi/index.js'
import { QUEUE_NAME, QUEUE_PREFIX } from '../src/queue/inferenceJob.js'
import { type CliResult, runCli } from './helpers/runCli.js'
import {
  allFulfilledOnce,
  anvil,
  assertExactlyOnce,
  CPPN,
  client,
  type Deployed,
  database,
  deploy,
  imo,
  key,
  request,
  root,
  said,
  serve,
  signedBy,
  until,
  untilAllFulfilled,
  useServeQueueChain,
  worker,
} from './helpers/serveQueueChain.js'
import { killMidJob, type SpawnedImo, stopImo } from './helpers/spawnImo.js'
import { freePort, startRedis, type TestRedis } from './helpers/startRedis.js'

useServeQueueChain()

describe('imo serve --queue (real anvil, real Redis, spawned workers)', () => {
  let redis: TestRedis
  let cppn: Deployed
  before(async () => {
    redis = await startRedis({ persistence: true })
    cppn = await deploy(CPPN, 0)
  })
  after(() => redis.close())

  it('100 requests, 3 workers, one SIGKILLed mid-job: every request fulfilled exactly once on chain', async () => {
    const url = database(redis, 1)
    const workers = [worker(url), worker(url), worker(url)]
    const dispatcher = serve(cppn, url)
    const probe = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port, db: 1 }, prefix: QUEUE_PREFIX })
    try {
      await Promise.all([...workers.map((w) => w.ready), dispatcher.ready])
      // The hunt for a job on the victim starts while the requests go in: cppn jobs take milliseconds,
      // so waiting for some fulfilments first could leave no job to kill.
      const sent = request(
        cppn.collection,
        Array.from({ length: 100 }, (_, i) => `queued pattern ${i}`),
      )
      const victim = workers[0]!
      const killedJob = await killMidJob(victim, () => probe.getActive(), 60_000)
      const ids = await sent
      assert.ok(killedJob, 'the victim never held a job')
      await victim.exited
      await untilAllFulfilled(dispatcher, cppn.collection, ids, 240_000)
      await new Promise((resolve) => setTimeout(resolve, 2500)) // more sweeps and rounds: nothing sent twice
      await assertExactlyOnce(cppn.collection, ids)
      const killedId = killedJob!.replace('request-', '')
      assert.ok(
        dispatcher.lines.some((l) => l.event === 'fulfilled' && l.requestId === killedId),
        'the killed job was fulfilled by the dispatcher',
      )
      assert.equal(dispatcher.lines.filter((l) => l.event === 'fulfilled').length, 100)
      assert.equal(dispatcher.lines.filter((l) => l.event === 'failed').length, 0, said(dispatcher, 'failed').join('; '))
      // Honest workers: no result refused; at the default rate about one in ten re-executed, each matching
      // (none in 100 has a chance of 0.9^100, 3e-5).
      assert.equal(said(dispatcher, 'rejected').length, 0, said(dispatcher, 'rejected').join('; '))
      const audits = dispatcher.lines.filter((l) => l.event === 'audit')
      assert.ok(audits.length > 0, 'some results were audited')
      assert.ok(
        audits.every((l) => l.result === 'match'),
        audits.map((l) => l.message).join('; '),
      )
      // The dispatcher holds the key: it never reaches a worker (nor their logs).
      for (const w of workers) assert.ok(!JSON.stringify(w.lines).includes(key(0).slice(2)))
      assert.equal(await stopImo(dispatcher), 0)
      assert.equal(JSON.parse(dispatcher.stdout).fulfilled, 100)
    } finally {
      await Promise.all([...workers.map(stopImo), stopImo(dispatcher)])
      await probe.close()
    }
  })

  it('Redis stopped for 5 s mid-run, then the dispatcher SIGKILLed and restarted: nothing lost or fulfilled twice', async () => {
    const url = database(redis, 2)
    const workers = [worker(url), worker(url)]
    let dispatcher = serve(cppn, url)
    try {
      await Promise.all([...workers.map((w) => w.ready), dispatcher.ready])
      const ids = await request(
        cppn.collection,
        Array.from({ length: 40 }, (_, i) => `restart pattern ${i}`),
      )
      await until(
        '5 fulfilments',
        async () =>
          ids.filter((id) => dispatcher.lines.some((l) => l.requestId === String(id) && l.event === 'fulfilled')).length >= 5,
        120_000,
      )
      await redis.stop()
      await new Promise((resolve) => setTimeout(resolve, 5000))
      await redis.restart()
      await until(
        'the dispatcher to see Redis back',
        () => said(dispatcher, 'queue').some((m) => /Redis is back/.test(m)),
        60_000,
      )
      assert.ok(
        said(dispatcher, 'queue').some((m) => /lost Redis/.test(m)),
        said(dispatcher, 'queue').join('; '),
      )
      // The dispatcher dies mid-run; a new one resumes from the chain, its cursor and its journal.
      dispatcher.child.kill('SIGKILL')
      await dispatcher.exited
      dispatcher = serve(cppn, url)
      await dispatcher.ready
      await untilAllFulfilled(dispatcher, cppn.collection, ids, 240_000)
      await new Promise((resolve) => setTimeout(resolve, 2500))
      await assertExactlyOnce(cppn.collection, ids)
      for (const w of workers) {
        assert.equal(w.child.exitCode, null, 'the worker rode out the restart')
        assert.ok(said(w, 'connection').includes('worker: Redis is back'), said(w, 'connection').join('; '))
      }
      assert.equal(dispatcher.lines.filter((l) => l.event === 'failed').length, 0, said(dispatcher, 'failed').join('; '))
    } finally {
      await Promise.all([...workers.map(stopImo), stopImo(dispatcher)])
    }
  })

  it("a worker with another model refuses; serve reports it; the right worker's result is fulfilled", async () => {
    const url = database(redis, 3)
    const other = join(root, 'other-model')
    cpSync(CPPN, other, { recursive: true })
    writeFileSync(join(other, 'notes.txt'), 'makes the hash differ\n')
    const wrong = worker(url, ['--model', other])
    const dispatcher = serve(cppn, url)
    let right: SpawnedImo | undefined
    try {
      await Promise.all([wrong.ready, dispatcher.ready])
      const [id] = await request(cppn.collection, ['refused at first'])
      assert.equal(await wrong.exited, 2)
      const refused = await until('the refusal in serve', () => dispatcher.lines.find((l) => l.event === 'refused'), 30_000)
      assert.match(
        String(refused.message),
        new RegExp(
          `^worker .*:${wrong.pid} refuses work: its model hashes to 0x[0-9a-f]{64}, not the deployment's 0x[0-9a-f]{64} \\(job request-${id} put back\\)$`,
        ),
      )
      right = worker(url)
      await until('the fulfilment', () => allFulfilledOnce(cppn.collection, [id!]), 60_000)
    } finally {
      await Promise.all([stopImo(wrong), right ? stopImo(right) : undefined, stopImo(dispatcher)])
    }
  })

  it('a prompt minted directly while its job waits for a worker: the request is skipped (prompt-minted), not failed, and stays refundable', async () => {
    const url = database(redis, 4)
    const dispatcher = serve(cppn, url)
    let late: SpawnedImo | undefined
    try {
      await dispatcher.ready
      const prompt = 'minted while it waits'
      const [id] = await request(cppn.collection, [prompt])
      // Enqueued (no worker yet); meanwhile the operator mints the same prompt itself.
      await until(
        'the job in the queue',
        () => dispatcher.lines.find((l) => l.event === 'seen' && l.requestId === String(id)),
        30_000,
      )
      // From another folder (serve holds this one's journal): the same key, its own journal.
      const elsewhere = mkdtempSync(join(root, 'elsewhere-'))
      cpSync(join(cppn.dir, '.imo', 'deployments'), join(elsewhere, '.imo', 'deployments'), { recursive: true })
      const minted = await imo(elsewhere, ['infer-and-mint', prompt, '--json'], signedBy(cppn))
      assert.equal(minted.code, 0, minted.stderr)
      late = worker(url)
      const skipped = await until(
        'the skip',
        () => dispatcher.lines.find((l) => l.event === 'skipped' && l.requestId === String(id)),
        60_000,
      )
      assert.equal(skipped.reason, 'prompt-minted', JSON.stringify(dispatcher.lines))
      assert.ok(!dispatcher.lines.some((l) => l.event === 'failed'), JSON.stringify(dispatcher.lines))
      const { status } = (await client.readContract({
        address: cppn.collection,
        abi: aigcCollectionAbi,
        functionName: 'getRequest',
        args: [id!],
      })) as { status: number }
      assert.equal(status, 1, 'still open: its requester can refund it')
    } finally {
      await Promise.all([late ? stopImo(late) : undefined, stopImo(dispatcher)])
    }
  })
})

describe('imo serve --queue: the failed set', () => {
  it('a job failing every attempt is reported, listed by requests --open and status, retried and then fulfilled', async () => {
    const redis = await startRedis()
    // A copy of cppn whose pipeline fails while IMO_TEST_FAIL is set in the worker's environment.
    const flaky = join(root, 'flaky')
    cpSync(CPPN, flaky, { recursive: true })
    const pipeline = join(flaky, 'imo.pipeline.mjs')
    writeFileSync(
      pipeline,
      readFileSync(pipeline, 'utf8').replace(
        /export (async )?function encode\(([^)]*)\) \{/,
        (head) => `${head}\n  if (process.env.IMO_TEST_FAIL) throw new Error('the test asks this worker to fail')`,
      ),
    )
    assert.match(readFileSync(pipeline, 'utf8'), /IMO_TEST_FAIL/)
    const d = await deploy(flaky, 5)
    const failing = worker(redis.url, ['--model', flaky], { IMO_TEST_FAIL: '1' })
    const dispatcher = serve(d, redis.url)
    let healthy: SpawnedImo | undefined
    try {
      await Promise.all([failing.ready, dispatcher.ready])
      const [id] = await request(d.collection, ['fails until retried'])
      const failed = await until('the failure in serve', () => dispatcher.lines.find((l) => l.event === 'failed'), 60_000)
      assert.match(
        String(failed.message),
        new RegExp(
          `^request ${id}: inference failed: its job failed 1 time \\(.*the test asks this worker to fail\\); it waits in the failed set: imo requests retry ${id} --queue URL runs it again$`,
        ),
      )
      const listed = await imo(d.dir, ['requests', '--open', '--queue', redis.url, '--json'])
      assert.equal(listed.code, 0, listed.stderr)
      const list = JSON.parse(listed.stdout)
      assert.equal(list.queue.failed.length, 1)
      assert.equal(list.queue.failed[0].requestId, String(id))
      assert.equal(list.queue.failed[0].attemptsMade, 1) // a pipeline error is bad input: not retried by BullMQ
      const human = await imo(d.dir, ['requests', '--open', '--queue', redis.url])
      assert.match(human.stdout, new RegExp(`failed  request ${id} after 1 attempt: .*\\(imo requests retry ${id}\\)`))
      const status = await imo(d.dir, ['status', '--queue', redis.url, '--json'])
      assert.equal(status.code, 0, status.stderr)
      assert.equal(JSON.parse(status.stdout).queue.counts.failed, 1)
      const none = await imo(d.dir, ['requests', 'retry', '999', '--queue', redis.url])
      assert.equal(none.code, 2, none.stderr)
      assert.match(none.stderr, /^error: request 999 has no job in the failed set of redis:/)

      await stopImo(failing)
      healthy = worker(redis.url, ['--model', flaky])
      await healthy.ready
      const retried = await imo(d.dir, ['requests', 'retry', String(id), '--queue', redis.url, '--json'])
      assert.equal(retried.code, 0, retried.stderr)
      assert.equal(JSON.parse(retried.stdout).retried, 1)
      await until('the retried request fulfilled', () => allFulfilledOnce(d.collection, [id!]), 60_000)
      const after = JSON.parse((await imo(d.dir, ['status', '--queue', redis.url, '--json'])).stdout)
      assert.equal(after.queue.counts.failed, 0)
    } finally {
      await Promise.all([stopImo(failing), healthy ? stopImo(healthy) : undefined, stopImo(dispatcher)])
      await redis.close()
    }
  })
})

describe('imo serve --queue: bad queues give one-line errors', () => {
  let d: Deployed
  let lru: TestRedis
  before(async () => {
    d = await deploy(CPPN, 6)
    lru = await startRedis({ args: ['--maxmemory-policy', 'allkeys-lru'] })
  })
  after(() => lru.close())

  const oneLine = (result: CliResult) => {
    assert.ok(!/\bat .*\.(js|ts):\d+/.test(result.stderr), `no stack trace: ${result.stderr}`)
    return result.stderr.trim().split('\n')
  }

  it('an unreachable URL (exit 6), a non-Redis server (exit 6), Redis without noeviction (exit 2), not a URL or a bad --audit-rate (exit 2)', async () => {
    const port = await freePort()
    const unreachable = await imo(d.dir, ['serve', '--queue', `redis://127.0.0.1:${port}/0`], signedBy(d))
    assert.equal(unreachable.code, 6, unreachable.stderr)
    assert.deepEqual(oneLine(unreachable), [`error: cannot reach Redis at redis://127.0.0.1:${port}/0: connection refused`])

    // anvil's port: an HTTP server, not Redis.
    const notRedis = await imo(d.dir, ['serve', '--queue', `redis://127.0.0.1:${anvil.port}/0`], signedBy(d))
    assert.equal(notRedis.code, 6, notRedis.stderr)
    assert.equal(oneLine(notRedis).length, 1)
    assert.match(
      notRedis.stderr,
      /^error: (redis:\/\/127\.0\.0\.1:\d+\/0 is not a Redis server|cannot reach Redis at .*: the connection was closed)/,
    )

    const evicting = await imo(d.dir, ['serve', '--queue', lru.url], signedBy(d))
    assert.equal(evicting.code, 2, evicting.stderr)
    assert.equal(
      oneLine(evicting)[0],
      `error: ${lru.url} runs with maxmemory-policy allkeys-lru; the queue needs maxmemory-policy noeviction (else Redis may evict jobs)`,
    )

    for (const rate of ['2', '-0.1', 'ten percent', '']) {
      const badRate = await imo(d.dir, ['serve', '--queue', lru.url, '--audit-rate', rate], signedBy(d))
      assert.equal(badRate.code, 2, badRate.stderr)
      assert.deepEqual(oneLine(badRate), [
        `error: --audit-rate must be a number from 0 to 1 (the share of worker results serve re-runs), got ${JSON.stringify(rate)}`,
      ])
    }

    const notUrl = await imo(d.dir, ['serve', '--queue', 'localhost:6379'], signedBy(d))
    assert.equal(notUrl.code, 2, notUrl.stderr)
    assert.match(oneLine(notUrl)[0]!, /^error: --queue "localhost:6379" is not a Redis URL/)

    for (const args of [['requests', 'retry'], ['requests', '--open'], ['status']]) {
      const result = await imo(d.dir, [...args, '--queue', `redis://127.0.0.1:${port}/0`], signedBy(d))
      assert.equal(result.code, 6, `${args.join(' ')}: ${result.stderr}`)
      assert.deepEqual(oneLine(result), [`error: cannot reach Redis at redis://127.0.0.1:${port}/0: connection refused`])
    }
  })
})

describe('imo serve --queue: operating it', () => {
  /** A deployment whose model copy runs its pipeline's encode slowly or blocks it, as the worker's environment says. */
  async function deployModelCopy(name: string, signer: number): Promise<{ model: string; deployed: Deployed }> {
    const model = join(root, name)
    cpSync(CPPN, model, { recursive: true })
    const pipeline = join(model, 'imo.pipeline.mjs')
    writeFileSync(
      pipeline,
      readFileSync(pipeline, 'utf8').replace(
        /export (async )?function encode\(([^)]*)\) \{/,
        (head) =>
          `${head}\n  if (process.env.IMO_TEST_BLOCK) { const end = Date.now() + Number(process.env.IMO_TEST_BLOCK); while (Date.now() < end) {} }`,
      ),
    )
    return { model, deployed: await deploy(model, signer) }
  }

  it('two dispatchers from different folders on one collection: the second is refused (a lease); from the same folder it takes over', async () => {
    const redis = await startRedis()
    const d = await deploy(CPPN, 7)
    const first = serve(d, redis.url)
    try {
      await first.ready
      const elsewhere = mkdtempSync(join(root, 'second-dispatcher-'))
      cpSync(join(d.dir, '.imo', 'deployments'), join(elsewhere, '.imo', 'deployments'), { recursive: true })
      const second = await imo(elsewhere, ['serve', '--queue', redis.url, '--until-idle'], signedBy(d))
      assert.equal(second.code, 2, second.stderr)
      assert.match(
        second.stderr.split('\n')[0]!,
        new RegExp(
          `^error: another dispatcher serves the collection ${d.collection} through this Redis: pid ${first.pid} on .*, in ${d.dir}/\\.imo, since .*; a second one would infer every request twice and pay for fulfilments that revert$`,
        ),
      )
      // SIGKILLed, it cannot release its lease: a restart from its own folder takes it over at once.
      first.child.kill('SIGKILL')
      await first.exited
      const restarted = await imo(d.dir, ['serve', '--queue', redis.url, '--until-idle'], signedBy(d))
      assert.equal(restarted.code, 0, restarted.stderr)
      // Stopped cleanly, it releases it: the other folder may serve now.
      const now = await imo(elsewhere, ['serve', '--queue', redis.url, '--until-idle'], signedBy(d))
      assert.equal(now.code, 0, now.stderr)
    } finally {
      await stopImo(first)
      await redis.close()
    }
  })

  it('Redis restarted empty: the jobs serve waits for are added again; /metrics (promtool-clean) flags requests near expiry and the queue; /healthz wants a worker', async () => {
    const redis = await startRedis() // no persistence: a restart loses every job
    const d = await deploy(CPPN, 8)
    // A short request timeout: every open request is within the 300 s warning of its expiry.
    assert.equal((await imo(d.dir, ['requests', 'set-timeout', '240'], signedBy(d))).code, 0)
    const dispatcher = serve(d, redis.url, ['--metrics-port', '0'])
    const probe = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port }, prefix: QUEUE_PREFIX })
    let late: SpawnedImo | undefined
    try {
      await dispatcher.ready
      const port = Number(dispatcher.lines.find((l) => l.metricsPort !== undefined)?.metricsPort)
      const ids = await request(
        d.collection,
        Array.from({ length: 4 }, (_, i) => `lost with Redis ${i}`),
      )
      await until('4 jobs waiting', async () => (await probe.getJobCounts('waiting')).waiting === 4, 30_000)
      const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
      await until(
        'the queue in /metrics',
        async () => /^imo_serve_queue_jobs\{state="waiting"\} 4$/m.test(await metrics()),
        20_000,
      )
      const text = await metrics()
      assert.match(text, /^imo_serve_requests_expiring_soon 4$/m)
      assert.match(text, /^imo_serve_open_requests\{stage="infer"\} 4$/m)
      assert.match(text, /^imo_serve_queue_workers 0$/m)
      assert.match(text, /^imo_serve_redis_errors_total 0$/m)
      const { execFileSync } = await import('node:child_process')
      execFileSync('/usr/bin/promtool', ['check', 'metrics'], { input: text })
      const health = await fetch(`http://127.0.0.1:${port}/healthz`)
      assert.equal(health.status, 503)
      assert.equal(await health.text(), 'queue: no worker is connected\n')
      // Redis goes away and comes back empty.
      await redis.stop()
      await redis.restart()
      await until('the jobs added again', async () => (await probe.getJobCounts('waiting')).waiting === 4, 30_000).catch(() => {
        throw new Error(`the jobs were not added again: ${said(dispatcher, 'queue').join(' | ')}`)
      })
      assert.ok(
        said(dispatcher, 'queue').includes('Redis lost 4 jobs serve waits for: added again'),
        said(dispatcher, 'queue').join(' | '),
      )
      late = worker(redis.url)
      await untilAllFulfilled(dispatcher, d.collection, ids, 60_000)
      await until(
        'the lost connection counted',
        async () => /^imo_serve_redis_errors_total [1-9]\d*$/m.test(await metrics()),
        20_000,
      )
      await until('healthy with a worker', async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200, 20_000)
    } finally {
      await Promise.all([late ? stopImo(late) : undefined, stopImo(dispatcher)])
      await probe.close()
      await redis.close()
    }
  })

  it('a hand-written job for another model fails on its own: the honest worker keeps working', async () => {
    const redis = await startRedis()
    const d = await deploy(CPPN, 9)
    const dispatcher = serve(d, redis.url)
    const probe = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port }, prefix: QUEUE_PREFIX })
    let honest: SpawnedImo | undefined
    try {
      await dispatcher.ready
      await probe.add(
        'infer',
        {
          requestId: '999',
          prompt: 'foreign',
          recipient: anvil.accounts[4]!.address,
          modelHash: `0x${'11'.repeat(32)}`,
          aigcDataMode: 'digest',
          enqueuedAt: Date.now(),
        },
        { jobId: 'request-999' },
      )
      honest = worker(redis.url)
      await honest.ready
      const failed = await until(
        'the foreign job failed',
        async () => (await probe.getFailed()).find((job) => job.id === 'request-999'),
        30_000,
      )
      assert.match(
        failed.failedReason,
        /asks for model 0x1{64}, but the dispatcher of this queue serves 0x[0-9a-f]{64}: the job is refused, not the worker/,
      )
      const [id] = await request(d.collection, ['after a foreign job'])
      await untilAllFulfilled(dispatcher, d.collection, [id!], 60_000)
      assert.equal(honest.child.exitCode, null, 'the honest worker is still running')
    } finally {
      await Promise.all([honest ? stopImo(honest) : undefined, stopImo(dispatcher)])
      await probe.close()
      await redis.close()
    }
  })

  it('a job that stalls every time uses its three attempts, says so, and serve --until-idle does not exit 0 with it open', async () => {
    const redis = await startRedis()
    const { model, deployed } = await deployModelCopy('blocking', 6)
    // Each run blocks the worker's event loop 2.5 s, longer than its 1 s lock: it stalls every time.
    const blocking = worker(redis.url, ['--model', model, '--lock-ms', '1000'], { IMO_TEST_BLOCK: '2500' })
    try {
      await blocking.ready
      const [id] = await request(deployed.collection, ['stalls every time'])
      const result = await runCli(['serve', '--queue', redis.url, '--until-idle', '--json', '--rpc-url', anvil.rpcUrl], {
        cwd: deployed.dir,
        env: { IMO_PRIVATE_KEY: key(deployed.signer) },
        timeoutMs: 150_000,
      })
      assert.equal(result.code, 5, result.stderr)
      assert.match(
        result.stderr,
        new RegExp(
          `"message":"request ${id}: inference failed: its job failed 3 times \\(started 3 times without finishing: its worker stalled each time`,
        ),
      )
      assert.match(
        result.stderr,
        new RegExp(
          `error: stopped with 1 request open \\(${id}\\): its job failed every attempt and waits in the queue's failed set`,
        ),
      )
      assert.deepEqual(JSON.parse(result.stdout).result.parked, [String(id)])
      assert.equal(blocking.child.exitCode, null, 'the worker lives on')
    } finally {
      await stopImo(blocking)
      await redis.close()
    }
  })
})
