/**
 * A reorg that removes several mined steps of one batch (issue 21 item 27): two steps mined in blocks k
 * and k+1 with --confirmations 3, the first deep enough and journalled, then both removed (evm_revert,
 * which drops their transactions). The engine must not leave the second waiting behind a nonce gap:
 * while it waits, the first is broadcast again from the journal; and resendAfterReorg (what serve's
 * reorg check calls) re-sends a removed batch that nothing awaits, in nonce order. Real anvil, one
 * transaction per block (block gas limit 30,000), mined by the test.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import type { PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { type ChainContext, connectChain } from '../src/chain/connect.js'
import { Journal } from '../src/chain/journal.js'
import { resendAfterReorg } from '../src/chain/resendAfterReorg.js'
import { sendSteps } from '../src/chain/sendStep.js'
import type { TxStep } from '../src/chain/txStep.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('a reorg that removes two mined steps of one batch', () => {
  let anvil: Anvil
  let root: string
  let ctx: ChainContext
  let client: PublicClient
  const rpc = (method: string, params: unknown[] = []) => client.request({ method: method as never, params: params as never })
  const pending = async () =>
    Number((await rpc('txpool_status')) && ((await rpc('txpool_status')) as { pending: string }).pending)
  const until = async (check: () => Promise<boolean> | boolean, what: string) => {
    const deadline = Date.now() + 30_000
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await sleep(50)
    }
  }
  /** Mines a block every `ms` until stopped. */
  const mineEvery = (ms: number) => {
    let mining = true
    const loop = (async () => {
      while (mining) {
        await rpc('evm_mine')
        await sleep(ms)
      }
    })()
    return {
      stop: async () => {
        mining = false
        await loop
      },
    }
  }
  const step = (i: number): TxStep => ({
    id: `pay:${i}`,
    label: `pay ${i}`,
    to: ctx.account!.address,
    data: '0x',
    value: BigInt(i + 1),
  })

  beforeEach(async () => {
    anvil = await startAnvil({ noMining: true })
    root = mkdtempSync(join(tmpdir(), 'imo-reorg-'))
    const account = privateKeyToAccount(anvil.accounts[1]!.privateKey)
    const base = await connectChain({ rpcUrl: anvil.rpcUrl, confirmations: '3', timeout: '20' }, { signer: false })
    ctx = { ...base, account, journal: Journal.open(base.chainId, account.address, join(root, '.imo')) }
    client = base.publicClient
    await rpc('evm_setBlockGasLimit', ['0x7530'])
  })
  afterEach(async () => {
    await anvil.stop()
    rmSync(root, { recursive: true, force: true })
  })

  it('while the second is awaited: the first is broadcast again from the journal, both end mined', async () => {
    const snapshot = await rpc('evm_snapshot')
    const sending = sendSteps(ctx, [step(0), step(1)])
    sending.catch(() => {})
    await until(async () => (await pending()) === 2, 'both broadcast')
    for (let i = 0; i < 3; i++) await rpc('evm_mine') // blocks 1 and 2 hold them; block 3 makes the first 3 deep
    await until(() => ctx.journal!.all().some((r) => r.type === 'receipt' && r.id === 'pay:0'), 'the first journalled')
    assert.equal(await rpc('evm_revert', [snapshot]), true) // both gone, from the chain and the pool
    const miner = mineEvery(200)
    try {
      const outcomes = await sending
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['sent', 'sent'],
      )
      assert.equal(await client.getTransactionCount({ address: ctx.account!.address }), 2, 'both mined again')
    } finally {
      await miner.stop()
    }
  })

  it('nothing awaits them: resendAfterReorg re-sends both in nonce order, the same transactions', async () => {
    const miner = mineEvery(100)
    try {
      const snapshot = await rpc('evm_snapshot')
      const outcomes = await sendSteps(ctx, [step(0), step(1)])
      await miner.stop()
      assert.equal(await rpc('evm_revert', [snapshot]), true)
      assert.equal(await client.getTransactionCount({ address: ctx.account!.address }), 0)
      const result = await resendAfterReorg(ctx, { fromBlock: 1n })
      assert.deepEqual(result, { resent: ['pay:0', 'pay:1'], onChain: [], replaced: [] })
      await rpc('evm_mine')
      await rpc('evm_mine')
      for (const outcome of outcomes)
        assert.equal((await client.getTransactionReceipt({ hash: outcome.hash! })).status, 'success')
      // A second call finds them on chain and sends nothing.
      assert.deepEqual(await resendAfterReorg(ctx, { fromBlock: 1n }), { resent: [], onChain: ['pay:0', 'pay:1'], replaced: [] })
    } finally {
      await miner.stop()
    }
  })
})
