/**
 * `imo serve --queue` against a hostile worker that attacks the dispatcher's reads: a real anvil, a
 * real redis-server, and a real BullMQ worker process (test/helpers/maliciousWorker.ts) that holds no
 * key and names FIFOs, symlinks, huge files, huge values and serve's own file names, to freeze serve
 * or make it read and sign another file. (Forged contents and the audit: serve-queue-audit.test.ts.)
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { assertQuarantined, refusesEach, useHostileSetup } from './helpers/hostileWorker.js'
import { imo, serve, signedBy, useServeQueueChain } from './helpers/serveQueueChain.js'
import { stopImo } from './helpers/spawnImo.js'
import { freePort } from './helpers/startRedis.js'

useServeQueueChain()

describe('imo serve --queue against a hostile worker: files and values it names (real anvil, real Redis, a real BullMQ worker)', () => {
  const setup = useHostileSetup()

  it('a FIFO, a symlink, a sparse 1.8 GB file, 30 MB inline, 20 MB in Redis, record.json and ../x: each refused with one line, nothing blocks, nothing signed; serve answers /healthz and SIGTERM; the workers are quarantined in requests, status and /metrics', async () => {
    const metricsPort = await freePort()
    const dispatcher = serve(setup.d, setup.redis.url, [
      '--audit-rate',
      '0',
      '--artifact-dir',
      setup.shared,
      '--metrics-port',
      String(metricsPort),
    ])
    try {
      await dispatcher.ready
      const queue = { url: setup.redis.url, artifactDir: setup.shared, metricsPort }
      const { names } = await refusesEach(dispatcher, setup.d, queue, {
        fifo: /^cannot read the outputs file .*\.imt: it is a FIFO \(named pipe\), not a regular file$/,
        symlink: /^cannot read the outputs file .*\.imt: it is a symlink, which imo does not follow here$/,
        sparse: /^the outputs file .*\.imt is too large: 1800000000 bytes, more than the \d+ bytes imo reads for it$/,
        inline: /^the worker result is \d{8} bytes, over the 262144 bytes serve reads$/,
        'redis-huge': /^its outputs in Redis are over the 1048576-byte limit$/,
        'name-record': /^it names the outputs file "record\.json"; outputs files are named [0-9a-f]{64}\.imt$/,
        dotdot: /^it names the outputs file "\.\.\/x"; outputs files are named [0-9a-f]{64}\.imt$/,
      })
      await assertQuarantined(dispatcher, setup.d, queue, names)
      const human = await imo(setup.d.dir, ['requests', '--queue', setup.redis.url], signedBy(setup.d))
      assert.match(
        human.stdout,
        /quarantined worker evil-fifo:\d+ since \S+, request \d+: cannot read the outputs file .*: it is a FIFO/,
      )
      // SIGTERM: a clean stop (no read left hanging on the FIFO).
      const stopped = Date.now()
      assert.equal(await stopImo(dispatcher), 0)
      assert.ok(Date.now() - stopped < 10_000, 'serve stopped promptly')
      assert.equal(JSON.parse(dispatcher.stdout).fulfilled, names.length)
    } finally {
      await stopImo(dispatcher)
    }
  })
})
