/**
 * The offering through the real CLI on a real anvil: fixed and descending sales with several buyers,
 * soft cap missed (refunds, tokens back) and met (withdraw, delivery, unsold back, revenue snapshotted
 * during the sale ends with the seller), caps and the allowlist, --max-price, the sale window, and bad
 * input refused with exit 2 before anything is sent. Every --json output is parsed.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Address, createPublicClient, getContractAddress, http, parseEther } from 'viem'
import { foundry } from 'viem/chains'
import { imoTokenAbi } from '../contracts-abi/index.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { type CliResult, runCli } from './helpers/runCli.js'

type Who = 0 | 1 | 2 | 3

describe('imo offer', () => {
  let anvil: Anvil
  let work: string
  let token: Address
  let A: Address
  const pub = () => createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl) })
  const imo = (args: string[], who: Who = 0, env: Record<string, string> = {}) =>
    runCli(args, { cwd: work, env: { IMO_PRIVATE_KEY: anvil.accounts[who].privateKey, IMO_RPC_URL: anvil.rpcUrl, ...env } })
  const json = (result: CliResult) => {
    assert.equal(result.code, 0, result.stderr)
    return JSON.parse(result.stdout)
  }
  const oneLineError = (result: CliResult, code: number, message: RegExp) => {
    assert.equal(result.code, code, `${result.stdout}\n${result.stderr}`)
    const first = result.stderr.split('\n').find((line) => line.startsWith('error: '))
    assert.ok(first, result.stderr)
    assert.match(first, message)
    assert.doesNotMatch(result.stderr, /\n\s+at /)
    assert.equal(result.stdout, '')
  }
  const rpc = async (method: string, params: unknown[]) => {
    const response = await fetch(anvil.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    })
    return ((await response.json()) as { result: unknown }).result
  }
  const warp = async (seconds: number) => {
    await rpc('evm_increaseTime', [seconds])
    await rpc('evm_mine', [])
  }
  const balanceOf = (who: Address) =>
    pub().readContract({ address: token, abi: imoTokenAbi, functionName: 'balanceOf', args: [who] })
  const address = (who: Who) => anvil.accounts[who].address
  const status = async () => json(await imo(['offer', 'status', '--json']))
  const create = (args: string[]) => imo(['offer', 'create', ...args, '--yes'])
  const buy = (who: Who, args: string[]) => imo(['offer', 'buy', ...args, '--yes'], who)

  before(async () => {
    anvil = await startAnvil()
    work = mkdtempSync(join(tmpdir(), 'imo-offer-'))
    A = address(0)
    const deployed = json(
      await imo([
        'deploy',
        '--model-hash',
        `0x${'cd'.repeat(32)}`,
        '--name',
        'Sale',
        '--symbol',
        'SAL',
        '--supply',
        '1000000',
        '--percent-claimable',
        '100',
        '--snapshot-interval',
        '60',
        '--json',
      ]),
    )
    token = deployed.imoToken.address
  })
  after(async () => {
    await anvil.stop()
    rmSync(work, { recursive: true, force: true })
  })

  it('refuses bad terms with one line and exit 2, sending nothing', async () => {
    const nonce = await pub().getTransactionCount({ address: A })
    writeFileSync(join(work, 'bad.csv'), `address,cap\n${address(1)},10\n0x1234,5\n`)
    writeFileSync(join(work, 'cols.csv'), `${address(1)},10,3\n`)
    execFileSync('mkfifo', [join(work, 'fifo.csv')])
    symlinkSync('/dev/zero', join(work, 'zero.csv'))
    const cases: Array<[string[], RegExp]> = [
      [
        ['--amount', '100', '--price', '0.01', '--start', '+2h', '--end', '+1h'],
        /^error: the sale must end after it starts: --start is .*\(in 2 h\), the end is .*\(in 1 h\)$/,
      ],
      [
        ['--amount', '100', '--start-price', '0.01', '--floor-price', '0.02', '--start', 'now', '--duration', '60'],
        /^error: --floor-price 0\.02 ETH is above --start-price 0\.01 ETH/,
      ],
      [['--amount', '0', '--price', '0.01', '--start', 'now', '--duration', '60'], /^error: --amount must be greater than zero$/],
      [
        ['--amount', '2000000', '--price', '0.01', '--start', 'now', '--duration', '60'],
        /^error: --amount 2000000 SAL is more than the 1000000 SAL that the seller 0x\w+ holds$/,
      ],
      [
        ['--amount', '100', '--price', '0.01', '--start', 'now', '--duration', '60', '--allowlist', join(work, 'bad.csv')],
        /^error: .*bad\.csv line 3: "0x1234" is not an address$/,
      ],
      [
        ['--amount', '100', '--price', '0.01', '--start', 'now', '--duration', '60', '--allowlist', join(work, 'cols.csv')],
        /^error: .*cols\.csv line 1: expected "address" or "address,cap", found 3 columns$/,
      ],
      // Not regular files: a FIFO hung create, /dev/zero filled memory (issue 21 item 6).
      [
        ['--amount', '100', '--price', '0.01', '--start', 'now', '--duration', '60', '--allowlist', join(work, 'fifo.csv')],
        /^error: cannot read --allowlist .*fifo\.csv: it is a FIFO \(named pipe\), not a regular file$/,
      ],
      [
        ['--amount', '100', '--price', '0.01', '--start', 'now', '--duration', '60', '--allowlist', join(work, 'zero.csv')],
        /^error: cannot read --allowlist .*zero\.csv: it is a device, not a regular file$/,
      ],
      // A duration beyond any date showed the end as NaN-NaN-NaN (issue 21 item 18).
      [
        ['--amount', '100', '--price', '0.01', '--start', 'now', '--duration', '99999999999999999999'],
        /^error: --duration must be at most 3153600000$/,
      ],
      [
        ['--amount', '100', '--price', '0.01', '--start', '+99999999999999d', '--duration', '60'],
        /^error: --start \+99999999999999d is out of range/,
      ],
      [
        ['--amount', '100', '--price', '0.01', '--start', 'tomorrow', '--duration', '60'],
        /^error: --start must be an ISO 8601 date-time/,
      ],
      [
        ['--amount', '100', '--start', 'now', '--duration', '60'],
        /^error: give --price ETH \(fixed\), or both --start-price ETH and --floor-price ETH/,
      ],
      [
        ['--amount', '100', '--price', '0.01', '--start', 'now', '--duration', '60', '--soft-cap', '2'],
        /^error: --soft-cap 2 ETH is more than selling everything raises \(1 ETH\)$/,
      ],
    ]
    for (const [args, message] of cases) oneLineError(await create(args), 2, message)
    assert.equal(await pub().getTransactionCount({ address: A }), nonce, 'nothing sent')
  })

  it('fixed price: several buyers, the window and --max-price enforced, unsold back, proceeds withdrawn', async () => {
    const created = json(
      await create(['--amount', '1000', '--price', '0.01', '--start', '+120s', '--duration', '3600', '--json']),
    )
    assert.equal(created.status, 'created')
    assert.equal(await balanceOf(created.record.sale), parseEther('1000'))
    oneLineError(
      await buy(1, ['100']),
      2,
      /^error: the sale opens \d{4}-\d\d-\d\dT[\d:]+[+-]\d\d:\d\d \(in (1|2) min.*\); nothing was sent$/,
    )
    await warp(120)
    const nonceB = await pub().getTransactionCount({ address: address(1) })
    const dry = json(await imo(['offer', 'buy', '10', '--dry-run', '--json'], 1))
    assert.equal(dry.status, 'dry-run')
    assert.equal(dry.costWei, parseEther('0.1').toString())
    oneLineError(
      await imo(['offer', 'buy', '10'], 1),
      2,
      /^error: missing confirmation for buying 10 SAL for 0\.1 ETH: pass --yes/,
    )
    assert.equal(await pub().getTransactionCount({ address: address(1) }), nonceB, 'nothing sent')
    const b = json(await buy(1, ['100', '--json']))
    assert.equal(b.costWei, parseEther('1').toString())
    const c = json(await buy(2, ['--spend', '2.5', '--json']))
    assert.equal(c.amount, parseEther('250').toString())
    oneLineError(
      await buy(3, ['10', '--max-price', '0.005']),
      2,
      /^error: the price is 0\.01 ETH per token, above --max-price 0\.005 ETH; nothing was sent$/,
    )
    assert.equal(await balanceOf(address(1)), parseEther('100'), 'delivered at purchase')
    const s = await status()
    assert.equal(s.sold, parseEther('350').toString())
    assert.equal(s.raisedWei, parseEther('3.5').toString())
    assert.equal(s.phase, 'open')
    const screen = json(await imo(['status', '--json']))
    assert.equal(screen.offering.sale, created.record.sale, 'imo status shows the running offering')
    assert.equal(screen.offering.sold, parseEther('350').toString())
    assert.match(
      (await imo(['status'])).stdout,
      /Offering\n {2}sale +0x\w+\n {2}status +open, ends .*\n {2}price +0\.01 ETH per token \(fixed\)/,
    )
    await warp(3600)
    oneLineError(await buy(3, ['10']), 2, /^error: the sale ended .*\(\d+ s ago\); nothing was sent$/)
    const sellerBefore = await pub().getBalance({ address: A })
    const done = json(await imo(['offer', 'finalize', '--json']))
    assert.deepEqual(
      done.steps.map((x: { action: string }) => x.action),
      ['finalize', 'withdraw'],
    )
    assert.equal(done.returned, parseEther('650').toString())
    assert.equal(done.paidWei, parseEther('3.5').toString())
    assert.ok((await pub().getBalance({ address: A })) > sellerBefore)
    assert.equal(await pub().getBalance({ address: created.record.sale }), 0n)
    assert.equal(await balanceOf(created.record.sale), 0n)
  })

  it('descending price: each buyer pays its block, never below the floor', async () => {
    const records = join(work, '.imo', 'deployments', '31337')
    const finalizedSale = JSON.parse(readFileSync(join(records, 'default.offer.json'), 'utf8')).sale
    const second = json(
      await create([
        '--amount',
        '1000',
        '--start-price',
        '0.1',
        '--floor-price',
        '0.02',
        '--start',
        'now',
        '--duration',
        '600',
        '--json',
      ]),
    )
    // The finalized sale's record is kept beside the new one, not replaced (issue 21 item 19).
    assert.equal(second.archived.sale, finalizedSale)
    assert.equal(second.archived.recordPath, join(records, `default.offer.${finalizedSale}.json`))
    const kept = JSON.parse(readFileSync(second.archived.recordPath, 'utf8'))
    assert.equal(kept.sale, finalizedSale)
    assert.equal(kept.status, 'created')
    assert.notEqual(second.record.sale, finalizedSale)
    const prices: bigint[] = []
    for (const [who, wait] of [
      [1, 0],
      [2, 200],
      [3, 300],
    ] as Array<[Who, number]>) {
      await warp(wait)
      const r = json(await buy(who, ['10', '--max-price', '0.1', '--json']))
      prices.push(BigInt(r.priceWei))
      assert.equal(BigInt(r.costWei), (BigInt(r.priceWei) * 10n * 10n ** 18n + 10n ** 18n - 1n) / 10n ** 18n)
    }
    assert.ok(prices[0]! > prices[1]! && prices[1]! > prices[2]!, `falling: ${prices}`)
    for (const p of prices) assert.ok(p >= parseEther('0.02'), 'not below the floor')
    await warp(600)
    const s = await status()
    assert.equal(s.priceWei, parseEther('0.02').toString(), 'the floor after the end')
    json(await imo(['offer', 'finalize', '--json']))
  })

  it('soft cap missed: every buyer refunded, all tokens back with the seller', async () => {
    const sellerTokens = await balanceOf(A)
    const buyerTokens = await balanceOf(address(1))
    const created = json(
      await create(['--amount', '1000', '--price', '0.01', '--start', 'now', '--duration', '300', '--soft-cap', '5', '--json']),
    )
    json(await buy(1, ['100', '--json']))
    json(await buy(2, ['200', '--json']))
    assert.equal(await balanceOf(address(1)), buyerTokens, 'unchanged: delivery waits for the soft cap')
    oneLineError(await imo(['offer', 'refund'], 1), 2, /^error: the sale is still open: it ends .*; nothing was sent$/)
    await warp(300)
    const r1 = json(await imo(['offer', 'refund', '--json'], 1))
    assert.deepEqual(
      r1.steps.map((x: { action: string }) => x.action),
      ['finalize', 'refund'],
    )
    assert.equal(r1.paidWei, parseEther('1').toString())
    assert.equal(json(await imo(['offer', 'refund', '--json'], 2)).paidWei, parseEther('2').toString())
    oneLineError(await imo(['offer', 'refund'], 1), 2, /has nothing to refund/)
    assert.equal(await balanceOf(A), sellerTokens, 'tokens back with the seller')
    assert.equal(await pub().getBalance({ address: created.record.sale }), 0n)
  })

  it('soft cap met: withdraw with the revenue snapshotted during the sale, delivery, unsold back', async () => {
    const created = json(
      await create([
        '--amount',
        '100000',
        '--price',
        '0.0001',
        '--start',
        'now',
        '--duration',
        '300',
        '--soft-cap',
        '1',
        '--json',
      ]),
    )
    const sale = created.record.sale as Address
    json(await buy(1, ['10000', '--json']))
    json(await buy(2, ['5000', '--json']))
    // Revenue arrives and is snapshotted while 100,000 of 1,000,000 tokens sit in the sale.
    json(await imo(['revenue', 'deposit', '10', '--json'], 3))
    await warp(60)
    json(await imo(['snapshot', '--yes', '--json'], 3))
    await warp(1) // claims on a snapshot open the second after it (flash-loan-safe snapshots)
    const share = (await pub().readContract({
      address: token,
      abi: imoTokenAbi,
      functionName: 'claimableRevenue',
      args: [sale, 1n],
    })) as bigint
    assert.equal(share, parseEther('1'), "the sale's 10 % of the snapshot")
    await warp(300)
    oneLineError(await imo(['offer', 'refund'], 1), 2, /met its soft cap/)
    const done = json(await imo(['offer', 'finalize', '--json']))
    assert.equal(done.returned, parseEther('85000').toString(), 'unsold back')
    assert.equal(done.paidWei, (parseEther('1.5') + share).toString(), 'proceeds and revenue to the seller')
    const took = json(await imo(['offer', 'withdraw', '--json'], 1))
    assert.equal(took.tokens, parseEther('10000').toString())
    json(await imo(['offer', 'withdraw', '--json'], 2))
    assert.equal(await balanceOf(sale), 0n)
    assert.equal(await pub().getBalance({ address: sale }), 0n)
  })

  it('caps and the allowlist: over-cap names what is left, off-list refused, a proof for another address fails', async () => {
    writeFileSync(join(work, 'list.csv'), `address,cap\n${address(1)},50\n${address(2)}\n`)
    const created = json(
      await create([
        '--amount',
        '1000',
        '--price',
        '0.01',
        '--start',
        'now',
        '--duration',
        '300',
        '--max-per-address',
        '80',
        '--allowlist',
        join(work, 'list.csv'),
        '--json',
      ]),
    )
    assert.ok(created.allowlistPath)
    json(await buy(1, ['40', '--json']))
    oneLineError(
      await buy(1, ['20']),
      2,
      new RegExp(`^error: ${address(1)} may buy 10 SAL more \\(cap 50 SAL, bought 40 SAL\\), not 20 SAL; nothing was sent$`),
    )
    oneLineError(await buy(2, ['81']), 2, /may buy 80 SAL more \(cap 80 SAL, bought 0 SAL\)/)
    json(await buy(2, ['80', '--json']))
    oneLineError(await buy(3, ['1']), 2, new RegExp(`^error: ${address(3)} is not on the sale's allowlist`))
    // Account 3 takes account 1's cap and proof: the contract refuses it.
    const proofs = JSON.parse(readFileSync(created.allowlistPath, 'utf8'))
    proofs.entries[address(3)] = proofs.entries[address(1)]
    writeFileSync(join(work, 'stolen.json'), JSON.stringify(proofs))
    oneLineError(
      await buy(3, ['1', '--proof-file', join(work, 'stolen.json')]),
      3,
      /NotAllowlisted\(0x\w+, 50000000000000000000\)/,
    )
    // A proofs file that is a FIFO or /dev/zero is refused before it is read; a bad proof is one line (issue 21 items 6, 18).
    execFileSync('mkfifo', [join(work, 'proofs.fifo')])
    symlinkSync('/dev/zero', join(work, 'proofs-zero.json'))
    oneLineError(
      await buy(1, ['1', '--proof-file', join(work, 'proofs.fifo')]),
      2,
      /^error: cannot read proofs file .*proofs\.fifo: it is a FIFO \(named pipe\), not a regular file$/,
    )
    oneLineError(
      await buy(1, ['1', '--proof-file', join(work, 'proofs-zero.json')]),
      2,
      /^error: cannot read proofs file .*proofs-zero\.json: it is a device, not a regular file$/,
    )
    const notHex = JSON.parse(readFileSync(created.allowlistPath, 'utf8'))
    notHex.entries[address(1)].proof = ['0xnothex']
    writeFileSync(join(work, 'nothex.json'), JSON.stringify(notHex))
    oneLineError(
      await buy(1, ['1', '--proof-file', join(work, 'nothex.json')]),
      2,
      /^error: .*nothex\.json: the entry of "0x\w+" has a proof that is not a list of 32-byte hex values$/,
    )
    await warp(300)
    json(await imo(['offer', 'finalize', '--json']))
  })

  it("the sale's own revenue: shown waiting, collected by anyone once (claim-revenue), the rest collected by the seller's withdraw", async () => {
    const created = json(
      await create(['--amount', '100000', '--price', '0.0001', '--start', 'now', '--duration', '3000', '--json']),
    )
    const sale = created.record.sale as Address
    json(await buy(1, ['10000', '--json'])) // no soft cap: delivered at once, 0.0001 * 10,000 = 1 ETH raised
    /** Revenue in, a snapshot, its claims open (from the second after it): the sale's share of it. */
    const snapshotRevenue = async () => {
      json(await imo(['revenue', 'deposit', '10', '--json'], 3))
      await warp(60)
      json(await imo(['snapshot', '--yes', '--json'], 3))
      await warp(1)
      const id = await pub().readContract({ address: token, abi: imoTokenAbi, functionName: 'currentSnapshotId' })
      return (await pub().readContract({
        address: token,
        abi: imoTokenAbi,
        functionName: 'claimableRevenue',
        args: [sale, id],
      })) as bigint
    }
    const share = await snapshotRevenue()
    assert.ok(share > 0n, 'the sale holds 90,000 tokens: it has a share')
    const before = json(await imo(['offer', 'status', '--sale', sale, '--json']))
    assert.equal(BigInt(before.pendingRevenueWei), share)
    assert.match(
      (await imo(['offer', 'status', '--sale', sale])).stdout,
      /revenue waiting .* imo offer claim-revenue collects it/,
    )

    const collected = json(await imo(['offer', 'claim-revenue', '--sale', sale, '--json'], 3)) // anyone
    assert.deepEqual(
      collected.steps.map((step: { action: string }) => step.action),
      ['claimRevenue'],
    )
    assert.equal(BigInt(collected.collectedWei), share)
    assert.equal(BigInt(collected.state.pendingRevenueWei), 0n)
    assert.equal(BigInt(collected.state.revenueCollectedWei), share)
    const again = await imo(['offer', 'claim-revenue', '--sale', sale], 3)
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /^nothing to collect: no revenue of the sale's tokens is waiting in the token$/m)

    // Another snapshot's share is still waiting when the seller withdraws: it is collected first.
    const second = await snapshotRevenue()
    assert.ok(second > 0n)
    const withdrawn = json(await imo(['offer', 'withdraw', '--sale', sale, '--json']))
    assert.deepEqual(
      withdrawn.steps.map((step: { action: string }) => step.action),
      ['claimRevenue', 'withdraw'],
    )
    assert.equal(BigInt(withdrawn.paidWei), parseEther('1') + share + second, 'proceeds and both shares')
    assert.equal(await pub().getBalance({ address: sale }), 0n)
    await warp(3000)
    json(await imo(['offer', 'finalize', '--sale', sale, '--json']))
  })

  it('a crash right after broadcasting the deployment resumes the same sale, with the same times', async () => {
    const nonce = await pub().getTransactionCount({ address: A })
    const args = ['offer', 'create', '--amount', '10', '--price', '0.01', '--start', '+1h', '--duration', '600', '--yes']
    const crashed = await imo(args, 0, { IMO_TEST_CRASH_AT: 'after-broadcast:offer:' })
    assert.equal(crashed.signal, 'SIGKILL', crashed.stderr)
    // The sale exists but was never funded: settling it, or collecting its revenue, is refused plainly.
    const unfunded = getContractAddress({ from: A, nonce: BigInt(nonce) })
    assert.notEqual(await pub().getCode({ address: unfunded }), undefined, 'the crash left the sale deployed')
    for (const [command, reason] of [
      ['claim-revenue', 'it holds no tokens'],
      ['finalize', 'nothing to settle'],
    ] as const) {
      const refused = await imo(['offer', command, '--sale', unfunded])
      assert.equal(refused.code, 2, refused.stderr)
      const lines = refused.stderr.split('\n').filter((line) => line.startsWith('error:'))
      assert.deepEqual(lines, [`error: the sale ${unfunded} was never funded: ${reason}`], refused.stderr)
    }
    await warp(30) // "+1h" now means another time: the pending record keeps the first one
    const resumed = json(await imo([...args, '--json']))
    assert.equal(resumed.status, 'created')
    assert.equal(await pub().getTransactionCount({ address: A }), nonce + 3, 'one deploy, one approve, one fund')
    assert.equal(await balanceOf(resumed.record.sale), parseEther('10'))
    assert.equal(json(await imo([...args, '--json'])).status, 'existing', 'a third run changes nothing')
  })
})
