/**
 * The journal at scale through the engine (issue 21 item 29): once the live file passes the size,
 * a sending run moves the settled steps to the archive; a re-run of every step, archived or live,
 * sends nothing, the nonce is kept, and a prefix query still finds every step. Real anvil, in-process.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { privateKeyToAccount } from 'viem/accounts'
import { ARCHIVE_DEPTH } from '../src/chain/compactJournal.js'
import { type ChainContext, connectChain } from '../src/chain/connect.js'
import { archivePath, Journal } from '../src/chain/journal.js'
import { sendSteps } from '../src/chain/sendStep.js'
import type { TxStep } from '../src/chain/txStep.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { listSteps } from '../src/revenue/journalSteps.js'

describe('journal compaction through sendSteps', () => {
  let anvil: Anvil
  let root: string
  before(async () => {
    anvil = await startAnvil()
    root = mkdtempSync(join(tmpdir(), 'imo-journal-e2e-'))
  })
  after(async () => {
    await anvil.stop()
    rmSync(root, { recursive: true, force: true })
    delete process.env.IMO_TEST_JOURNAL_COMPACT_BYTES
  })

  it('120 settled steps: the live file shrinks to what a resume needs, and a re-run of all 120 sends nothing', async () => {
    const account = privateKeyToAccount(anvil.accounts[1]!.privateKey)
    const base = await connectChain({ rpcUrl: anvil.rpcUrl }, { signer: false })
    const ctx: ChainContext = { ...base, account, journal: Journal.open(base.chainId, account.address, join(root, '.imo')) }
    const step = (i: number): TxStep => ({
      id: `pay:${i}`,
      label: `pay ${i}`,
      to: account.address,
      data: '0x',
      value: BigInt(i + 1),
    })
    const all = Array.from({ length: 120 }, (_, i) => step(i))
    // Automine: a block per arrival, but transactions broadcast back to back may share one, so the
    // expected archive is counted from where they were really mined, not assumed one per block.
    const mined: number[] = []
    for (let i = 0; i < 120; i += 20)
      for (const outcome of await sendSteps(ctx, all.slice(i, i + 20))) mined.push(Number(outcome.receipt!.blockNumber))
    const newest = Math.max(...mined)
    const settled = mined.filter((block) => block + ARCHIVE_DEPTH <= newest).length
    assert.ok(settled >= 50, `${settled} steps 64 blocks below the newest receipt`)
    const nonce = await base.publicClient.getTransactionCount({ address: account.address })
    assert.equal(nonce, 120)
    const journal = ctx.journal!
    const before = statSync(journal.path).size

    process.env.IMO_TEST_JOURNAL_COMPACT_BYTES = String(Math.floor(before / 2))
    const outcomes = await sendSteps(ctx, all)
    assert.deepEqual(new Set(outcomes.map((o) => o.status)), new Set(['already-confirmed']))
    assert.equal(await base.publicClient.getTransactionCount({ address: account.address }), nonce, 'nothing sent')
    // Steps mined 64 blocks or more below the newest receipt moved (blocks 1..56 when one each).
    assert.equal(journal.archivedSteps(), settled)
    assert.ok(statSync(journal.path).size < before * 0.6, `${statSync(journal.path).size} < 0.6 * ${before}`)
    assert.equal(readFileSync(archivePath(journal.path), 'utf8').trim().split('\n').length, settled)
    assert.equal(journal.lastSignedNonce(), 119)
    assert.equal(listSteps(journal, 'pay:').length, 120)
    assert.equal(listSteps(journal, 'pay:').filter((s) => s.state === 'confirmed').length, 120)

    // A fresh process (a new Journal) re-runs them all: still nothing sent, and a new step gets the next nonce.
    const again: ChainContext = { ...ctx, journal: Journal.open(base.chainId, account.address, join(root, '.imo')) }
    const fresh = await sendSteps(again, [...all, step(120)])
    assert.equal(fresh.filter((o) => o.status === 'already-confirmed').length, 120)
    assert.equal(fresh.at(-1)!.status, 'sent')
    assert.equal(await base.publicClient.getTransactionCount({ address: account.address }), 121)
  })
})
