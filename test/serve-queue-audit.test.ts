/**
 * `imo serve --queue` against a hostile worker that forges contents: a real anvil, a real
 * redis-server, and a real BullMQ worker process (test/helpers/maliciousWorker.ts) that holds no key
 * and returns records whose artifact, inputHash or runtime settings are forged (hashes made to fit),
 * or the outputs of another prompt, which only a re-execution (the audit) can tell.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  assertHonestToken,
  assertQuarantined,
  metricsOf,
  refusesEach,
  spawnHostile,
  useHostileSetup,
} from './helpers/hostileWorker.js'
import { allFulfilledOnce, imo, request, serve, signedBy, until, useServeQueueChain } from './helpers/serveQueueChain.js'
import { stopImo } from './helpers/spawnImo.js'
import { freePort } from './helpers/startRedis.js'

useServeQueueChain()

describe('imo serve --queue against a hostile worker: forged contents and the audit (real anvil, real Redis, a real BullMQ worker)', () => {
  const setup = useHostileSetup()

  it('an artifact named record.json, a shell script as image/png, a forged inputHash, 16 threads and onnxruntime 0.0.1-evil: each refused by re-derivation alone (--audit-rate 0), never signed, served by serve itself, the workers quarantined', async () => {
    const metricsPort = await freePort()
    const dispatcher = serve(setup.d, setup.redis.url, ['--audit-rate', '0', '--metrics-port', String(metricsPort)])
    try {
      await dispatcher.ready
      const queue = { url: setup.redis.url, artifactDir: setup.shared, metricsPort }
      const { names } = await refusesEach(dispatcher, setup.d, queue, {
        'artifact-name': /^its record differs from serve's in "artifact\.file"$/,
        'shell-png':
          /^its artifact \("image\/png", \d+ bytes, 0x[0-9a-f]{64}\) is not what the pipeline decodes from its outputs \("image\/png", \d+ bytes\)$/,
        'input-hash':
          /^its inputHash 0x[0-9a-f]{64} is not the hash of the inputs the pipeline encodes from the prompt \(0x[0-9a-f]{64}\)$/,
        settings:
          /^it was recorded with other settings than serve runs: intraOpNumThreads 16 \(serve: 1\), onnxruntimeVersion "0\.0\.1-evil" \(serve: "\d+\.\d+\.\d+"\)$/,
      })
      await assertQuarantined(dispatcher, setup.d, queue, names)
      assert.equal(await stopImo(dispatcher), 0)
    } finally {
      await stopImo(dispatcher)
    }
  })

  it('outputs of another prompt, caught by the audit at rate 1: never signed, the worker quarantined and its later results refused', async () => {
    const port = await freePort()
    const dispatcher = serve(setup.d, setup.redis.url, ['--audit-rate', '1', '--metrics-port', String(port)])
    const evil = spawnHostile(setup.redis.url, 'other-prompt', setup.shared)
    try {
      await Promise.all([dispatcher.ready, evil.ready])
      const [first] = await request(setup.d.collection, ['a spiral, said the worker'])
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
      await until('the first request fulfilled', () => allFulfilledOnce(setup.d.collection, [first!]), 60_000)
      await assertHonestToken(setup.d.collection, 'a spiral, said the worker')
      // From now on its results are refused without a look, and still served.
      const [second] = await request(setup.d.collection, ['a second spiral'])
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
      await until('the second request fulfilled', () => allFulfilledOnce(setup.d.collection, [second!]), 60_000)
      await assertHonestToken(setup.d.collection, 'a second spiral')
      const metrics = await metricsOf(port)
      assert.match(metrics, /^imo_serve_audits_total\{result="mismatch"\} 1$/m)
      assert.match(metrics, /^imo_serve_audit_rate 1$/m)
      assert.match(metrics, new RegExp(`^imo_serve_worker_quarantined\\{worker="evil-other-prompt:${evil.pid}"\\} 1$`, 'm'))
      const status = JSON.parse(
        (await imo(setup.d.dir, ['status', '--queue', setup.redis.url, '--json'], signedBy(setup.d))).stdout,
      )
      const entry = status.queue.quarantined.find((q: { worker: string }) => q.worker === `evil-other-prompt:${evil.pid}`)
      assert.match(entry.reason, /^serve re-executed it: its outputHash/)
      assert.equal(await stopImo(dispatcher), 0)
    } finally {
      await Promise.all([stopImo(evil), stopImo(dispatcher)])
    }
  })
})
