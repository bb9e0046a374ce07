/**
 * Operating `imo serve`: its /metrics and /healthz on a real anvil with the bundled model. The
 * exposition passes Prometheus' own checker (`promtool check metrics`, Debian's prometheus package);
 * a scrape never waits on a frozen RPC (network values are cached, with their age); health fails
 * while the RPC is frozen or the signer cannot pay for one more fulfilment; the end-to-end latency is
 * what serve observed, not wall clock minus a block timestamp (a devnet's clock may run ahead).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { toHex } from 'viem'
import { promtool } from './helpers/promtool.js'
import { type Chain, sleep, spawnServe, startChain, until } from './helpers/serveChain.js'
import { startTcpProxy } from './helpers/tcpProxy.js'

/** A metric's value (the first sample whose name and labels match `selector`). */
const sample = (text: string, selector: string) => {
  const escaped = selector.replace(/[{}"+.]/g, (c) => `\\${c}`)
  const value = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text)?.[1]
  return value === undefined ? undefined : Number(value)
}

async function scrape(port: number, path = '/metrics'): Promise<{ status: number; text: string; ms: number }> {
  const started = Date.now()
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(20_000) })
  return { status: response.status, text: await response.text(), ms: Date.now() - started }
}

async function servingWithMetrics(chain: Chain, rpcUrl?: string) {
  const serve = spawnServe(chain, ['--metrics-port', '0'], rpcUrl)
  const port = Number((await serve.line('the metrics port', (l) => l.metricsPort !== undefined)).metricsPort)
  await serve.line('start', (l) => l.event === 'start' && l.fromBlock !== undefined)
  return { serve, port }
}

describe('imo serve /metrics', () => {
  it('passes promtool check metrics and carries what operators expect; latency is what serve observed, on a devnet whose clock runs ahead', async () => {
    const chain = await startChain()
    const { serve, port } = await servingWithMetrics(chain)
    // The chain's clock an hour ahead of the wall clock: a block timestamp says nothing of when serve saw it.
    const ahead = Math.floor(Date.now() / 1000) + 3600
    await chain.rpc('evm_setNextBlockTimestamp', [toHex(ahead)])
    const { id } = await chain.request(1, 'measured by what serve saw')
    await serve.line('fulfilled', (l) => l.event === 'fulfilled' && l.requestId === String(id))
    await until('the background reads', async () =>
      (await scrape(port)).text.includes('imo_serve_signer_balance_wei ') ? true : undefined,
    )
    const { text } = await scrape(port)
    const latency = sample(text, 'imo_serve_end_to_end_seconds_sum')!
    assert.equal(sample(text, 'imo_serve_end_to_end_seconds_count'), 1)
    assert.ok(latency > 0 && latency < 60, `end to end ${latency} s`)
    assert.equal(promtool(text), '', text)
    for (const name of [
      'imo_serve_build_info{version="',
      'imo_serve_healthy 1',
      'imo_serve_head_block ',
      'imo_serve_processed_block ',
      'imo_serve_lag_blocks ',
      'imo_serve_open_requests{stage="infer"} 0',
      'imo_serve_oldest_open_request_age_seconds 0',
      'imo_serve_requests_expiring_soon 0',
      'imo_serve_pending_transactions 0',
      'imo_serve_open_escrow_wei 0',
      'imo_serve_open_escrow_age_seconds ',
      'imo_serve_signer_balance_age_seconds ',
      'imo_serve_rpc_errors_total 0',
      'imo_serve_head_read_age_seconds ',
      'imo_serve_process_resident_memory_bytes ',
    ])
      assert.ok(text.includes(name), `${name} is missing:\n${text}`)
    assert.equal(sample(text, 'imo_serve_head_block'), Number(await chain.client.getBlockNumber()))
    assert.ok((sample(text, 'imo_serve_gas_used_total') ?? 0) > 100_000, 'gas used')
    assert.ok((sample(text, 'imo_serve_gas_spent_wei_total') ?? 0) > 0, 'gas spent')
    serve.child.kill('SIGTERM')
    assert.equal(await serve.exited, 0, serve.stderr())
  })

  it('a frozen RPC: scrapes answer at once with cached values and their age; /healthz says why it fails, then recovers', async () => {
    const chain = await startChain()
    const proxy = await startTcpProxy(chain.anvil.port)
    try {
      const { serve, port } = await servingWithMetrics(chain, proxy.url)
      await until('healthy', async () => ((await scrape(port, '/healthz')).status === 200 ? true : undefined), 20_000)
      await proxy.setMode('hang')
      const frozen = Date.now()
      const during = await scrape(port)
      assert.ok(during.ms < 2000, `a scrape took ${during.ms} ms while the RPC hangs`)
      assert.ok(sample(during.text, 'imo_serve_signer_balance_wei')! > 0)
      const health = await until(
        '/healthz to fail',
        async () => {
          const answer = await scrape(port, '/healthz')
          return answer.status === 503 ? answer : undefined
        },
        30_000,
      )
      assert.ok(Date.now() - frozen >= 9000, 'health failed before the head read was stale')
      assert.match(health.text, /^rpc: no head read for \d+ s$/m)
      const stale = await scrape(port)
      assert.ok(stale.ms < 2000, `a scrape took ${stale.ms} ms while the RPC hangs`)
      assert.ok(sample(stale.text, 'imo_serve_head_read_age_seconds')! >= 9)
      assert.ok(sample(stale.text, 'imo_serve_signer_balance_age_seconds')! >= 9)
      assert.equal(sample(stale.text, 'imo_serve_healthy'), 0)
      // Reads that time out are counted.
      await until(
        'an RPC error counted',
        async () => (sample((await scrape(port)).text, 'imo_serve_rpc_errors_total')! >= 1 ? true : undefined),
        30_000,
      )
      await proxy.setMode('pass')
      await until('healthy again', async () => ((await scrape(port, '/healthz')).status === 200 ? true : undefined), 60_000)
      serve.child.kill('SIGTERM')
      assert.equal(await serve.exited, 0, serve.stderr())
    } finally {
      await proxy.close()
    }
  })

  it('/healthz fails while the signer cannot pay for one more fulfilment', async () => {
    const chain = await startChain()
    const { serve, port } = await servingWithMetrics(chain)
    await until('healthy', async () => ((await scrape(port, '/healthz')).status === 200 ? true : undefined), 20_000)
    const signer = chain.anvil.accounts[0]!.address
    const balance = await chain.client.getBalance({ address: signer })
    await chain.rpc('anvil_setBalance', [signer, '0x3e8'])
    const health = await until(
      '/healthz to fail',
      async () => {
        const answer = await scrape(port, '/healthz')
        return answer.status === 503 ? answer : undefined
      },
      20_000,
    )
    assert.match(health.text, /^signer: its balance \(1000 wei\) does not cover one fulfilment's gas \(about \d+ wei\)$/m)
    await chain.rpc('anvil_setBalance', [signer, toHex(balance)])
    await until('healthy again', async () => ((await scrape(port, '/healthz')).status === 200 ? true : undefined), 20_000)
    await sleep(100)
    serve.child.kill('SIGTERM')
    assert.equal(await serve.exited, 0, serve.stderr())
  })
})
