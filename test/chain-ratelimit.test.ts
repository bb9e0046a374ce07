/**
 * Rate limits and server errors are transient (issue 21 item 28): a hosted provider's HTTP 429 with
 * Retry-After, its JSON-RPC -32005 "limit exceeded" (also with HTTP 200), and HTTP 5xx are waited out
 * and the command goes on; one that never ends becomes exit 6 naming the rate limit after --timeout,
 * never "the node rejected the request" (exit 1). Real anvil behind a proxy that answers like a provider.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { deployArgs, journalLines, tempWorkdir } from './helpers/deployFixture.js'
import { type JsonRpcAnswer, startRpcProxy } from './helpers/rpcProxy.js'
import { runCli } from './helpers/runCli.js'

const LIMITED: JsonRpcAnswer = {
  error: { code: -32005, message: 'limit exceeded' },
  status: 429,
  headers: { 'retry-after': '1' },
}

describe('an RPC that rate-limits or fails with 5xx', () => {
  let anvil: Anvil
  let work: ReturnType<typeof tempWorkdir>
  const holder = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
  before(async () => {
    anvil = await startAnvil()
    work = tempWorkdir()
    const deployed = await runCli(deployArgs(anvil.rpcUrl), {
      cwd: work.dir,
      env: { IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey },
    })
    assert.equal(deployed.code, 0, deployed.stderr)
  })
  after(async () => {
    await anvil.stop()
    work.cleanup()
  })

  /** A proxy that answers `refusal` to every call while `limited()` says so, and counts them. */
  async function limitingProxy(limited: (call: { method: string }) => boolean, refusal: JsonRpcAnswer) {
    let refused = 0
    const proxy = await startRpcProxy(anvil.rpcUrl, {
      answer: (call) => {
        if (!limited(call)) return undefined
        refused++
        return refusal
      },
    })
    return { ...proxy, refused: () => refused }
  }

  it('-32005 "limit exceeded" with HTTP 200 for 3 s: a read waits it out and answers (exit 0)', async () => {
    let until = 0
    const proxy = await limitingProxy(
      () => {
        until ||= Date.now() + 3000 // from the first call on
        return Date.now() < until
      },
      { error: { code: -32005, message: 'limit exceeded' } },
    )
    try {
      const r = await runCli(['claimable', holder, '--rpc-url', proxy.url, '--json'], { cwd: work.dir })
      assert.equal(r.code, 0, r.stderr)
      assert.equal(JSON.parse(r.stdout).holder, holder)
      assert.ok(proxy.refused() >= 3, `${proxy.refused()} refusals`)
      assert.match(r.stderr, /the RPC at http:\/\/127\.0\.0\.1:\d+ is rate-limiting requests: waiting and retrying/)
    } finally {
      await proxy.close()
    }
  })

  it("HTTP 429 with Retry-After, 10 calls per 4 s: a deployment goes through the provider's limit (exit 0, deployed once)", async () => {
    let windowStart = 0
    let used = 0
    const proxy = await limitingProxy(() => {
      if (Date.now() - windowStart >= 4000) {
        windowStart = Date.now()
        used = 0
      }
      return ++used > 10
    }, LIMITED)
    const deployer = anvil.accounts[1]!
    const folder = tempWorkdir()
    try {
      const r = await runCli(deployArgs(proxy.url, ['--json']), {
        cwd: folder.dir,
        env: { IMO_PRIVATE_KEY: deployer.privateKey },
      })
      assert.equal(r.code, 0, r.stderr)
      assert.ok(proxy.refused() >= 3, `${proxy.refused()} refusals`)
      assert.equal(journalLines(folder.dir).filter((line) => line.type === 'signed').length, 2)
    } finally {
      await proxy.close()
      folder.cleanup()
    }
  })

  it('Retry-After: 2 is honoured (the retry comes 2 s later, not at the first backoff of 0.5 s)', async () => {
    const times: number[] = []
    const proxy = await startRpcProxy(anvil.rpcUrl, {
      answer: (call) => {
        if (call.method !== 'eth_chainId') return undefined
        times.push(Date.now())
        return times.length === 1 ? { ...LIMITED, headers: { 'retry-after': '2' } } : undefined
      },
    })
    try {
      const r = await runCli(['claimable', holder, '--rpc-url', proxy.url, '--json'], { cwd: work.dir })
      assert.equal(r.code, 0, r.stderr)
      assert.ok(times[1]! - times[0]! >= 1900, `retried after ${times[1]! - times[0]!} ms`)
    } finally {
      await proxy.close()
    }
  })

  it('HTTP 503 for 2 s: waited out (exit 0)', async () => {
    let until = 0
    const proxy = await limitingProxy(
      () => {
        until ||= Date.now() + 2000
        return Date.now() < until
      },
      { error: { code: -32603, message: 'Service Unavailable' }, status: 503 },
    )
    try {
      const r = await runCli(['claimable', holder, '--rpc-url', proxy.url, '--json'], { cwd: work.dir })
      assert.equal(r.code, 0, r.stderr)
      assert.ok(proxy.refused() >= 2)
    } finally {
      await proxy.close()
    }
  })

  it('a limit that never ends: exit 6 naming the rate limit after --timeout, not exit 1; a Retry-After of an hour is not obeyed', async () => {
    const proxy = await limitingProxy(() => true, LIMITED)
    const hour = await limitingProxy(() => true, { ...LIMITED, headers: { 'retry-after': '3600' } })
    try {
      for (const url of [proxy.url, hour.url]) {
        const started = Date.now()
        const r = await runCli(['claimable', holder, '--rpc-url', url, '--timeout', '3'], { cwd: work.dir })
        assert.equal(r.code, 6, r.stderr)
        const lines = r.stderr.trimEnd().split('\n')
        assert.match(
          lines.at(-2)!,
          /^error: the RPC at http:\/\/127\.0\.0\.1:\d+ is rate-limiting imo's requests, and went on after imo waited$/,
        )
        assert.match(lines.at(-1)!, /^hint: re-run later/)
        assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`)
      }
    } finally {
      await proxy.close()
      await hour.close()
    }
  })
})
