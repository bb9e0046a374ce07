/**
 * `imo serve --queue` against a hostile worker: a real anvil, a real redis-server, and a real BullMQ
 * worker process (test/helpers/maliciousWorker.ts) that holds no key and forges its answers to make the
 * dispatcher block on a file, read another file, or sign what it did not compute.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { keccak256, parseAbiItem, toHex } from 'viem'
import { runInference } from '../src/inference/runInference.js'
import { repoRoot } from './helpers/runCli.js'
import {
  allFulfilledOnce,
  CPPN,
  client,
  type Deployed,
  deploy,
  imo,
  request,
  root,
  said,
  serve,
  signedBy,
  until,
  useServeQueueChain,
} from './helpers/serveQueueChain.js'
import { spawnImo, stopImo } from './helpers/spawnImo.js'
import { freePort, startRedis, type TestRedis } from './helpers/startRedis.js'

useServeQueueChain()

describe('imo serve --queue against a hostile worker (real anvil, real Redis, a real BullMQ worker that forges)', () => {
  const MALICIOUS = join(repoRoot, 'test', 'helpers', 'maliciousWorker.ts')
  let redis: TestRedis
  let d: Deployed
  let shared: string
  before(async () => {
    redis = await startRedis()
    d = await deploy(CPPN, 7)
    shared = join(root, 'forgery', 'artifacts')
    mkdirSync(shared, { recursive: true })
  })
  after(() => redis.close())

  const hostile = (mode: string) =>
    spawnImo([redis.url, CPPN, mode, shared], { script: MALICIOUS, nodeFlags: ['--import', 'tsx'], readyEvent: 'ready' })
  const aigcDataEvent = parseAbiItem(
    'event AigcData(uint256 indexed tokenId, bytes indexed prompt, bytes indexed aigcData, bytes proof)',
  )
  /** The token of `prompt` carries serve's own inference of it: keccak256 of the honest aigcData. */
  const assertHonestToken = async (prompt: string) => {
    const honest = await runInference({ modelPath: CPPN, prompt })
    const tokenId = BigInt(keccak256(toHex(new TextEncoder().encode(prompt))))
    const logs = await client.getLogs({ address: d.collection, event: aigcDataEvent, args: { tokenId }, fromBlock: 0n })
    assert.equal(logs.length, 1, `one AigcData event for "${prompt}"`)
    assert.equal(logs[0]!.topics[3], keccak256(honest.aigcData), `the token of "${prompt}" holds the honest artifact's digest`)
  }
  const metricsOf = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text()

  it('forged files, names, artifacts, hashes and settings: each refused with one line, never signed, the request served by serve itself; serve stays responsive; the workers are quarantined in requests, status and /metrics', async () => {
    const port = await freePort()
    const dispatcher = serve(d, redis.url, ['--audit-rate', '0', '--artifact-dir', shared, '--metrics-port', String(port)])
    const reasons: Record<string, RegExp> = {
      fifo: /the outputs file .*\.imt: it is a FIFO \(named pipe\), not a regular file$/,
      symlink: /the outputs file .*\.imt: it is a symlink, which imo does not follow here$/,
      sparse: /the outputs file .*\.imt is too large: 1800000000 bytes, more than the \d+ bytes imo reads for it$/,
      inline: /the worker result is \d{8} bytes, over the 262144 bytes serve reads$/,
      'redis-huge': /its outputs in Redis are over the 1048576-byte limit$/,
      'name-record': /it names the outputs file "record\.json"; outputs files are named [0-9a-f]{64}\.imt$/,
      dotdot: /it names the outputs file "\.\.\/x"; outputs files are named [0-9a-f]{64}\.imt$/,
      'artifact-name': /its record differs from serve's in "artifact\.file"$/,
      'shell-png':
        /its artifact \("image\/png", \d+ bytes, 0x[0-9a-f]{64}\) is not what the pipeline decodes from its outputs \("image\/png", \d+ bytes\)$/,
      'input-hash':
        /its inputHash 0x[0-9a-f]{64} is not the hash of the inputs the pipeline encodes from the prompt \(0x[0-9a-f]{64}\)$/,
      settings:
        /it was recorded with other settings than serve runs: intraOpNumThreads 16 \(serve: 1\), onnxruntimeVersion "0\.0\.1-evil" \(serve: "\d+\.\d+\.\d+"\)$/,
    }
    const names: string[] = []
    const ids: bigint[] = []
    try {
      await dispatcher.ready
      for (const [mode, reason] of Object.entries(reasons)) {
        const evil = hostile(mode)
        try {
          await evil.ready
          const prompt = `forged by ${mode}`
          const [id] = await request(d.collection, [prompt])
          const rejected = await until(
            `the refusal of ${mode}`,
            () => dispatcher.lines.find((l) => l.event === 'rejected' && l.requestId === String(id)),
            60_000,
          )
          const message = String(rejected.message)
          assert.ok(
            message.startsWith(`request ${id}: the result of worker evil-${mode}:${evil.pid} was refused, nothing signed: `),
            message,
          )
          assert.ok(message.endsWith('; serve runs the request itself'), message)
          assert.match(message.replace('; serve runs the request itself', ''), reason, `${mode}: ${message}`)
          assert.ok(!message.includes('\n'))
          // serve keeps serving: the health check answers at once, and the request is fulfilled with serve's own run.
          const health = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) })
          assert.equal(health.status, 200, `${mode}: /healthz`)
          await until(`${mode}: request ${id} fulfilled`, () => allFulfilledOnce(d.collection, [id!]), 60_000)
          await assertHonestToken(prompt)
          assert.ok(
            evil.lines.some((l) => l.event === 'job'),
            `${mode}: the hostile worker took the job`,
          )
          names.push(`evil-${mode}:${evil.pid}`)
          ids.push(id!)
        } finally {
          await stopImo(evil)
        }
      }
      assert.equal(said(dispatcher, 'failed').length, 0, said(dispatcher, 'failed').join('; '))
      // Quarantined, in the three places.
      for (const name of names)
        assert.ok(
          dispatcher.lines.some((l) => l.event === 'quarantined' && l.worker === name),
          `serve quarantined ${name}: ${said(dispatcher, 'quarantined').join('; ')}`,
        )
      const listed = await imo(d.dir, ['requests', '--queue', redis.url, '--json'], signedBy(d))
      assert.equal(listed.code, 0, listed.stderr)
      assert.deepEqual(
        JSON.parse(listed.stdout)
          .queue.quarantined.map((q: { worker: string }) => q.worker)
          .sort(),
        [...names].sort(),
      )
      const human = await imo(d.dir, ['requests', '--queue', redis.url], signedBy(d))
      assert.match(
        human.stdout,
        /quarantined worker evil-fifo:\d+ since \S+, request \d+: cannot read the outputs file .*: it is a FIFO/,
      )
      const status = await imo(d.dir, ['status', '--queue', redis.url, '--json'], signedBy(d))
      assert.equal(status.code, 0, status.stderr)
      assert.equal(JSON.parse(status.stdout).queue.quarantined.length, names.length)
      const metrics = await metricsOf(port)
      for (const name of names) assert.match(metrics, new RegExp(`^imo_serve_worker_quarantined\\{worker="${name}"\\} 1$`, 'm'))
      assert.match(metrics, new RegExp(`^imo_serve_worker_results_refused_total\\{reason="forged"\\} ${names.length}$`, 'm'))
      // serve's files are its own, one folder per request: the record serve built, the artifact it decoded.
      const folders = readdirSync(join(d.dir, 'out'))
      for (const [index, id] of ids.entries()) {
        const folder = folders.filter((name) => new RegExp(`^[0-9a-f]{12}-request-${id}$`).test(name))
        assert.equal(folder.length, 1, `one folder for request ${id}: ${folders.join(', ')}`)
        const record = JSON.parse(readFileSync(join(d.dir, 'out', folder[0]!, 'record.json'), 'utf8'))
        assert.equal(record.prompt, `forged by ${Object.keys(reasons)[index]}`)
        assert.equal(record.artifact.file, 'image.png')
        assert.equal(record.commitment, (await runInference({ modelPath: CPPN, prompt: record.prompt })).record.commitment)
        assert.ok(existsSync(join(d.dir, 'out', folder[0]!, 'mint.json')))
      }
      // SIGTERM: a clean stop (no read left hanging on the FIFO).
      const stopped = Date.now()
      assert.equal(await stopImo(dispatcher), 0)
      assert.ok(Date.now() - stopped < 10_000, 'serve stopped promptly')
      assert.equal(JSON.parse(dispatcher.stdout).fulfilled, names.length)
    } finally {
      await stopImo(dispatcher)
    }
  })

  it('outputs of another prompt, caught by the audit at rate 1: never signed, the worker quarantined and its later results refused', async () => {
    const port = await freePort()
    const dispatcher = serve(d, redis.url, ['--audit-rate', '1', '--metrics-port', String(port)])
    const evil = hostile('other-prompt')
    try {
      await Promise.all([dispatcher.ready, evil.ready])
      const [first] = await request(d.collection, ['a spiral, said the worker'])
      const audit = await until(
        'the audit',
        () => dispatcher.lines.find((l) => l.event === 'audit' && l.requestId === String(first)),
        60_000,
      )
      assert.equal(audit.result, 'mismatch')
      assert.match(
        String(audit.message),
        new RegExp(
          `^request ${first}: the result of worker evil-other-prompt:${evil.pid} does not match serve's re-execution \\(its outputHash 0x[0-9a-f]{64} is not the re-execution's 0x[0-9a-f]{64}; largest output difference [\\d.e-]+\\); serve signs its own run and re-executes every result until \\S+$`,
        ),
      )
      await until('the first request fulfilled', () => allFulfilledOnce(d.collection, [first!]), 60_000)
      await assertHonestToken('a spiral, said the worker')
      // From now on its results are refused without a look, and still served.
      const [second] = await request(d.collection, ['a second spiral'])
      const refused = await until(
        'the refusal of the quarantined worker',
        () => dispatcher.lines.find((l) => l.event === 'rejected' && l.requestId === String(second)),
        60_000,
      )
      assert.equal(refused.reason, 'quarantined')
      assert.match(
        String(refused.message),
        new RegExp(`worker evil-other-prompt:${evil.pid} is quarantined since \\S+; serve runs the request itself$`),
      )
      await until('the second request fulfilled', () => allFulfilledOnce(d.collection, [second!]), 60_000)
      await assertHonestToken('a second spiral')
      const metrics = await metricsOf(port)
      assert.match(metrics, /^imo_serve_audits_total\{result="mismatch"\} 1$/m)
      assert.match(metrics, /^imo_serve_audit_rate 1$/m)
      assert.match(metrics, new RegExp(`^imo_serve_worker_quarantined\\{worker="evil-other-prompt:${evil.pid}"\\} 1$`, 'm'))
      const status = JSON.parse((await imo(d.dir, ['status', '--queue', redis.url, '--json'], signedBy(d))).stdout)
      const entry = status.queue.quarantined.find((q: { worker: string }) => q.worker === `evil-other-prompt:${evil.pid}`)
      assert.match(entry.reason, /^serve re-executed it: its outputHash/)
      assert.equal(await stopImo(dispatcher), 0)
    } finally {
      await Promise.all([stopImo(evil), stopImo(dispatcher)])
    }
  })
})
