/**
 * `imo worker` refuses a queue it cannot use with one line and the documented exit code: a URL that
 * is not redis://, a port where nothing listens or something else than Redis answers (exit 6), a
 * Redis whose maxmemory-policy is not noeviction (exit 2, naming the setting), missing flags.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { openInferenceQueue } from '../src/queue/openInferenceQueue.js'
import { type CliResult, repoRoot, runCli } from './helpers/runCli.js'
import { freePort, startRedis, type TestRedis } from './helpers/startRedis.js'

const CPPN = join(repoRoot, 'models', 'cppn')
const oneLine = (result: CliResult) => {
  const lines = result.stderr.trim().split('\n')
  assert.ok(!/\bat .*\.(js|ts):\d+/.test(result.stderr), `no stack trace: ${result.stderr}`)
  return lines
}

describe('imo worker: bad queues', () => {
  let lru: TestRedis
  let http: Server
  let httpPort: number
  before(async () => {
    lru = await startRedis({ args: ['--maxmemory-policy', 'allkeys-lru'] })
    http = createServer((_request, response) => response.end('hello'))
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    httpPort = (http.address() as { port: number }).port
  })
  after(async () => {
    await lru.close()
    await new Promise((resolve) => http.close(resolve))
  })

  const cases: Array<[string, () => string[], number, RegExp]> = [
    [
      'an http:// URL',
      () => ['--queue', 'http://127.0.0.1:6379/0'],
      2,
      /^error: --queue "http:\/\/127\.0\.0\.1:6379\/0" is not a Redis URL: use redis:\/\/HOST:PORT\/DB/,
    ],
    ['not a URL', () => ['--queue', 'localhost:6379'], 2, /^error: --queue "localhost:6379" is not a Redis URL/],
    [
      'a database that is no number',
      () => ['--queue', 'redis://127.0.0.1:6379/jobs'],
      2,
      /^error: --queue database "jobs" is not a number/,
    ],
    ['no --queue', () => [], 2, /^error: missing queue URL: pass --queue or set IMO_QUEUE/],
    [
      'a bad --concurrency',
      () => ['--queue', 'redis://127.0.0.1:1/0', '--concurrency', '0'],
      2,
      /^error: --concurrency must be at least 1$/,
    ],
    [
      'a --lock-ms under a second',
      () => ['--queue', 'redis://127.0.0.1:1/0', '--lock-ms', '500'],
      2,
      /^error: --lock-ms must be at least 1000$/,
    ],
    ['a --lock-ms that is no number', () => ['--queue', 'redis://127.0.0.1:1/0', '--lock-ms', '10s'], 2, /^error: --lock-ms /],
  ]
  for (const [what, args, code, message] of cases)
    it(`refuses ${what} (exit ${code})`, async () => {
      const result = await runCli(['worker', '--model', CPPN, ...args()])
      assert.equal(result.code, code, result.stderr)
      assert.match(oneLine(result)[0]!, message)
    })

  it('asks for --model when there is no --deployment to take it from (exit 2)', async () => {
    const result = await runCli(['worker', '--queue', 'redis://127.0.0.1:1/0'])
    assert.equal(result.code, 2)
    assert.match(oneLine(result)[0]!, /^error: missing model path: pass --model/)
  })

  it('refuses a port where nothing listens (exit 6)', async () => {
    const port = await freePort()
    const result = await runCli(['worker', '--model', CPPN, '--queue', `redis://127.0.0.1:${port}/0`])
    assert.equal(result.code, 6, result.stderr)
    assert.deepEqual(oneLine(result), [`error: cannot reach Redis at redis://127.0.0.1:${port}/0: connection refused`])
  })

  it('refuses a server that is not Redis (exit 6)', async () => {
    const result = await runCli(['worker', '--model', CPPN, '--queue', `redis://127.0.0.1:${httpPort}/0`])
    assert.equal(result.code, 6, result.stderr)
    assert.equal(oneLine(result).length, 1)
    assert.match(
      result.stderr,
      /^error: (redis:\/\/127\.0\.0\.1:\d+\/0 is not a Redis server|cannot reach Redis at .*: the connection was closed \(is it a Redis server\?\))/,
    )
  })

  it('refuses a Redis without maxmemory-policy noeviction, naming the setting (exit 2), in --json too', async () => {
    const result = await runCli(['worker', '--model', CPPN, '--queue', lru.url, '--json'])
    assert.equal(result.code, 2, result.stderr)
    const lines = oneLine(result)
    assert.equal(
      lines[0],
      `error: ${lru.url} runs with maxmemory-policy allkeys-lru; the queue needs maxmemory-policy noeviction (else Redis may evict jobs)`,
    )
    assert.match(lines[1]!, /^hint: set `maxmemory-policy noeviction`/)
    assert.equal(JSON.parse(result.stdout).error.exitCode, 2)
  })

  it('the dispatcher side refuses the same way, and never shows a password', async () => {
    await assert.rejects(
      openInferenceQueue({ url: lru.url.replace('redis://', 'redis://:s3cret-pass@'), modelHash: `0x${'00'.repeat(32)}` }),
      (error: Error & { exitCode?: number }) => {
        assert.equal(error.exitCode, 2)
        assert.ok(!error.message.includes('s3cret'), error.message)
        assert.match(error.message, /redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0/)
        return true
      },
    )
  })
})
