/**
 * The Redis password never reaches any output (issue 21 item 7): malformed and valid `--queue` URLs
 * through worker, serve, requests, status and requests retry, in text, --json and --verbose; the
 * warning for a password typed on the command line; `--queue-password-file` against a real Redis
 * with a password.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { mapConcurrent } from '../src/util/mapConcurrent.js'
import { type CliResult, repoRoot, runCli } from './helpers/runCli.js'
import { REDIS_SERVER, startRedis } from './helpers/startRedis.js'

const LONG = 'Sup3rS3cretPw'
const SHORT = 'Zq9' // too short for the redaction list: only hiding it in every message keeps it out
const DEAD_RPC = 'http://127.0.0.1:9'
const CPPN = join(repoRoot, 'models', 'cppn')
const dir = mkdtempSync(join(tmpdir(), 'imo-queue-url-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** Broken forms (port 99999, no host, `redis//`, a broken IPv6 bracket, a bad database) and valid ones nothing answers. */
const FORMS = (pw: string) => [
  `redis://:${pw}@10.0.0.5:99999/0`,
  `redis://:${pw}@/0`,
  `redis//:${pw}@127.0.0.1:1/0`,
  `redis://:${pw}@[::1:6379/0`,
  `redis://:${pw}@127.0.0.1:1/db`,
  `http://:${pw}@127.0.0.1:1/0`,
  `redis://${pw}@127.0.0.1:1/0`,
  `redis://user:${pw}@127.0.0.1:1/0`,
]

const COMMANDS: Array<(queue: string) => string[]> = [
  (queue) => ['worker', '--queue', queue, '--model', CPPN],
  (queue) => ['serve', '--queue', queue, '--rpc-url', DEAD_RPC],
  (queue) => ['requests', '--open', '--queue', queue, '--rpc-url', DEAD_RPC],
  (queue) => ['status', '--queue', queue, '--rpc-url', DEAD_RPC],
  (queue) => ['requests', 'retry', '--queue', queue],
]

const leaked = (result: CliResult, password: string) => `${result.stdout}\n${result.stderr}`.includes(password)

describe('--queue URLs: the password is never printed', () => {
  it('worker, serve, requests, status, retry; text, --json, --verbose; flag and IMO_QUEUE', async () => {
    const runs: Array<{ args: string[]; env: Record<string, string>; password: string }> = []
    // Each form once, with the long and the short password in turn.
    for (const [index, password] of FORMS('').map((_, i) => [i, i % 2 === 0 ? LONG : SHORT] as const))
      for (const command of COMMANDS)
        for (const mode of [[], ['--json'], ['--verbose']])
          runs.push({ args: [...command(FORMS(password)[index]!), ...mode], env: {}, password })
    // The same through the environment, for each command once.
    for (const command of COMMANDS) {
      const [name, ...rest] = command('X')
      const args = [name!, ...rest.filter((arg, i, all) => arg !== '--queue' && all[i - 1] !== '--queue')]
      runs.push({ args: [...args, '--verbose'], env: { IMO_QUEUE: FORMS(SHORT)[0]! }, password: SHORT })
    }
    const results = await mapConcurrent(runs, 3, async (run) => ({
      run,
      result: await runCli(run.args, { cwd: dir, env: run.env, timeoutMs: 60_000 }),
    }))
    for (const { run, result } of results) {
      assert.notEqual(result.code, 0, run.args.join(' '))
      assert.notEqual(result.code, null, `${run.args.join(' ')} did not end`)
      assert.ok(!leaked(result, run.password), `${run.args.join(' ')}\n${result.stdout}\n${result.stderr}`)
      assert.doesNotMatch(result.stderr, /internal error/, run.args.join(' '))
    }
  })

  it('warns about a password typed on the command line, not one from IMO_QUEUE', async () => {
    const typed = await runCli(['requests', 'retry', '--queue', `redis://:${LONG}@127.0.0.1:1/0`], { cwd: dir })
    assert.match(
      typed.stderr,
      /warning: a Redis password on the command line is visible to other users .*prefer IMO_QUEUE or --queue-password-file/,
    )
    const fromEnv = await runCli(['requests', 'retry'], { cwd: dir, env: { IMO_QUEUE: `redis://:${LONG}@127.0.0.1:1/0` } })
    assert.equal(fromEnv.code, 6, fromEnv.stderr)
    assert.doesNotMatch(fromEnv.stderr, /warning/)
  })

  it('--queue-password-file logs in to a Redis with a password; a wrong one is refused without quoting it', {
    skip: REDIS_SERVER ? false : 'redis-server not installed',
  }, async () => {
    const redis = await startRedis()
    try {
      const admin = new Redis(redis.url)
      await admin.config('SET', 'requirepass', LONG)
      admin.disconnect()
      const file = join(dir, 'redis-password')
      writeFileSync(file, `${LONG}\n`)
      const ok = await runCli(['requests', 'retry', '--json', '--queue', redis.url, '--queue-password-file', file], { cwd: dir })
      assert.equal(ok.code, 0, ok.stderr)
      assert.equal(JSON.parse(ok.stdout).retried, 0)
      assert.ok(!leaked(ok, LONG))
      writeFileSync(file, 'Wr0ngPassw0rd\n')
      const wrong = await runCli(['requests', 'retry', '--verbose', '--queue', redis.url, '--queue-password-file', file], {
        cwd: dir,
      })
      assert.equal(wrong.code, 2, wrong.stderr)
      assert.match(wrong.stderr, /refused the credentials/)
      assert.ok(!leaked(wrong, 'Wr0ngPassw0rd'), wrong.stderr)
    } finally {
      await redis.close()
    }
  })
})
