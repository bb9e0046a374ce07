/**
 * `imo serve`'s state on disk, on real anvil nodes with the bundled model: the cursor and the journal
 * belong to one chain (a re-created chain with the same addresses is another one, and serve says what
 * it found), a cursor or journal that is not a usable file is a one-line exit-2 error (never a hang), a
 * restart does not repeat what the last run logged, a reorg that hands a fulfilled request's id to
 * another request is served, and serve's own fulfilment made from another folder is recognised as its.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { journalPath } from '../src/chain/journal.js'
import { cursorPath } from '../src/serve/serveCursor.js'
import { type CliResult, runCli } from './helpers/runCli.js'
import { type Chain, type Line, STATUS, spawnServe, startChain, until } from './helpers/serveChain.js'

/** `imo serve --until-idle --json` in `dir` against `chain`; its JSON log lines. */
async function serveUntilIdle(chain: Chain, dir = chain.dir, extra: string[] = []): Promise<CliResult & { lines: Line[] }> {
  const result = await runCli(['serve', '--until-idle', '--json', '--rpc-url', chain.anvil.rpcUrl, ...extra], {
    cwd: dir,
    env: { IMO_PRIVATE_KEY: chain.anvil.accounts[0]!.privateKey },
    timeoutMs: 60_000,
  })
  const lines = result.stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Line)
  return { ...result, lines }
}

const oneLine = (result: CliResult) => {
  assert.doesNotMatch(result.stderr, /\bat .*\.(js|ts):\d+/, 'no stack trace')
  return result.stderr.trim().split('\n')
}

describe('imo serve: its state belongs to its chain', () => {
  it('a chain re-created with the same addresses: the old cursor is set aside (and said so), the request on the new chain is fulfilled', async () => {
    const old = await startChain()
    // The operator's key sends two more transactions on the old chain: its nonces there run ahead.
    for (let i = 0; i < 2; i++) assert.equal((await old.imo(['requests', 'set-fee', '0.001'])).code, 0)
    const first = await old.request(1, 'the same prompt on both chains')
    const served = await serveUntilIdle(old)
    assert.equal(served.code, 0, served.stderr)
    assert.equal(await old.status(first.id), STATUS.fulfilled)
    // 30 more blocks while serve runs: the cursor moves far past the new chain's head.
    const running = spawnServe(old)
    await running.line('start', (l) => l.event === 'start' && l.fromBlock !== undefined)
    await old.rpc('anvil_mine', ['0x1e'])
    await until('the cursor past block 30', () => ((old.cursor()?.nextBlock ?? 0n) > 30n ? true : undefined))
    running.child.kill('SIGTERM')
    assert.equal(await running.exited, 0)
    await old.anvil.stop()

    // The "same" chain again: chain id 31337, the deployment at the same addresses, the same request.
    const fresh = await startChain()
    assert.equal(fresh.collection, old.collection)
    cpSync(join(fresh.dir, '.imo', 'deployments'), join(old.dir, '.imo', 'deployments'), { recursive: true })
    const again = await fresh.request(1, 'the same prompt on both chains')
    assert.equal(again.id, 1n)
    const result = await serveUntilIdle(fresh, old.dir)
    assert.equal(result.code, 0, result.stderr)
    const warning = result.lines.find((line) => line.event === 'warning')
    assert.match(
      String(warning?.message),
      /^the serve cursor was written on another chain: there block \d+ \(the collection's deployment\) had hash 0x[0-9a-f]{64}, here block \d+ has 0x[0-9a-f]{64} \(a re-created local chain\?\); it was moved to .*\.other-chain-\d+, and serving starts from block \d+$/,
      result.stderr,
    )
    assert.equal(await fresh.status(1n), STATUS.fulfilled, result.stderr)
    assert.ok(result.lines.some((line) => line.event === 'fulfilled' && line.requestId === '1'))
    const folder = join(old.dir, '.imo', 'serve', '31337')
    assert.ok(
      readdirSync(folder).some((name) => name.includes('.other-chain-')),
      'the old cursor is kept aside',
    )
  })

  it("serve's own fulfilment made from another folder (another journal, the same key) is logged as its own, not as someone else's", async () => {
    const chain = await startChain()
    const { id } = await chain.request(1, 'fulfilled from the first folder')
    assert.equal((await serveUntilIdle(chain)).code, 0)
    assert.equal(await chain.status(id), STATUS.fulfilled)
    // A second folder with the deployment file only (as `imo demo --keep` leaves it: its journal is elsewhere).
    const other = join(chain.dir, 'elsewhere')
    mkdirSync(other)
    cpSync(join(chain.dir, '.imo', 'deployments'), join(other, '.imo', 'deployments'), { recursive: true })
    const result = await serveUntilIdle(chain, other)
    assert.equal(result.code, 0, result.stderr)
    const line = result.lines.find((l) => l.requestId === String(id) && (l.event === 'fulfilled' || l.event === 'skipped'))
    assert.equal(line?.event, 'fulfilled', result.stderr)
    assert.equal(line?.status, 'existing')
    assert.doesNotMatch(result.stderr, /someone else|another signer/)
  })
})

describe('imo serve: unusable state files are one-line errors (exit 2), never a hang', () => {
  it('a FIFO as the cursor, the journal or its lock; a negative cursor; a cursor far beyond the head', async () => {
    const chain = await startChain()
    const cursor = cursorPath(31337, chain.collection, join(chain.dir, '.imo'))
    const journal = journalPath(31337, chain.anvil.accounts[0]!.address, join(chain.dir, '.imo'))
    const fifo = (path: string) => {
      mkdirSync(join(path, '..'), { recursive: true })
      execFileSync('mkfifo', [path])
    }
    const cases: Array<[string, () => void, RegExp]> = [
      [
        'cursor FIFO',
        () => fifo(cursor),
        /^error: cannot read the serve cursor .*\.json: it is a FIFO \(named pipe\), not a regular file$/,
      ],
      [
        'negative cursor',
        () =>
          writeFileSync(
            cursor,
            JSON.stringify({ format: 'imo-serve-cursor-v1', chainId: 31337, collection: chain.collection, nextBlock: '-5' }),
          ),
        /^error: the serve cursor .* has no valid next block \("-5": a block is a whole number, 0 or more\)$/,
      ],
      [
        'cursor beyond the head',
        () =>
          writeFileSync(
            cursor,
            JSON.stringify({
              format: 'imo-serve-cursor-v1',
              chainId: 31337,
              collection: chain.collection,
              nextBlock: '999999999',
            }),
          ),
        /^error: the serve cursor .* says block 999999999 is next, but the node's head is block \d+: it was not written on this chain \(or was edited\), and serving from it would skip every request before block 999999999$/,
      ],
      [
        'journal FIFO',
        () => fifo(journal),
        /^error: cannot read the journal .*\.jsonl: it is a FIFO \(named pipe\), not a regular file$/,
      ],
      [
        'journal lock FIFO',
        () => fifo(`${journal}.lock`),
        /^error: the journal lock .*\.lock is a FIFO \(named pipe\), not a regular file$/,
      ],
    ]
    const { id } = await chain.request(1, 'open while the state is broken')
    for (const [what, breakIt, message] of cases) {
      breakIt()
      const started = Date.now()
      const result = await runCli(['serve', '--until-idle', '--rpc-url', chain.anvil.rpcUrl], {
        cwd: chain.dir,
        env: { IMO_PRIVATE_KEY: chain.anvil.accounts[0]!.privateKey },
        timeoutMs: 20_000,
      })
      assert.ok(Date.now() - started < 15_000, `${what}: took ${Date.now() - started} ms`)
      assert.equal(result.code, 2, `${what}: ${result.stderr}`)
      const lines = oneLine(result)
      assert.match(lines[0]!, message, what)
      assert.ok(lines.length <= 2, `${what}: ${result.stderr}`)
      for (const path of [cursor, journal, `${journal}.lock`]) rmSync(path, { force: true })
    }
    assert.equal(await chain.status(id), STATUS.open, 'nothing was served from broken state')
    const healthy = await serveUntilIdle(chain)
    assert.equal(healthy.code, 0, healthy.stderr)
    assert.equal(await chain.status(id), STATUS.fulfilled)
  })
})

describe('imo serve: restarts and reorgs', () => {
  it('a restart does not log or count again what the last run logged in the watch window', async () => {
    const chain = await startChain()
    const ids = [(await chain.request(1, 'restart one')).id, (await chain.request(2, 'restart two')).id]
    const first = await serveUntilIdle(chain)
    assert.equal(first.code, 0, first.stderr)
    assert.equal(JSON.parse(first.stdout).fulfilled, 2)
    const second = await serveUntilIdle(chain)
    assert.equal(second.code, 0, second.stderr)
    const summary = JSON.parse(second.stdout)
    assert.deepEqual([summary.seen, summary.fulfilled, summary.skipped], [0, 0, 0], second.stderr)
    for (const id of ids)
      assert.ok(!second.lines.some((line) => line.requestId === String(id)), `request ${id} logged again:\n${second.stderr}`)
    // A new request after the restart is served and logged as usual.
    const late = await chain.request(3, 'after the restart')
    const third = await serveUntilIdle(chain)
    assert.deepEqual(
      third.lines.filter((line) => line.requestId !== undefined).map((line) => `${line.event} ${line.requestId}`),
      [`seen ${late.id}`, `fulfilled ${late.id}`],
    )
    // Runs from cron: once the chain is WATCH_DEPTH blocks further, a run moves the cursor past them all.
    const before = chain.cursor()!.nextBlock
    await chain.rpc('anvil_mine', ['0xd'])
    assert.equal((await serveUntilIdle(chain)).code, 0)
    const head = await chain.client.getBlockNumber()
    assert.equal(chain.cursor()!.nextBlock, head + 1n, `the cursor stayed at ${chain.cursor()!.nextBlock} (was ${before})`)
  })

  it("a reorg that hands a fulfilled request's id to another request: the other request is fulfilled, serve goes on", async () => {
    const chain = await startChain()
    const serve = spawnServe(chain)
    await serve.line('start', (l) => l.event === 'start' && l.fromBlock !== undefined)
    const snapshot = await chain.rpc('evm_snapshot')
    const gone = await chain.request(1, 'fulfilled, then reorganised away')
    await serve.line('the first request fulfilled', (l) => l.event === 'fulfilled' && l.requestId === String(gone.id))
    assert.equal(await chain.rpc('evm_revert', [snapshot]), true)
    const taker = await chain.request(2, 'takes the freed id')
    assert.equal(taker.id, gone.id, 'the id was handed to another request')
    await until(
      'the other request fulfilled',
      async () => ((await chain.status(taker.id)) === STATUS.fulfilled ? true : undefined),
      30_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${serve.stderr()}`)
    })
    assert.equal(serve.child.exitCode, null, `serve is still running:\n${serve.stderr()}`)
    assert.ok(!serve.lines.some((l) => l.event === 'failed'), serve.stderr())
    serve.child.kill('SIGTERM')
    assert.equal(await serve.exited, 0, serve.stderr())
    // And a later run starts cleanly too.
    const later = await serveUntilIdle(chain)
    assert.equal(later.code, 0, later.stderr)
  })
})

describe('imo request --wait after the request was fulfilled', () => {
  it('shows the token again (exit 0), sends nothing', async () => {
    const chain = await startChain()
    const prompt = 'asked twice with --wait'
    const recipient = chain.anvil.accounts[1]!.address
    const serve = spawnServe(chain)
    await serve.line('start', (l) => l.event === 'start' && l.fromBlock !== undefined)
    const ask = () =>
      runCli(['request', prompt, '--wait', '--timeout', '60', '--json', '--rpc-url', chain.anvil.rpcUrl], {
        cwd: chain.dir,
        env: { IMO_PRIVATE_KEY: chain.anvil.accounts[1]!.privateKey },
      })
    const first = await ask()
    assert.equal(first.code, 0, first.stderr)
    serve.child.kill('SIGTERM')
    await serve.exited
    const nonce = await chain.client.getTransactionCount({ address: recipient })
    const second = await ask()
    assert.equal(second.code, 0, second.stderr)
    const out = JSON.parse(second.stdout)
    assert.equal(out.status, 'fulfilled')
    assert.equal(out.requestId, JSON.parse(first.stdout).requestId)
    assert.equal(out.fulfilment.tokenIdHex, JSON.parse(first.stdout).fulfilment.tokenIdHex)
    assert.equal(out.verification.ok, true)
    assert.equal(await chain.client.getTransactionCount({ address: recipient }), nonce, 'nothing was sent')
  })
})

describe('imo serve --keep-outputs', () => {
  it('keeps the newest N folders whole and only the JSON files of older ones; a pruned token still verifies', async () => {
    const chain = await startChain()
    const ids: bigint[] = []
    for (const [index, prompt] of ['kept one', 'kept two', 'kept three'].entries()) {
      ids.push((await chain.request(index + 1, prompt)).id)
      assert.equal((await serveUntilIdle(chain, chain.dir, ['--keep-outputs', '1'])).code, 0)
    }
    const out = join(chain.dir, 'out')
    const folders = readdirSync(out).map((name) => ({ name, files: readdirSync(join(out, name)).sort() }))
    assert.equal(folders.length, 3)
    const whole = folders.filter((f) => f.files.includes('outputs.imt'))
    assert.equal(whole.length, 1, JSON.stringify(folders))
    assert.deepEqual(whole[0]!.files, [
      'image.npy',
      'image.png',
      'inputs.imt',
      'metadata.json',
      'mint.json',
      'outputs.imt',
      'outputs.json',
      'record.json',
    ])
    for (const folder of folders.filter((f) => f !== whole[0]))
      assert.deepEqual(folder.files, ['metadata.json', 'mint.json', 'record.json'])
    const pruned = folders.find((f) => f !== whole[0])!
    const mint = JSON.parse(readFileSync(join(out, pruned.name, 'mint.json'), 'utf8'))
    const verified = await chain.imo(['verify', '--token', mint.tokenIdHex, '--json'])
    assert.equal(verified.code, 0, verified.stderr)
    assert.equal(JSON.parse(verified.stdout).ok, true)
    assert.ok(existsSync(join(chain.dir, '.imo', 'serve', '31337', `${chain.collection.toLowerCase()}.outputs.json`)))
    const bad = await serveUntilIdle(chain, chain.dir, ['--keep-outputs', 'some'])
    assert.equal(bad.code, 2)
    assert.match(oneLine(bad)[0]!, /--keep-outputs/)
  })
})
