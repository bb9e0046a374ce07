/**
 * Two parts of one process sending from one signer at once: `imo serve --http` fulfils on-chain
 * requests (mintRecords -> sendSteps) while its x402 facilitator settles API payments (sendSteps) with
 * the same key and journal. Nonces come from the chain's pending count plus the call's own in-flight
 * steps, so overlapping sendSteps calls must not pick the same nonce: each step is sent once, with its
 * own nonce, and every call succeeds. Real anvil with 1-second blocks (the calls overlap while they wait).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { type ChainContext, connectChain } from '../src/chain/connect.js'
import { Journal } from '../src/chain/journal.js'
import { sendSteps } from '../src/chain/sendSteps.js'
import type { TxStep } from '../src/chain/txStep.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'

describe('overlapping sendSteps calls on one journal', () => {
  let anvil: Anvil
  let root: string
  before(async () => {
    anvil = await startAnvil({ blockTime: 1 })
    root = mkdtempSync(join(tmpdir(), 'imo-concurrent-sends-'))
  })
  after(async () => {
    await anvil.stop()
    rmSync(root, { recursive: true, force: true })
  })

  it('six calls at once, two steps each: twelve transactions, nonces 0-11, no conflict, in one or two blocks', async () => {
    const account = privateKeyToAccount(anvil.accounts[1]!.privateKey)
    const base = await connectChain({ rpcUrl: anvil.rpcUrl }, { signer: false })
    const ctx: ChainContext = { ...base, account, journal: Journal.open(base.chainId, account.address, join(root, '.imo')) }
    // Distinct values: identical transactions at one nonce would share a hash and hide a conflict.
    const step = (call: number, i: number): TxStep => ({
      id: `pay:${call}:${i}`,
      label: `pay ${call}/${i}`,
      to: anvil.accounts[2]!.address,
      data: '0x',
      value: BigInt(call * 10 + i + 1),
    })
    const calls = Array.from({ length: 6 }, (_, call) => sendSteps(ctx, [step(call, 0), step(call, 1)]))
    const settled = await Promise.allSettled(calls)
    const failures = settled.flatMap((s) => (s.status === 'rejected' ? [(s.reason as Error).message] : []))
    assert.deepEqual(failures, [])
    const outcomes = settled.flatMap((s) => (s.status === 'fulfilled' ? s.value : []))
    assert.deepEqual(new Set(outcomes.map((o) => o.status)), new Set(['sent']))
    const hashes = new Set(outcomes.map((o) => o.hash as Hex))
    assert.equal(hashes.size, 12)
    const nonces = await Promise.all([...hashes].map(async (hash) => (await base.publicClient.getTransaction({ hash })).nonce))
    assert.deepEqual(
      nonces.sort((a, b) => a - b),
      Array.from({ length: 12 }, (_, i) => i),
    )
    assert.equal(await base.publicClient.getTransactionCount({ address: account.address }), 12)
    // They take turns only until broadcast, then wait side by side: a block or two for all, not one per call.
    const blocks = new Set(
      await Promise.all([...hashes].map(async (hash) => (await base.publicClient.getTransactionReceipt({ hash })).blockNumber)),
    )
    assert.ok(blocks.size <= 2, `the twelve transactions were mined in ${blocks.size} blocks`)
    assert.equal(ctx.journal!.isLocked(), false, 'the journal lock is released once every call is done')
  })
})
