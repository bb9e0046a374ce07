/**
 * The ERC-7641 revenue life cycle through the real CLI on a real anvil: deposit, snapshot (refused by
 * the interval, then allowed after evm_increaseTime), claims by two holders whose balances changed
 * after the snapshot, claimBatch over several snapshots, rollover after the claim window, redeem,
 * nothing to claim, crash-resume of deposits, and the bad inputs. Every --json output is parsed.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Address, createPublicClient, createWalletClient, http, parseEther, toFunctionSelector } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { imoTokenAbi } from '../contracts-abi/index.js'
import { formatLocalIso } from '../src/cli/time.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { type CliResult, runCli } from './helpers/runCli.js'

const ETH = 10n ** 18n

describe('imo revenue deposit / snapshot / claimable / claim / redeem', () => {
  let anvil: Anvil
  let work: string
  let token: Address
  let A: Address
  let B: Address
  const keyOf = (who: 'A' | 'B') => anvil.accounts[who === 'A' ? 0 : 1].privateKey
  const pub = () => createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl) })
  const imo = (args: string[], who: 'A' | 'B' = 'A', env: Record<string, string> = {}) =>
    runCli(args, { cwd: work, env: { IMO_PRIVATE_KEY: keyOf(who), IMO_RPC_URL: anvil.rpcUrl, ...env } })
  const json = (result: CliResult) => {
    assert.equal(result.code, 0, result.stderr)
    return JSON.parse(result.stdout)
  }
  const read = (functionName: string, args: unknown[] = []) =>
    pub().readContract({ address: token, abi: imoTokenAbi, functionName, args } as never) as Promise<never>
  const rpc = async (method: string, params: unknown[]) => {
    const response = await fetch(anvil.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    })
    return ((await response.json()) as { result: unknown }).result
  }
  /** Moves the chain's clock with anvil's own methods and mines a block at the new time. */
  const warp = async (seconds: number) => {
    await rpc('evm_increaseTime', [seconds])
    await rpc('evm_mine', [])
  }
  const transfer = async (to: Address, tokens: bigint) => {
    const wallet = createWalletClient({ chain: foundry, transport: http(anvil.rpcUrl), account: privateKeyToAccount(keyOf('A')) })
    const hash = await wallet.writeContract({
      address: token,
      abi: imoTokenAbi,
      functionName: 'transfer',
      args: [to, tokens * ETH],
    })
    assert.equal((await pub().waitForTransactionReceipt({ hash })).status, 'success')
  }
  const nonce = (who: Address) => pub().getTransactionCount({ address: who })
  const oneLineError = (result: CliResult, code: number, message: string | RegExp) => {
    assert.equal(result.code, code, `${result.stdout}\n${result.stderr}`)
    const first = result.stderr.split('\n').find((line) => line.startsWith('error: '))
    assert.ok(first, result.stderr)
    if (typeof message === 'string') assert.equal(first, `error: ${message}`)
    else assert.match(first, message)
    assert.doesNotMatch(result.stderr, /\n\s+at /)
  }

  before(async () => {
    anvil = await startAnvil()
    work = mkdtempSync(join(tmpdir(), 'imo-revenue-'))
    A = anvil.accounts[0].address
    B = anvil.accounts[1].address
    const deployed = json(
      await imo([
        'deploy',
        '--model-hash',
        `0x${'ab'.repeat(32)}`,
        '--name',
        'Rev',
        '--symbol',
        'REV',
        '--supply',
        '1000',
        '--percent-claimable',
        '50',
        '--snapshot-interval',
        '60',
        '--claim-window',
        '2',
        '--json',
      ]),
    )
    token = deployed.imoToken.address
    await transfer(B, 250n) // A 750, B 250
  })
  after(async () => {
    await anvil.stop()
    rmSync(work, { recursive: true, force: true })
  })

  it('refuses negative, zero, malformed and over-precise amounts before connecting (exit 2)', async () => {
    const before = await nonce(A)
    const cases: Array<[string[], string]> = [
      [['revenue', 'deposit', '-1'], 'AMOUNT must be positive, not "-1"'],
      [['revenue', 'deposit', '0'], 'AMOUNT must be greater than zero'],
      [['revenue', 'deposit', '1.2.3'], 'AMOUNT must be a decimal number like 1.5, not "1.2.3"'],
      [['revenue', 'deposit', 'ten'], 'AMOUNT must be a decimal number like 1.5, not "ten"'],
      [['revenue', 'deposit', '0.0000000000000000001'], 'AMOUNT has more than 18 decimals: "0.0000000000000000001"'],
      [['redeem', '-5', '--yes'], 'AMOUNT must be positive, not "-5"'],
      [['redeem', '0', '--yes'], 'AMOUNT must be greater than zero'],
      [['redeem', '1e3', '--yes'], 'AMOUNT must be a decimal number like 1.5, not "1e3"'],
    ]
    for (const [args, message] of cases) {
      const result = await imo([...args, '--rpc-url', 'http://127.0.0.1:1'])
      oneLineError(result, 2, message)
      assert.equal(result.stdout, '')
    }
    const withJson = await imo(['revenue', 'deposit', '0', '--json'])
    assert.equal(withJson.code, 2)
    assert.deepEqual(JSON.parse(withJson.stdout).error, {
      name: 'UsageError',
      message: 'AMOUNT must be greater than zero',
      exitCode: 2,
    })
    assert.equal(await nonce(A), before)
  })

  it('refuses a deposit above the balance (exit 8) and a snapshot before the interval (exit 3), sending nothing', async () => {
    const before = await nonce(A)
    const rich = await imo(['revenue', 'deposit', '20000'])
    oneLineError(
      rich,
      8,
      /^error: 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 holds 99\d\d\.\d+ ETH, less than the 20000 ETH to deposit; nothing was sent$/,
    )
    const early = await imo(['snapshot', '--yes', '--json'])
    const next = Number(await read('nextSnapshotTimestamp'))
    oneLineError(
      early,
      3,
      new RegExp(
        `^error: too early for snapshot 1: the interval allows it from ${formatLocalIso(next).replace('+', '\\+')} \\(in (\\d+ s|1 min)\\); nothing was sent$`,
      ),
    )
    assert.equal(JSON.parse(early.stdout).error.exitCode, 3)
    assert.equal(await nonce(A), before)
    assert.equal(await read('currentSnapshotId'), 0n)
  })

  it('deposits revenue; the same amount again in the period needs a new --key', async () => {
    const first = json(await imo(['revenue', 'deposit', '1', '--json']))
    assert.equal(first.status, 'sent')
    assert.equal(first.amountWei, String(ETH))
    assert.equal(first.pendingRevenueWei, String(ETH))
    assert.equal(first.symbol, 'ETH')
    assert.equal(await read('pendingRevenue'), ETH)

    const repeat = await imo(['revenue', 'deposit', '1'])
    oneLineError(repeat, 2, /already deposited 1 ETH in this snapshot period \(1x, last 0x[0-9a-f]{64}\); nothing was sent$/)
    assert.match(
      repeat.stderr,
      /\nhint: a re-run after an interruption resumes by itself; to do it once more on purpose pass a new --key/,
    )
    assert.equal(await read('pendingRevenue'), ETH)
    // --again is gone: an unknown option.
    assert.equal((await imo(['revenue', 'deposit', '1', '--again'])).code, 2)

    const again = json(await imo(['revenue', 'deposit', '1', '--key', 'second-of-the-day', '--json']))
    assert.equal(again.status, 'sent')
    assert.notEqual(again.stepId, first.stepId)
    assert.equal(again.earlierSameAmount.length, 1)
    assert.equal(await read('pendingRevenue'), 2n * ETH)

    const human = await imo(['revenue', 'deposit', '0.001'])
    assert.equal(human.code, 0, human.stderr)
    assert.match(
      human.stdout,
      /^Deposited 0\.001 ETH to the IMO token 0x[0-9a-fA-F]{40}\n {2}transaction {6}0x[0-9a-f]{64} \(block \d+, fee [\d.]+ ETH\)\n {2}pending revenue {2}2\.001 ETH, split at the next snapshot\n$/,
    )
  })

  it('re-running an interrupted deposit resumes it instead of depositing twice', async () => {
    // Killed after the broadcast: the deposit went through, the receipt was never journalled.
    const crashed = await imo(['revenue', 'deposit', '0.5'], 'A', { IMO_TEST_CRASH_AT: 'after-broadcast:deposit:' })
    assert.equal(crashed.signal, 'SIGKILL')
    assert.equal(await read('pendingRevenue'), parseEther('2.501'))
    const resumed = json(await imo(['revenue', 'deposit', '0.5', '--json']))
    assert.equal(resumed.status, 'resumed')
    assert.equal(await read('pendingRevenue'), parseEther('2.501'))

    // Killed after journalling the signed transaction, before broadcasting it; a keyed re-run resumes it too.
    const before = await nonce(A)
    const crashed2 = await imo(['revenue', 'deposit', '0.5', '--key', 'k2'], 'A', { IMO_TEST_CRASH_AT: 'after-journal:deposit:' })
    assert.equal(crashed2.signal, 'SIGKILL')
    assert.equal(await nonce(A), before)
    const resumed2 = json(await imo(['revenue', 'deposit', '0.5', '--key', 'k2', '--json']))
    assert.equal(resumed2.status, 'resumed')
    assert.notEqual(resumed2.stepId, resumed.stepId)
    assert.equal(await nonce(A), before + 1)
    assert.equal(await read('pendingRevenue'), parseEther('3.001'))
    const journal = readFileSync(join(work, '.imo', 'journal', '31337', `${A.toLowerCase()}.jsonl`), 'utf8')
    assert.equal(
      journal.split('\n').filter((line) => line.includes(`"id":"${resumed2.stepId}"`) && line.includes('"type":"signed"')).length,
      1,
    )
  })

  it('takes a snapshot once the interval allows it, with --yes when there is no terminal', async () => {
    await warp(61)
    const noYes = await imo(['snapshot'])
    oneLineError(noYes, 2, 'missing confirmation for snapshot 1: pass --yes (no terminal to ask on)')
    const taken = json(await imo(['snapshot', '--yes', '--json']))
    assert.equal(taken.status, 'sent')
    assert.equal(taken.snapshotId, 1)
    assert.equal(taken.pendingRevenueWei, String(parseEther('3.001')))
    assert.equal(taken.toClaimPoolWei, String(parseEther('1.5005')))
    assert.equal(taken.toRedemptionWei, String(parseEther('1.5005')))
    assert.equal(taken.claimPoolWei, String(parseEther('1.5005')))
    assert.equal(await read('currentSnapshotId'), 1n)
    assert.equal(await read('pendingRevenue'), 0n)
    assert.equal(await read('redemptionPool'), parseEther('1.5005'))
    // A snapshot holds the balances at the end of its second, and claims on it open the second after:
    // let that second end (anvil mines blocks of the same second with one timestamp).
    await warp(1)
    // Right after it, the interval refuses the next one and says exactly when.
    const [, , , takenAt] = (await read('snapshotInfo', [1n])) as unknown as [bigint, bigint, bigint, bigint]
    const early = await imo(['snapshot', '--yes'])
    oneLineError(
      early,
      3,
      new RegExp(
        `^error: too early for snapshot 2: the interval allows it from ${formatLocalIso(Number(takenAt) + 60).replace('+', '\\+')} \\(in `,
      ),
    )
  })

  it('claims by balances at the snapshot, not the balances after it', async () => {
    await transfer(B, 250n) // now A 500, B 500; at snapshot 1: A 750, B 250
    const forA = json(await imo(['claimable', '--json']))
    assert.equal(forA.holder, A)
    assert.deepEqual(
      forA.snapshots.map((s: { id: number; amountWei: string; expiresWithSnapshot: number }) => [
        s.id,
        s.amountWei,
        s.expiresWithSnapshot,
      ]),
      [[1, String(parseEther('1.125375')), 3]],
    )
    const forB = json(await imo(['claimable', B.toLowerCase(), '--json']))
    assert.equal(forB.holder, B)
    assert.equal(forB.totalWei, String(parseEther('0.375125')))
    assert.equal(forB.totalWei, String(await read('claimableRevenue', [B, 1n])))
    const human = await imo(['claimable', B])
    assert.match(human.stdout, /snapshot +amount +expires \(rolls over\)\n +1 +0\.375125 ETH +with snapshot 3, not before \d{4}-/)
    assert.match(human.stdout, /total +0\.375125 ETH/)

    const balanceBefore = await pub().getBalance({ address: A })
    const claimed = json(await imo(['claim', '--json']))
    assert.equal(claimed.status, 'sent')
    assert.deepEqual(claimed.snapshots, [{ id: 1, amountWei: String(parseEther('1.125375')) }])
    const receipt = await pub().getTransactionReceipt({ hash: claimed.txHash })
    assert.equal(
      await pub().getBalance({ address: A }),
      balanceBefore + parseEther('1.125375') - receipt.gasUsed * receipt.effectiveGasPrice,
    )
    assert.equal(await read('hasClaimed', [A, 1n]), true)

    const nothing = await imo(['claim'])
    assert.equal(nothing.code, 0, nothing.stderr)
    assert.equal(nothing.stdout, `Nothing to claim: ${A} has no revenue in the 1 live snapshot(s)\n`)
    const nothingJson = json(await imo(['claim', '--json']))
    assert.equal(nothingJson.status, 'nothing')
    assert.equal(nothingJson.totalWei, '0')
  })

  it('rolls an unclaimed snapshot over after the claim window and claims the rest in one claimBatch', async () => {
    json(await imo(['revenue', 'deposit', '2', '--json']))
    await warp(61)
    assert.equal(json(await imo(['snapshot', '--yes', '--json'])).snapshotId, 2) // pool 1 ETH: A 0.5, B 0.5
    await warp(1) // claims on snapshot 2 open once its second has ended
    const beforeExpiry = json(await imo(['claimable', B, '--json']))
    assert.deepEqual(
      beforeExpiry.snapshots.map((s: { id: number; expiresWithSnapshot: number }) => [s.id, s.expiresWithSnapshot]),
      [
        [1, 3],
        [2, 4],
      ],
    )
    json(await imo(['revenue', 'deposit', '4', '--json']))
    await warp(61)
    const third = json(await imo(['snapshot', '--yes', '--json']))
    await warp(1)
    assert.equal(third.snapshotId, 3)
    assert.equal(third.rolledOverWei, String(parseEther('0.375125'))) // B's unclaimed share of snapshot 1
    assert.equal(third.claimPoolWei, String(parseEther('2.375125')))
    const [pool3] = (await read('snapshotInfo', [3n])) as unknown as [bigint]
    assert.equal(pool3, parseEther('2.375125'))
    assert.equal(await read('claimableRevenue', [B, 1n]), 0n)

    const expired = await imo(['claim', '--snapshot', '1'], 'B')
    assert.equal(expired.code, 0, expired.stderr)
    assert.equal(
      expired.stdout,
      "Nothing to claim: snapshot 1 expired when snapshot 3 was taken; its unclaimed remainder rolled into that snapshot's pool\n",
    )
    oneLineError(await imo(['claim', '--snapshot', '99'], 'B'), 2, 'unknown snapshot 99: snapshot ids run from 1 to 3')
    oneLineError(await imo(['claim', '--snapshot', 'two'], 'B'), 2, '--snapshot must be a whole number, not "two"')

    const forB = json(await imo(['claimable', B, '--json']))
    assert.deepEqual(
      forB.snapshots.map((s: { id: number; amountWei: string }) => [s.id, s.amountWei]),
      [
        [2, String(parseEther('0.5'))],
        [3, String(parseEther('1.1875625'))],
      ],
    )
    const claimed = json(await imo(['claim', '--json'], 'B'))
    assert.equal(claimed.status, 'sent')
    assert.deepEqual(
      claimed.snapshots.map((s: { id: number }) => s.id),
      [2, 3],
    )
    assert.equal(claimed.totalWei, String(parseEther('1.6875625')))
    const tx = await pub().getTransaction({ hash: claimed.txHash })
    assert.equal(tx.input.slice(0, 10), toFunctionSelector('claimBatch(uint256[])'))
    assert.equal(await read('hasClaimed', [B, 2n]), true)
    assert.equal(await read('hasClaimed', [B, 3n]), true)
  })

  it('redeems tokens for the redemption pool after showing the payout, --yes without a terminal', async () => {
    // Redemption pool: 1.5005 + 1 + 2 = 4.5005 ETH for 1000 tokens; 100 tokens pay 0.45005 ETH.
    assert.equal(await read('redemptionPool'), parseEther('4.5005'))
    const noYes = await imo(['redeem', '100'], 'B')
    assert.equal(noYes.code, 2)
    assert.match(noYes.stderr, /^Burning 100 REV of 500 REV pays 0\.45005 ETH \(redemption pool 4\.5005 ETH, supply 1000 REV\)\n/)
    oneLineError(noYes, 2, 'missing confirmation for burning 100 REV for 0.45005 ETH: pass --yes (no terminal to ask on)')
    oneLineError(await imo(['redeem', '500.5', '--yes'], 'B'), 2, `AMOUNT 500.5 REV is more than the 500 REV that ${B} holds`)

    const before = await pub().getBalance({ address: B })
    const redeemed = json(await imo(['redeem', '100', '--yes', '--json'], 'B'))
    assert.equal(redeemed.status, 'sent')
    assert.equal(redeemed.amountWei, String(100n * ETH))
    assert.equal(redeemed.payoutWei, String(parseEther('0.45005')))
    const receipt = await pub().getTransactionReceipt({ hash: redeemed.txHash })
    assert.equal(
      await pub().getBalance({ address: B }),
      before + parseEther('0.45005') - receipt.gasUsed * receipt.effectiveGasPrice,
    )
    assert.equal(await read('totalSupply'), 900n * ETH)
    assert.equal(await read('balanceOf', [B]), 400n * ETH)
    assert.equal(await read('redemptionPool'), parseEther('4.05045'))
  })

  it('re-runs with the same --key (or IMO_IDEMPOTENCY_KEY) never move value twice and exit 0; without a key a repeat is refused', async () => {
    // Redeem: the same burn again in the period, no key: refused like a deposit (exit 2), nothing burned.
    const supply = (await read('totalSupply')) as bigint
    const repeat = await imo(['redeem', '100', '--yes'], 'B')
    oneLineError(repeat, 2, /already burned 100 REV in this snapshot period \(1x, last 0x[0-9a-f]{64}\); nothing was sent$/)
    assert.equal(await read('totalSupply'), supply)

    // A retried CI job: every value-moving command run twice with the same key.
    const env = { IMO_IDEMPOTENCY_KEY: 'pipeline-4711' }
    const ran = async (args: string[]) => [json(await imo(args, 'B', env)), json(await imo(args, 'B', env))]
    const [deposit1, deposit2] = await ran(['revenue', 'deposit', '0.2', '--json'])
    assert.deepEqual([deposit1.status, deposit2.status], ['sent', 'already-confirmed'])
    assert.equal(deposit2.txHash, deposit1.txHash)
    const [burn1, burn2] = await ran(['redeem', '10', '--yes', '--json'])
    assert.deepEqual([burn1.status, burn2.status], ['sent', 'already-confirmed'])
    assert.equal(burn2.payoutWei, burn1.payoutWei)
    assert.equal(await read('totalSupply'), supply - 10n * ETH)
    await warp(61)
    const [snap1, snap2] = await ran(['snapshot', '--yes', '--json'])
    assert.deepEqual([snap1.status, snap2.status], ['sent', 'already-confirmed'])
    assert.equal(snap2.snapshotId, snap1.snapshotId)
    await warp(1) // claims on a snapshot open the second after it
    const [claim1, claim2] = await ran(['claim', '--json'])
    assert.deepEqual([claim1.status, claim2.status], ['sent', 'already-confirmed'])
    assert.equal(claim2.totalWei, claim1.totalWei)
    assert.equal(await read('currentSnapshotId'), BigInt(snap1.snapshotId))

    // The same key for another amount is refused; a malformed key is a usage error.
    oneLineError(
      await imo(['revenue', 'deposit', '0.3'], 'B', env),
      2,
      /^error: --key pipeline-4711 already names a deposit of 0\.2 ETH \(0x[0-9a-f]{64}\); nothing was sent$/,
    )
    oneLineError(
      await imo(['revenue', 'deposit', '0.3', '--key', 'has space'], 'B'),
      2,
      '--key must be 1-128 characters of letters, digits and . _ : / -, e.g. --key "$CI_PIPELINE_ID"',
    )
  })

  it('--dry-run simulates, prints the cost, and sends nothing (no confirmation needed)', async () => {
    const before = await nonce(B)
    const deposit = json(await imo(['revenue', 'deposit', '1', '--dry-run', '--json'], 'B'))
    assert.equal(deposit.status, 'dry-run')
    assert.ok(BigInt(deposit.costWei) > ETH)
    const redeem = json(await imo(['redeem', '40', '--dry-run', '--json'], 'B'))
    assert.equal(redeem.status, 'dry-run')
    assert.equal(redeem.payoutWei, String(await read('redeemableOnBurn', [40n * ETH])))
    const early = await imo(['snapshot', '--dry-run'], 'B')
    assert.equal(early.code, 3)
    assert.equal(await nonce(B), before)
  })

  it('refuses a missing deployment file (exit 2)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'imo-revenue-empty-'))
    try {
      const none = await runCli(['claimable', B, '--rpc-url', anvil.rpcUrl], { cwd: empty })
      oneLineError(
        none,
        2,
        `no deployment recorded for chain 31337 (${join(empty, '.imo', 'deployments', '31337', 'default.json')})`,
      )
      const named = await runCli(['claim', '--deployment', 'nope.json', '--rpc-url', anvil.rpcUrl], {
        cwd: empty,
        env: { IMO_PRIVATE_KEY: keyOf('B') },
      })
      oneLineError(named, 2, 'deployment file nope.json does not exist')
    } finally {
      rmSync(empty, { recursive: true, force: true })
    }
  })

  it('a burn resumed after a crash reports wholeSupply from the supply just before it', async () => {
    const whole = (await read('totalSupply')) as bigint
    // Give B the whole supply, then burn it all; killed after journalling the signed burn, before broadcasting it.
    await transfer(B, ((await read('balanceOf', [A])) as bigint) / ETH)
    assert.equal(await read('balanceOf', [B]), whole)
    const amount = String(whole / ETH)
    const crashed = await imo(['redeem', amount, '--yes'], 'B', { IMO_TEST_CRASH_AT: 'after-journal:redeem:' })
    assert.equal(crashed.signal, 'SIGKILL')
    assert.equal(await read('totalSupply'), whole)
    const resumed = json(await imo(['redeem', amount, '--yes', '--json'], 'B'))
    assert.equal(resumed.status, 'resumed')
    assert.equal(resumed.wholeSupply, true)
    assert.equal(resumed.totalSupplyWei, String(whole))
    assert.equal(await read('totalSupply'), 0n)
  })

  it('refuses to deposit once the whole supply is burned: the token can no longer refuse ether, which would be locked', async () => {
    for (const who of ['A', 'B'] as const) {
      const account = privateKeyToAccount(keyOf(who))
      const balance = (await read('balanceOf', [account.address])) as bigint
      if (balance === 0n) continue // the test before burned the whole supply already
      const wallet = createWalletClient({ chain: foundry, transport: http(anvil.rpcUrl), account })
      const hash = await wallet.writeContract({ address: token, abi: imoTokenAbi, functionName: 'burn', args: [balance] })
      assert.equal((await pub().waitForTransactionReceipt({ hash })).status, 'success')
    }
    assert.equal(await read('totalSupply'), 0n)
    const before = await nonce(A)
    oneLineError(
      await imo(['revenue', 'deposit', '1', '--yes']),
      2,
      'the token has no holders left (its whole supply was burned): revenue sent to it would be locked',
    )
    assert.equal(await nonce(A), before)
  })
})
