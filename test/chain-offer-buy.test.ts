/**
 * `imo offer buy` through faults (issue 21 items 25 and 32): a purchase interrupted between its
 * broadcast and its receipt (or before its broadcast) on a descending-price sale is resumed on re-run,
 * never bought twice although the price, and so the token amount --spend pays for, has fallen since;
 * an RPC that stops answering while the sale is read is exit 6, not an internal error.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Address, createPublicClient, http } from 'viem'
import { imoTokenAbi } from '../contracts-abi/index.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { startRpcProxy } from './helpers/rpcProxy.js'
import { type CliResult, runCli } from './helpers/runCli.js'

describe('imo offer buy through faults', () => {
  let anvil: Anvil
  let work: string
  let token: Address
  const imo = (args: string[], who: number, env: Record<string, string> = {}) =>
    runCli(args, { cwd: work, env: { IMO_PRIVATE_KEY: anvil.accounts[who]!.privateKey, IMO_RPC_URL: anvil.rpcUrl, ...env } })
  const json = (result: CliResult) => {
    assert.equal(result.code, 0, result.stderr)
    return JSON.parse(result.stdout)
  }
  const pub = () => createPublicClient({ transport: http(anvil.rpcUrl) })
  const warp = async (seconds: number) => {
    await pub().request({ method: 'evm_increaseTime' as never, params: [seconds] as never })
    await pub().request({ method: 'evm_mine' as never })
  }
  // No soft cap: the tokens are delivered at purchase.
  const bought = (who: number) =>
    pub().readContract({ address: token, abi: imoTokenAbi, functionName: 'balanceOf', args: [anvil.accounts[who]!.address] })
  /** The purchases signed in a buyer's own journal. */
  const signedBuys = (who: number) =>
    readFileSync(join(work, '.imo', 'journal', '31337', `${anvil.accounts[who]!.address.toLowerCase()}.jsonl`), 'utf8')
      .split('\n')
      .filter((line) => line.includes('"type":"signed"') && line.includes('"id":"offer-buy:'))
      .map((line) => JSON.parse(line) as { hash: string })

  before(async () => {
    anvil = await startAnvil()
    work = mkdtempSync(join(tmpdir(), 'imo-offer-buy-'))
    json(
      await imo(
        ['deploy', '--model-hash', `0x${'cd'.repeat(32)}`, '--name', 'S', '--symbol', 'SAL', '--supply', '1000000', '--json'],
        0,
      ),
    )
    const created = json(
      await imo(
        [
          'offer',
          'create',
          '--amount',
          '100000',
          '--start-price',
          '0.01',
          '--floor-price',
          '0.001',
          '--start',
          'now',
          '--duration',
          '7200',
          '--yes',
          '--json',
        ],
        0,
      ),
    )
    token = created.record.token
  })
  after(async () => {
    await anvil.stop()
    rmSync(work, { recursive: true, force: true })
  })

  for (const [who, point] of [
    [1, 'after-broadcast'],
    [2, 'after-journal'],
  ] as const)
    it(`--spend killed ${point === 'after-broadcast' ? 'between broadcast and receipt' : 'before its broadcast'}, re-run after the price fell: one purchase`, async () => {
      const args = ['offer', 'buy', '--spend', '1', '--yes', '--json']
      const crashed = await imo(args, who, { IMO_TEST_CRASH_AT: `${point}:offer-buy:` })
      assert.equal(crashed.signal, 'SIGKILL', crashed.stderr)
      const signed = signedBuys(who)
      assert.equal(signed.length, 1)
      await warp(3000) // the price falls by ~40 %: --spend 1 now pays for more tokens
      const resumed = json(await imo(args, who))
      assert.equal(resumed.status, 'resumed')
      assert.equal(resumed.txHash, signed.at(-1)!.hash, 'the very transaction that was signed')
      const tokens = await bought(who)
      assert.equal(BigInt(resumed.amountWei), tokens)
      assert.equal(await pub().getTransactionCount({ address: anvil.accounts[who]!.address }), 1, 'one transaction')
      // A third run is a new purchase, at the new price (a deliberate repeat): more tokens for the same spend.
      const again = json(await imo(args, who))
      assert.equal(again.status, 'sent')
      assert.ok(BigInt(again.amountWei) > tokens)
    })

  it('an RPC that stops answering while the sale is read: exit 6 naming it, nothing sent', async () => {
    const proxy = await startRpcProxy(anvil.rpcUrl, {
      drop: (call) => call.method !== 'eth_chainId' && call.method !== 'web3_clientVersion',
    })
    try {
      for (const args of [
        ['offer', 'buy', '10', '--yes'],
        ['offer', 'status'],
      ]) {
        const r = await imo([...args, '--rpc-url', proxy.url], 3)
        assert.equal(r.code, 6, `${args.join(' ')}: ${r.stderr}`)
        assert.match(r.stderr, /^error: cannot reach the RPC at http:\/\/127\.0\.0\.1:\d+/)
        assert.doesNotMatch(r.stderr, /\n\s+at /)
      }
      assert.equal(await pub().getTransactionCount({ address: anvil.accounts[3]!.address }), 0)
    } finally {
      await proxy.close()
    }
  })
})
