/**
 * `imo serve` under trouble, on real anvil nodes with the bundled model (real onnxruntime), serve
 * spawned as the built CLI: SIGKILLs at random moments while requests arrive, reorgs (evm_snapshot /
 * evm_revert), an RPC that refuses, drops and stalls (a TCP proxy between serve and anvil), SIGTERM and
 * SIGINT with a fulfilment in flight, the fee-vs-gas warning and the metrics endpoint. Everything is
 * counted on chain (Fulfilled events per request id, request status), never from serve's own words.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { type Address, type Hex, keccak256, toHex } from 'viem'
import { aigcCollectionAbi } from '../contracts-abi/index.js'
import { startRpcProxy } from './helpers/rpcProxy.js'
import { runCli } from './helpers/runCli.js'
import {
  assertFulfilledOnce,
  type Chain,
  fulfilledEvent,
  fulfils,
  journalRecords,
  type Line,
  STATUS,
  sleep,
  spawnServe,
  startChain,
  until,
} from './helpers/serveChain.js'
import { startTcpProxy } from './helpers/tcpProxy.js'

describe('imo serve: crash safety', () => {
  it('SIGKILLed at random moments 20+ times while 50 requests from 3 accounts arrive: each fulfilled once, no cursor skip', async () => {
    const chain = await startChain()
    const started = Date.now()
    // 50 requests from dev accounts 1..3, at random intervals, while serve is killed and restarted.
    const total = 50
    let sent = 0
    const ids: bigint[] = []
    const requesters = [1, 2, 3].map(async (account) => {
      const mine = Array.from({ length: total }, (_, i) => i).filter((i) => i % 3 === account - 1)
      for (const i of mine) {
        await sleep(300 + Math.random() * 1500)
        ids.push((await chain.request(account, `crash-safe prompt number ${i}`)).id)
        sent++
      }
    })
    const requesting = Promise.all(requesters)
    // The cursor never points past a request that is not settled: checked after every kill, and every
    // 250 ms while serve runs (the cursor is read before the statuses, which only move to Fulfilled).
    const skips: string[] = []
    const checkCursor = async () => {
      const cursor = chain.cursor()
      if (!cursor) return
      for (const { id, block } of await chain.requested())
        if (block < cursor.nextBlock && (await chain.status(id)) !== STATUS.fulfilled)
          skips.push(`cursor ${cursor.nextBlock} is past open request ${id} (block ${block})`)
    }
    let watching = true
    const watcher = (async () => {
      while (watching) {
        await checkCursor().catch(() => {}) // a cursor file caught mid-rename reads as absent
        await sleep(250)
      }
    })()
    let kills = 0
    let inFlightAtKill = 0
    const countedInFlight = new Set<string>()
    const all: Line[] = []
    while (kills < 20 || sent < total) {
      // Every fourth run dies by its own hand at one of sendSteps' fault points (a signed fulfilment
      // journalled but not broadcast, or broadcast with its receipt not journalled), the windows a
      // random kill may miss; those runs are killed at random too if they get that far without sending.
      const point = kills % 4 === 3 ? (kills % 8 === 3 ? 'after-journal' : 'after-broadcast') : undefined
      const serve = spawnServe(chain, [], undefined, point ? { IMO_TEST_CRASH_AT: `${point}:fulfill:` } : {})
      // A quarter of the kills land during start-up, the rest at a random moment of the follow loop.
      if (point)
        await Promise.race([sleep(20_000), serve.exited]) // it kills itself once it sends (slower under load)
      else if (Math.random() < 0.25) await Promise.race([sleep(Math.random() * 1500), serve.exited])
      else {
        await Promise.race([serve.line('start', (l) => l.event === 'start' && l.fromBlock !== undefined), serve.exited])
        await Promise.race([sleep(Math.random() * 1200), serve.exited])
      }
      serve.child.kill('SIGKILL')
      await serve.exited
      kills++
      all.push(...serve.lines)
      // Killed with a fulfilment signed and journalled but its receipt not (in flight)?
      const records = journalRecords(chain)
      const received = new Set(records.filter((r) => r.type === 'receipt' || r.type === 'dropped').map((r) => r.hash))
      const inFlight = records.filter((r) => r.type === 'signed' && !received.has(r.hash)).map((r) => String(r.hash))
      if (inFlight.some((hash) => !countedInFlight.has(hash))) inFlightAtKill++
      for (const hash of inFlight) countedInFlight.add(hash)
      assert.ok(!serve.lines.some((l) => l.event === 'failed'), `a failure was logged:\n${serve.stderr()}`)
      await checkCursor()
      assert.deepEqual(skips, [])
    }
    await requesting
    watching = false
    await watcher
    assert.deepEqual(skips, [])
    // A last, undisturbed run finishes the work; then a clean stop.
    const last = spawnServe(chain)
    await until('every request fulfilled', async () => {
      for (const id of ids) if ((await chain.status(id)) !== STATUS.fulfilled) return undefined
      return true
    })
    await last.line('start', (l) => l.event === 'start' && l.fromBlock !== undefined) // its signal handlers are set
    last.child.kill('SIGTERM')
    assert.equal(await last.exited, 0, last.stderr())
    all.push(...last.lines)
    assert.equal(ids.length, total)
    assert.deepEqual(
      [...ids].sort((a, b) => (a < b ? -1 : 1)),
      Array.from({ length: total }, (_, i) => BigInt(i + 1)),
    )
    await assertFulfilledOnce(chain, ids)
    assert.ok(!all.some((l) => l.event === 'failed' || l.event === 'skipped'), 'nothing failed or was skipped')
    const cursor = chain.cursor()
    assert.ok(cursor, 'the cursor is saved')
    assert.ok(kills >= 20)
    assert.ok(inFlightAtKill >= 2, `only ${inFlightAtKill} kills landed with a fulfilment in flight`)
    process.stderr.write(
      `# crash test: ${kills} SIGKILLs (${inFlightAtKill} with a fulfilment in flight), ${total} requests, ${Math.round((Date.now() - started) / 1000)} s\n`,
    )
  })
})

describe('imo serve: reorgs', () => {
  /** The signer's transactions waiting in anvil's pool (serve's fulfilments when mining is off). */
  const pendingFrom = async (chain: Chain, address: Address) =>
    (await chain.client.getTransactionCount({ address, blockTag: 'pending' })) -
    (await chain.client.getTransactionCount({ address, blockTag: 'latest' }))
  const tokenOf = (chain: Chain, prompt: string) =>
    chain.client
      .readContract({
        address: chain.collection,
        abi: aigcCollectionAbi,
        functionName: 'ownerOf',
        args: [BigInt(keccak256(toHex(new TextEncoder().encode(prompt))))],
      })
      .then(
        (owner) => owner as Address,
        () => undefined,
      )

  it('a fulfilment reorganised away (request open again) is sent again and ends fulfilled once', async () => {
    const chain = await startChain()
    const serve = spawnServe(chain)
    await serve.line('start', (l) => l.event === 'start' && l.fromBlock !== undefined)
    // Twice: reorganised right after the fulfilment (before serve scanned its block), and later.
    for (const [round, settleMs] of [0, 1500].entries()) {
      serve.child.kill('SIGSTOP')
      const { id } = await chain.request(1, `reorg undoes the fulfilment ${round}`)
      const snapshot = await chain.rpc('evm_snapshot')
      serve.child.kill('SIGCONT')
      const isFulfilment = (l: Line) => l.event === 'fulfilled' && l.requestId === String(id)
      await serve.line(`request ${id} fulfilled`, isFulfilment)
      if (settleMs === 0) serve.child.kill('SIGSTOP')
      else await sleep(settleMs)
      assert.equal(await chain.status(id), STATUS.fulfilled)
      assert.equal(await chain.rpc('evm_revert', [snapshot]), true)
      assert.equal(await chain.status(id), STATUS.open, 'the reorg undid the fulfilment')
      serve.child.kill('SIGCONT')
      await until(
        `request ${id} fulfilled again`,
        async () => (await chain.status(id)) === STATUS.fulfilled || undefined,
        30_000,
      ).catch((error: Error) => {
        // A CI log alone must tell why (seen once under a full CI load, not reproduced alone).
        throw new Error(`${error.message} (round ${round}); serve said:\n${serve.stderr().split('\n').slice(-25).join('\n')}`)
      })
      await serve.line(
        `request ${id} fulfilled again (log)`,
        (l) => isFulfilment(l) && serve.lines.filter(isFulfilment).length >= 2,
      )
      assert.ok(
        serve.lines.some((l) => l.event === 'reorg'),
        'the reorg is logged',
      )
      // Re-sent as the very transaction the journal holds (same nonce after the reorg), not signed again.
      const signed = journalRecords(chain).filter((r) => r.type === 'signed' && fulfils(r, id))
      assert.equal(signed.length, 1)
      const fulfilments = await chain.client.getLogs({
        address: chain.collection,
        event: fulfilledEvent,
        args: { requestId: id },
      })
      assert.equal(fulfilments[0]?.transactionHash, signed[0]!.hash)
    }
    const requests = await chain.requested()
    await assertFulfilledOnce(
      chain,
      requests.map((r) => r.id),
    )
    // One line per fulfilment that happened: before and after its reorg, and not again when a later
    // reorg re-checks it (still fulfilled, by the same transaction).
    for (const r of requests)
      assert.equal(
        serve.lines.filter((l) => l.event === 'fulfilled' && l.requestId === String(r.id)).length,
        2,
        `request ${r.id}: ${serve.stderr()}`,
      )
    assert.ok(!serve.lines.some((l) => l.event === 'failed'), serve.stderr())
    serve.child.kill('SIGTERM')
    assert.equal(await serve.exited, 0, serve.stderr())
  })

  it('a request reorganised away is not fulfilled (logged as gone); the next request, which reuses its id, is', async () => {
    const chain = await startChain()
    const serve = spawnServe(chain)
    await serve.line('start', (l) => l.event === 'start' && l.fromBlock !== undefined)
    const signer = chain.anvil.accounts[0]!.address
    // The request is mined; serve sees it and sends its fulfilment, which waits in the pool (no mining).
    serve.child.kill('SIGSTOP')
    const snapshot = await chain.rpc('evm_snapshot')
    await chain.rpc('evm_setAutomine', [false])
    const gonePrompt = 'a request the reorg removes'
    await chain.requestPending(2, gonePrompt)
    await chain.rpc('evm_mine')
    const [gone] = await chain.requested()
    assert.equal(gone?.id, 1n)
    serve.child.kill('SIGCONT')
    await serve.line('request 1 seen', (l) => l.event === 'seen' && l.requestId === '1')
    await until('the fulfilment in the pool', async () => ((await pendingFrom(chain, signer)) === 1 ? true : undefined))
    // The reorg removes the request; the fulfilment left in the pool is mined and reverts.
    assert.equal(await chain.rpc('evm_revert', [snapshot]), true)
    assert.equal(await chain.status(1n), STATUS.none)
    await chain.rpc('evm_mine')
    await chain.rpc('evm_setAutomine', [true])
    const skipped = await serve.line('request 1 gone', (l) => l.event === 'skipped' && l.requestId === '1', 30_000)
    assert.equal(skipped.reason, 'gone')
    assert.match(String(skipped.message), /no longer on chain/)
    assert.equal(await tokenOf(chain, gonePrompt), undefined, 'the removed request was not fulfilled')
    // The next request takes id 1 again (ids are a counter): it is served, with its own prompt and recipient.
    const next = await chain.request(3, 'the request that reuses id 1')
    assert.equal(next.id, 1n)
    await until(
      'request 1 (again) fulfilled',
      async () => ((await chain.status(1n)) === STATUS.fulfilled ? true : undefined),
      30_000,
    )
    assert.equal(await tokenOf(chain, 'the request that reuses id 1'), chain.anvil.accounts[3]!.address)
    assert.equal(await tokenOf(chain, gonePrompt), undefined)
    await assertFulfilledOnce(chain, [1n])
    assert.ok(!serve.lines.some((l) => l.event === 'failed'), serve.stderr())
    serve.child.kill('SIGTERM')
    assert.equal(await serve.exited, 0, serve.stderr())
  })
})

describe('imo serve: reorgs with --confirmations 3', () => {
  it('a reorg removes a batch of two fulfilments (the first confirmed, the second not): both are sent again in nonce order, no wedge', async () => {
    const chain = await startChain()
    const signer = chain.anvil.accounts[0]!.address
    const serve = spawnServe(chain, ['--confirmations', '3'])
    await serve.line('start', (l) => l.event === 'start' && l.fromBlock !== undefined)
    // Two requests in one block, 3 deep; the snapshot is the state just before serve sends.
    serve.child.kill('SIGSTOP')
    await chain.rpc('evm_setAutomine', [false])
    await chain.requestPending(1, 'batch of two, first')
    await chain.requestPending(2, 'batch of two, second')
    await chain.rpc('evm_mine')
    await chain.rpc('evm_mine')
    await chain.rpc('evm_mine')
    await chain.rpc('evm_setAutomine', [true])
    const snapshot = await chain.rpc('evm_snapshot')
    serve.child.kill('SIGCONT')
    // One batch, two transactions: automine puts them in blocks k and k+1. One more block confirms the
    // first (3 deep), not the second.
    await until('both fulfilled', async () =>
      (await chain.status(1n)) === STATUS.fulfilled && (await chain.status(2n)) === STATUS.fulfilled ? true : undefined,
    )
    await chain.rpc('evm_mine')
    await until('the first receipt journalled', () =>
      journalRecords(chain).some((r) => r.type === 'receipt' && fulfils(r, 1n)) ? true : undefined,
    )
    assert.ok(!journalRecords(chain).some((r) => r.type === 'receipt' && fulfils(r, 2n)), 'the second is not 3 deep yet')
    assert.equal(await chain.rpc('evm_revert', [snapshot]), true)
    assert.equal(await chain.status(1n), STATUS.open)
    assert.equal(await chain.status(2n), STATUS.open)
    // Blocks keep coming (confirmations); both must be fulfilled again well before any receipt timeout.
    let mining = true
    const miner = (async () => {
      while (mining) {
        await chain.rpc('evm_mine').catch(() => {})
        await sleep(500)
      }
    })()
    try {
      await until(
        'both fulfilled again',
        async () =>
          (await chain.status(1n)) === STATUS.fulfilled && (await chain.status(2n)) === STATUS.fulfilled ? true : undefined,
        45_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}; pool: ${JSON.stringify(serve.lines.slice(-12))}`)
      })
      await serve.line(
        'both logged as fulfilled again',
        () => serve.lines.filter((l) => l.event === 'fulfilled' && (l.requestId === '1' || l.requestId === '2')).length >= 2,
      )
    } finally {
      mining = false
      await miner
    }
    await assertFulfilledOnce(chain, [1n, 2n])
    // The very transactions the journal holds, not new ones.
    for (const id of [1n, 2n]) assert.equal(journalRecords(chain).filter((r) => r.type === 'signed' && fulfils(r, id)).length, 1)
    assert.equal(
      await chain.client.getTransactionCount({ address: signer, blockTag: 'pending' }),
      await chain.client.getTransactionCount({ address: signer }),
    )
    serve.child.kill('SIGTERM')
    assert.equal(await serve.exited, 0, serve.stderr())
  })
})

describe('imo serve: a load-balanced RPC whose backends lag', () => {
  it('a head that is two blocks behind every other time is not a reorg: no reorg line, every request fulfilled once', async () => {
    const chain = await startChain()
    // Every other eth_getBlockByNumber("latest") is answered by a backend two blocks behind.
    let head = await chain.client.getBlockNumber()
    let calls = 0
    let stale = 0
    const tracking = setInterval(() => {
      chain.client.getBlockNumber({ cacheTime: 0 }).then(
        (n) => {
          head = n
        },
        () => {},
      )
    }, 50)
    const proxy = await startRpcProxy(chain.anvil.rpcUrl, {
      rewrite(call) {
        if (call.method !== 'eth_getBlockByNumber' || (call.params as unknown[])[0] !== 'latest') return undefined
        if (calls++ % 2 === 0 || head < 2n) return undefined
        stale++
        return { ...call, params: [toHex(head - 2n), ...(call.params as unknown[]).slice(1)] }
      },
    })
    try {
      const serve = spawnServe(chain, [], proxy.url)
      await serve.line('start', (l) => l.event === 'start' && l.fromBlock !== undefined)
      const ids: bigint[] = []
      for (const account of [1, 2, 3]) {
        ids.push((await chain.request(account, `asked of a lagging RPC ${account}`)).id)
        await serve.line(
          `request ${ids.at(-1)} fulfilled`,
          (l) => l.event === 'fulfilled' && l.requestId === String(ids.at(-1)),
          30_000,
        )
      }
      await sleep(1500)
      assert.ok(stale > 5, `only ${stale} stale heads were served`)
      assert.deepEqual(
        serve.lines.filter((l) => l.event === 'reorg'),
        [],
        serve.stderr(),
      )
      await assertFulfilledOnce(chain, ids)
      serve.child.kill('SIGTERM')
      assert.equal(await serve.exited, 0, serve.stderr())
    } finally {
      clearInterval(tracking)
      await proxy.close()
    }
  })
})

describe('imo serve: RPC trouble', () => {
  it('rides out an RPC that refuses, drops and stalls: rpc-error lines with growing backoff, then every request fulfilled once; metrics', async () => {
    const chain = await startChain()
    const proxy = await startTcpProxy(chain.anvil.port)
    try {
      const serve = spawnServe(chain, ['--metrics-port', '0'], proxy.url)
      const port = Number((await serve.line('the metrics port', (l) => l.metricsPort !== undefined)).metricsPort)
      await serve.line('start', (l) => l.event === 'start' && l.fromBlock !== undefined)
      const ids: bigint[] = []
      for (const account of [1, 2, 3]) ids.push((await chain.request(account, `before the outage ${account}`)).id)
      await until('the first requests fulfilled', async () => {
        for (const id of ids) if ((await chain.status(id)) !== STATUS.fulfilled) return undefined
        return true
      })
      // The outage starts just as serve has seen two more requests (their fulfilment is cut mid-way);
      // refused, then dropped, then stalled; requests keep arriving (straight to anvil).
      const cut = [
        await chain.request(1, 'seen just before the outage 1'),
        await chain.request(2, 'seen just before the outage 2'),
      ]
      ids.push(...cut.map((r) => r.id))
      await serve.line('the last request before the outage seen', (l) => l.event === 'seen' && l.requestId === String(cut[1]!.id))
      await proxy.setMode('refuse')
      for (const account of [1, 2, 3]) ids.push((await chain.request(account, `during the outage ${account}`)).id)
      await sleep(2500)
      await proxy.setMode('drop')
      await sleep(2500)
      await proxy.setMode('hang')
      await sleep(2000)
      await proxy.setMode('pass')
      await until('every request fulfilled', async () => {
        for (const id of ids) if ((await chain.status(id)) !== STATUS.fulfilled) return undefined
        return true
      })
      const errors = serve.lines.filter((l) => l.event === 'rpc-error')
      assert.ok(errors.length >= 3, `rpc-error lines: ${errors.length}\n${serve.stderr()}`)
      const waits = errors.map((l) => Number(/retrying in ([\d.]+) s/.exec(String(l.message))?.[1]))
      for (const [index, wait] of waits.entries()) {
        assert.ok(Number.isFinite(wait), String(errors[index]!.message))
        if (index > 0)
          assert.ok(wait >= waits[index - 1]!, `backoff shrank during the outage: ${waits.join(', ')}\n${serve.stderr()}`)
      }
      assert.ok(waits[waits.length - 1]! >= 4, `backoff did not grow: ${waits.join(', ')}`)
      assert.equal(serve.child.exitCode, null, 'serve is still running')
      await assertFulfilledOnce(chain, ids)
      assert.ok(!serve.lines.some((l) => l.event === 'failed'), serve.stderr())
      // It is serving again, promptly (the backoff was reset).
      const late = await chain.request(1, 'after the outage')
      await serve.line(
        'the request after the outage fulfilled',
        (l) => l.event === 'fulfilled' && l.requestId === String(late.id),
        20_000,
      )
      ids.push(late.id)
      // /metrics: counters, histograms, the signer's balance; /healthz.
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
      assert.match(metrics, new RegExp(`^imo_serve_requests_seen_total ${ids.length}$`, 'm'))
      assert.match(metrics, new RegExp(`^imo_serve_requests_fulfilled_total ${ids.length}$`, 'm'))
      assert.match(metrics, /^imo_serve_requests_failed_total 0$/m)
      assert.match(metrics, new RegExp(`^imo_serve_inference_seconds_count ${ids.length}$`, 'm'))
      assert.match(metrics, /^imo_serve_inference_seconds_bucket\{le="\+Inf"\} \d+$/m)
      assert.match(metrics, new RegExp(`^imo_serve_end_to_end_seconds_count ${ids.length}$`, 'm'))
      assert.match(metrics, /^imo_serve_end_to_end_seconds_sum [\d.e+-]+$/m)
      const balance = Number(/^imo_serve_signer_balance_wei ([\d.e+]+)$/m.exec(metrics)?.[1])
      const onChain = Number(await chain.client.getBalance({ address: chain.anvil.accounts[0]!.address }))
      assert.ok(Math.abs(balance - onChain) / onChain < 1e-6, `balance gauge ${balance}, on chain ${onChain}`)
      const health = await fetch(`http://127.0.0.1:${port}/healthz`)
      assert.equal(health.status, 200)
      assert.equal(await health.text(), 'ok\n')
      serve.child.kill('SIGTERM')
      assert.equal(await serve.exited, 0, serve.stderr())
    } finally {
      await proxy.close()
    }
  })
})

describe('imo serve: a node behind the head it reported', () => {
  it('a logs query refused past the node head (a lagging backend, a reorg to a shorter chain) ends the round, not serve', async () => {
    const chain = await startChain()
    // Once armed, the next eth_getLogs is refused as anvil refuses a range past its head, and the next
    // eth_blockNumber (serve's look at the head after the refusal) reports the block before that range's
    // end: what a load-balanced RPC whose backends lag one another, or an evm_revert landing between
    // serve's head read and its logs read, looks like. Everything else passes through.
    let armed = false
    let refusedTo: bigint | undefined
    let refusals = 0
    const proxy = await startRpcProxy(chain.anvil.rpcUrl, {
      answer(call) {
        if (armed && call.method === 'eth_getLogs') {
          armed = false
          refusals++
          refusedTo = BigInt((call.params as [{ toBlock: Hex }])[0].toBlock)
          return {
            error: {
              code: -32000,
              message: `BlockOutOfRangeError: block height is ${refusedTo - 1n} but requested was ${refusedTo}`,
            },
          }
        }
        if (refusedTo !== undefined && call.method === 'eth_blockNumber') {
          const behind = refusedTo - 1n
          refusedTo = undefined
          return { result: toHex(behind) }
        }
        return undefined
      },
    })
    try {
      const serve = spawnServe(chain, [], proxy.url)
      await serve.line('start', (l) => l.event === 'start' && l.fromBlock !== undefined)
      armed = true
      const { id } = await chain.request(1, 'asked while the node lags')
      await serve.line('the request fulfilled', (l) => l.event === 'fulfilled' && l.requestId === String(id), 30_000)
      assert.equal(refusals, 1, 'the proxy refused one logs query')
      assert.equal(serve.child.exitCode, null, `serve is still running\n${serve.stderr()}`)
      await assertFulfilledOnce(chain, [id])
      serve.child.kill('SIGTERM')
      assert.equal(await serve.exited, 0, serve.stderr())
    } finally {
      await proxy.close()
    }
  })
})

describe('imo serve: stopping and warnings', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    it(`${signal} with a fulfilment in flight: exit 0 promptly, the summary on stdout, the cursor saved; the next run completes it once`, async () => {
      const chain = await startChain()
      const signer = chain.anvil.accounts[0]!.address
      const serve = spawnServe(chain)
      await serve.line('start', (l) => l.event === 'start' && l.fromBlock !== undefined)
      const first = await chain.request(1, `${signal}: served before the stop`)
      await serve.line('the first request fulfilled', (l) => l.event === 'fulfilled' && l.requestId === String(first.id))
      // The second request's fulfilment waits in the pool: mining is off.
      await chain.rpc('evm_setAutomine', [false])
      await chain.requestPending(2, `${signal}: in flight at the stop`)
      await chain.rpc('evm_mine')
      const second = (await chain.requested()).find((r) => r.id === 2n)!
      await until('the fulfilment in the pool', async () =>
        (await chain.client.getTransactionCount({ address: signer, blockTag: 'pending' })) >
        (await chain.client.getTransactionCount({ address: signer, blockTag: 'latest' }))
          ? true
          : undefined,
      )
      const stopping = Date.now()
      serve.child.kill(signal)
      assert.equal(await serve.exited, 0, serve.stderr())
      assert.ok(Date.now() - stopping < 10_000, `stopped after ${Date.now() - stopping} ms`)
      const summary = JSON.parse(serve.stdout())
      assert.equal(summary.fulfilled, 1)
      assert.ok(
        BigInt(summary.nextBlock) <= second.block,
        `cursor ${summary.nextBlock} past the request in flight (${second.block})`,
      )
      assert.equal(chain.cursor()?.nextBlock, BigInt(summary.nextBlock), 'the cursor file holds the summary cursor')
      assert.ok(serve.lines.some((l) => l.event === 'stop'))
      assert.doesNotMatch(serve.stderr(), /interrupted/)
      // What was in flight is journalled; the next run completes it with that very transaction.
      const signed = () => journalRecords(chain).filter((r) => r.type === 'signed' && fulfils(r, 2n))
      assert.equal(signed().length, 1)
      await chain.rpc('evm_setAutomine', [true])
      await chain.rpc('evm_mine')
      const next = spawnServe(chain)
      await until('request 2 fulfilled', async () => ((await chain.status(2n)) === STATUS.fulfilled ? true : undefined))
      await next.line('start', (l) => l.event === 'start' && l.fromBlock !== undefined)
      next.child.kill(signal)
      assert.equal(await next.exited, 0, next.stderr())
      assert.equal(signed().length, 1, 'signed once')
      await assertFulfilledOnce(chain, [1n, 2n])
    })

  it('warns when the request fee does not cover the gas of a fulfilment (and not when it does)', async () => {
    const chain = await startChain()
    const covered = await chain.imo(['serve', '--until-idle', '--json'])
    assert.equal(covered.code, 0, covered.stderr)
    assert.doesNotMatch(covered.stderr, /"event":"warning"/)
    assert.equal((await chain.imo(['requests', 'set-fee', '0.000001'])).code, 0)
    const cheap = await chain.imo(['serve', '--until-idle', '--json'])
    assert.equal(cheap.code, 0, cheap.stderr)
    const warning = cheap.stderr
      .split('\n')
      .filter((l) => l.includes('"event":"warning"'))
      .map((l) => JSON.parse(l))
    assert.equal(warning.length, 1, cheap.stderr)
    assert.match(
      warning[0].message,
      /^the request fee \(0\.000001 ETH\) does not cover a fulfilment's gas at the current price \(about [\d.]+ ETH\): serving costs more than it earns$/,
    )
    const human = await chain.imo(['serve', '--until-idle'])
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stderr, /does not cover a fulfilment's gas/)
  })

  it('refuses to start without an attester key: exit 2, a one-line error (and a hint), nothing written', async () => {
    const chain = await startChain()
    const cases: Array<[Record<string, string | undefined>, RegExp]> = [
      [
        { IMO_PRIVATE_KEY: undefined },
        /^error: missing signer: pass --private-key-file, --keystore, --account or --mnemonic-file or set IMO_PRIVATE_KEY/,
      ],
      [
        { IMO_PRIVATE_KEY: chain.anvil.accounts[3]!.privateKey },
        new RegExp(
          `^error: ${chain.anvil.accounts[3]!.address} is not an attester of the collection ${chain.collection}: serve cannot fulfil requests with its key$`,
        ),
      ],
    ]
    for (const [env, message] of cases) {
      const result = await runCli(['serve', '--rpc-url', chain.anvil.rpcUrl], { cwd: chain.dir, env })
      assert.equal(result.code, 2, result.stderr)
      const lines = result.stderr.trimEnd().split('\n')
      assert.match(lines[0]!, message)
      assert.ok(lines.length === 1 || (lines.length === 2 && lines[1]!.startsWith('hint: ')), result.stderr)
      assert.equal(result.stdout, '')
      assert.equal(chain.cursor(), undefined, 'no cursor written')
      assert.ok(!existsSync(join(chain.dir, '.imo', 'serve')), 'nothing under .imo/serve')
    }
  })
})
