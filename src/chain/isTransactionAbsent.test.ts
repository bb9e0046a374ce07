import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createPublicClient, createWalletClient, http, type PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { type Anvil, startAnvil } from '../devnet/startAnvil.js'
import { isTransactionAbsent } from './isTransactionAbsent.js'
import { journalledSuccess } from './journalledSuccess.js'

describe('what the node says of a journalled transaction (real anvil)', () => {
  let anvil: Anvil
  let client: PublicClient
  let mined: `0x${string}`
  const unknown = `0x${'ab'.repeat(32)}` as const
  before(async () => {
    anvil = await startAnvil()
    client = createPublicClient({ transport: http(anvil.rpcUrl) }) as PublicClient
    const wallet = createWalletClient({
      account: privateKeyToAccount(anvil.accounts[0]!.privateKey),
      transport: http(anvil.rpcUrl),
    })
    mined = await wallet.sendTransaction({ to: anvil.accounts[1]!.address, value: 1n, chain: null })
    await client.waitForTransactionReceipt({ hash: mined })
  })
  after(() => anvil.stop())

  it('isTransactionAbsent: false for a mined transaction, true for one the node never saw', async () => {
    assert.equal(await isTransactionAbsent(client, mined), false)
    assert.equal(await isTransactionAbsent(client, unknown), true)
  })

  it('isTransactionAbsent: a node that cannot answer is not "absent"', async () => {
    const dead = createPublicClient({ transport: http('http://127.0.0.1:9', { retryCount: 0 }) }) as PublicClient
    assert.equal(await isTransactionAbsent(dead, unknown), false)
  })

  it('journalledSuccess: the journal receipt, else the chain; nothing signed or not mined is undefined; a dead node throws', async () => {
    const signed = { type: 'signed', id: 's', nonce: 0, hash: mined, raw: '0x', gas: '21000', at: '' } as const
    const receipt = (status: 'success' | 'reverted') =>
      ({ type: 'receipt', id: 's', hash: mined, status, blockNumber: '1', blockHash: '0x', gasUsed: '1', at: '' }) as never
    assert.equal(await journalledSuccess(client, {}), undefined)
    assert.equal(await journalledSuccess(client, { signed }), mined, 'from the chain')
    assert.equal(await journalledSuccess(client, { signed, receipt: receipt('reverted') }), undefined, 'from the journal')
    assert.equal(await journalledSuccess(client, { signed: { ...signed, hash: unknown } }), undefined)
    const dead = createPublicClient({ transport: http('http://127.0.0.1:9', { retryCount: 0 }) }) as PublicClient
    await assert.rejects(journalledSuccess(dead, { signed }))
  })
})
