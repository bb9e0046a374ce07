/**
 * Revenue in a stablecoin through the real CLI on a real anvil, with the devnet's TestUsdc as the
 * token's revenue currency: a USDC deposit (a plain transfer, journalled) becomes claimable after a
 * snapshot and `imo claim` pays it beside the ether; a holder that USDC blacklists still gets its
 * ether (the USDC share is credited on the token); status and redeem show each currency; bad
 * currencies and amounts are one-line errors with nothing sent.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type Address, createPublicClient, createWalletClient, erc20Abi, http, parseEther } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { imoTokenAbi, testUsdcAbi, testUsdcBytecode } from '../contracts-abi/index.js'
import { MAX_REVENUE_CURRENCIES } from '../src/deployment/revenueCurrencyFlags.js'
import { deployTestUsdc, TEST_USDC_ADDRESS, TEST_USDC_DEPLOYER } from '../src/devnet/deployTestUsdc.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { anvilRpc, deployArgs, tempWorkdir } from './helpers/deployFixture.js'
import { type CliResult, runCli } from './helpers/runCli.js'

const USDC = 10n ** 6n

describe('revenue in USDC: deposit, claimable, claim, status, redeem', () => {
  let anvil: Anvil
  let work: ReturnType<typeof tempWorkdir>
  let token: Address
  let A: Address
  let B: Address
  const imo = (args: string[], who: 0 | 1 = 0, env: Record<string, string> = {}) =>
    runCli(args, { cwd: work.dir, env: { IMO_PRIVATE_KEY: anvil.accounts[who].privateKey, IMO_RPC_URL: anvil.rpcUrl, ...env } })
  const json = (result: CliResult) => {
    assert.equal(result.code, 0, result.stderr)
    return JSON.parse(result.stdout)
  }
  const pub = () => createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl) })
  const usdcOf = (who: Address) =>
    pub().readContract({ address: TEST_USDC_ADDRESS, abi: erc20Abi, functionName: 'balanceOf', args: [who] })
  const warp = async (seconds: number) => {
    await anvilRpc(anvil.rpcUrl, 'evm_increaseTime', [seconds])
    await anvilRpc(anvil.rpcUrl, 'evm_mine', [])
  }
  /** Sends as TestUsdc's owner (impersonated): mint, blacklist. */
  const asUsdcOwner = async (functionName: 'blacklist' | 'unBlacklist', who: Address) => {
    await anvilRpc(anvil.rpcUrl, 'anvil_impersonateAccount', [TEST_USDC_DEPLOYER])
    const wallet = createWalletClient({ chain: foundry, transport: http(anvil.rpcUrl), account: TEST_USDC_DEPLOYER })
    const hash = await wallet.writeContract({ address: TEST_USDC_ADDRESS, abi: testUsdcAbi, functionName, args: [who] })
    assert.equal((await pub().waitForTransactionReceipt({ hash })).status, 'success')
    await anvilRpc(anvil.rpcUrl, 'anvil_stopImpersonatingAccount', [TEST_USDC_DEPLOYER])
  }
  const currencyOf = (entries: Array<{ currency: { symbol: string } }>, symbol: string) =>
    entries.find((e) => e.currency.symbol === symbol) as unknown as Record<string, unknown> & { total: string }

  before(async () => {
    anvil = await startAnvil()
    work = tempWorkdir()
    A = anvil.accounts[0].address as Address
    B = anvil.accounts[1].address as Address
    await deployTestUsdc(anvil.rpcUrl, [A, B])
    const deployed = json(
      await imo(deployArgs(anvil.rpcUrl, ['--snapshot-interval', '60', '--revenue-currency', TEST_USDC_ADDRESS, '--json'])),
    )
    token = deployed.imoToken.address
    assert.deepEqual(deployed.parameters.revenueCurrencies, [{ address: TEST_USDC_ADDRESS, symbol: 'USDC', decimals: 6 }])
    // imo deploy refuses more currencies than the contract takes, before connecting: the same maximum.
    const max = await pub().readContract({ address: token, abi: imoTokenAbi, functionName: 'MAX_REVENUE_CURRENCIES' })
    assert.equal(max, BigInt(MAX_REVENUE_CURRENCIES))
    // B holds 300 of the 1000 tokens.
    const wallet = createWalletClient({
      chain: foundry,
      transport: http(anvil.rpcUrl),
      account: privateKeyToAccount(anvil.accounts[0].privateKey),
    })
    const hash = await wallet.writeContract({
      address: token,
      abi: erc20Abi,
      functionName: 'transfer',
      args: [B, 300n * 10n ** 18n],
    })
    assert.equal((await pub().waitForTransactionReceipt({ hash })).status, 'success')
  })
  after(async () => {
    await anvil?.stop()
    work?.cleanup()
  })

  it('a USDC deposit is a plain transfer, claimable after a snapshot, and imo claim pays it with the ether', async () => {
    const deposit = json(await imo(['revenue', 'deposit', '100', '--currency', 'usdc', '--json']))
    assert.equal(deposit.status, 'sent')
    assert.equal(deposit.amountWei, '100000000')
    assert.deepEqual(deposit.currency, { address: TEST_USDC_ADDRESS, symbol: 'USDC', decimals: 6 })
    assert.equal(deposit.pendingRevenueWei, '100000000')
    assert.equal(await usdcOf(token), 100n * USDC)
    json(await imo(['revenue', 'deposit', '1', '--json']))
    await warp(61)
    json(await imo(['snapshot', '--yes', '--json']))
    await warp(1)
    const claimable = json(await imo(['claimable', '--json']))
    // 50 % of 100 USDC to the claim pool; A holds 70 %.
    assert.equal(currencyOf(claimable.currencies, 'USDC').total, '35000000')
    assert.equal(currencyOf(claimable.currencies, 'ETH').total, parseEther('0.35').toString())
    const human = await imo(['claimable'])
    assert.match(human.stdout, /0\.35 ETH, 35 USDC/)
    const before = await usdcOf(A)
    const claim = json(await imo(['claim', '--json']))
    assert.equal(claim.status, 'sent')
    assert.equal(currencyOf(claim.currencies, 'USDC').total, '35000000')
    assert.equal(currencyOf(claim.currencies, 'ETH').total, parseEther('0.35').toString())
    assert.equal((await usdcOf(A)) - before, 35n * USDC)
    const again = json(await imo(['claim', '--json']))
    assert.equal(again.status, 'nothing')
  })

  it('a holder that USDC blacklists still claims its ether; its USDC share is credited, not lost', async () => {
    await asUsdcOwner('blacklist', B)
    try {
      const claim = json(await imo(['claim', '--json'], 1))
      assert.equal(claim.status, 'sent')
      assert.equal(currencyOf(claim.currencies, 'ETH').total, parseEther('0.15').toString())
      const usdc = currencyOf(claim.currencies, 'USDC')
      assert.equal(usdc.total, '15000000')
      assert.equal(usdc.credited, '15000000')
      const human = await imo(['claimable'], 1)
      assert.equal(human.code, 0, human.stderr)
      assert.match(
        human.stdout,
        /Credited to \S+ \(payouts the currency refused; `imo claim --credits` withdraws them\): 15 USDC/,
      )
      assert.deepEqual(json(await imo(['claimable', '--json'], 1)).credits, [
        { currency: { address: TEST_USDC_ADDRESS, symbol: 'USDC', decimals: 6 }, amountWei: '15000000' },
      ])
      const status = json(await imo(['status', '--json'], 1)).currencyPools[0]
      assert.equal(status.creditsWei, '15000000')
      assert.equal(status.account.creditWei, '15000000')
      assert.match((await imo(['status'], 1)).stdout, /your credit +15 USDC \(imo claim --credits withdraws it\)/)
      // Still blacklisted: the withdrawal would revert, so it is refused in simulation and nothing is sent.
      const nonce = await pub().getTransactionCount({ address: B })
      const refused = await imo(['claim', '--credits'], 1)
      assert.equal(refused.code, 3, refused.stderr)
      assert.match(refused.stderr, /\nerror: "withdraw the USDC credit" would fail: .*nothing was sent\n/)
      assert.match(
        refused.stderr,
        /\nhint: USDC \(\S+\) still refuses the transfer to \S+ \(a blocklist, a pause\); the credit stays yours/,
      )
      assert.equal(await pub().getTransactionCount({ address: B }), nonce, 'nothing was sent')
    } finally {
      await asUsdcOwner('unBlacklist', B)
    }
  })

  it('imo claim --credits withdraws the credit once USDC accepts the transfer again; bad input sends nothing', async () => {
    const nonce = await pub().getTransactionCount({ address: B })
    const cases: Array<[string[], RegExp]> = [
      [['claim', '--credits', '--currency', 'ETH'], /^error: ETH payouts are never credited .*\n$/],
      [['claim', '--credits', '--currency', 'DAI'], /^error: --currency DAI is not a revenue currency/],
      [['claim', '--credits', '--snapshot', '1'], /^error: option '--credits' cannot be used with option '--snapshot <N>'\n/],
    ]
    for (const [args, message] of cases) {
      const result = await imo(args, 1)
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`)
      assert.match(result.stderr, message)
      assert.equal(result.stdout, '')
    }
    assert.equal(await pub().getTransactionCount({ address: B }), nonce, 'nothing was sent')
    const dry = json(await imo(['claim', '--credits', '--dry-run', '--json'], 1))
    assert.equal(dry.status, 'dry-run')
    assert.equal(await pub().getTransactionCount({ address: B }), nonce, 'a dry run sends nothing')
    const before = await usdcOf(B)
    const withdrawn = json(await imo(['claim', '--credits', '--json'], 1))
    assert.equal(withdrawn.status, 'withdrawn')
    assert.equal(withdrawn.withdrawals.length, 1)
    assert.equal(withdrawn.withdrawals[0].amountWei, '15000000')
    assert.equal(withdrawn.withdrawals[0].currency.symbol, 'USDC')
    assert.match(withdrawn.withdrawals[0].txHash, /^0x[0-9a-f]{64}$/)
    assert.equal((await usdcOf(B)) - before, 15n * USDC)
    const again = await imo(['claim', '--credits', '--currency', 'USDC'], 1)
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /^Nothing to withdraw: \S+ has no credit on the token in USDC\n$/)
    assert.deepEqual(json(await imo(['claimable', '--json'], 1)).credits, [])
  })

  it('status shows the USDC pools; redeem shows and pays the payout in every currency', async () => {
    json(await imo(['revenue', 'deposit', '10', '--currency', TEST_USDC_ADDRESS, '--json']))
    const status = json(await imo(['status', '--json']))
    const pools = status.currencyPools[0]
    assert.deepEqual(pools.currency, { address: TEST_USDC_ADDRESS, symbol: 'USDC', decimals: 6 })
    assert.equal(pools.pendingRevenue, '10000000')
    assert.equal(pools.redemptionPool, '50000000')
    const human = await imo(['status'])
    assert.match(human.stdout, /Pools in USDC/)
    assert.match(human.stdout, /pending revenue +10 USDC/)
    const redeem = await imo(['redeem', '100', '--yes', '--json'])
    const result = json(redeem)
    // 100 of 1000 tokens: a tenth of the 50 USDC pool and of the redemption half of the 10 pending.
    assert.match(redeem.stderr, /pays 0\.\d+ ETH \+ 5\.5 USDC/)
    assert.equal(result.currencyPayouts[0].amount, '5500000')
  })

  it('refuses a bad currency or amount with a one-line error, and sends nothing', async () => {
    const eoa = anvil.accounts[5].address
    // An ERC-20 the token does not list: its transfers to the token are not revenue.
    const other = createWalletClient({
      chain: foundry,
      transport: http(anvil.rpcUrl),
      account: privateKeyToAccount(anvil.accounts[3].privateKey),
    })
    const hash = await other.deployContract({ abi: testUsdcAbi, bytecode: testUsdcBytecode })
    const unlisted = (await pub().waitForTransactionReceipt({ hash })).contractAddress!
    const nonce = await pub().getTransactionCount({ address: A })
    const cases: Array<[string[], number, RegExp]> = [
      [
        ['revenue', 'deposit', '1', '--currency', eoa],
        2,
        /^error: --currency \S+ has no contract code on this chain: it is not an ERC-20 token\n$/,
      ],
      [
        ['revenue', 'deposit', '1', '--currency', 'DAI'],
        2,
        /^error: --currency DAI is not a revenue currency of the token \S+ \(listed: ETH, USDC \(0x51935F7e534792A8a2C7571f6b790d364bd532EA\)\)\n$/,
      ],
      [
        ['revenue', 'deposit', '1', '--currency', unlisted],
        2,
        /^error: --currency USDC \(\S+\) is not a revenue currency of the token/,
      ],
      [
        ['revenue', 'deposit', '1.0000001', '--currency', 'USDC'],
        2,
        /^error: AMOUNT \(USDC\) has more than 6 decimals: "1\.0000001"\n$/,
      ],
      [
        ['revenue', 'deposit', '5000000', '--currency', 'USDC'],
        8,
        /^error: \S+ holds [\d.]+ USDC, less than the 5000000 USDC to deposit; nothing was sent\n$/,
      ],
      [['claim', '--currency', 'DAI'], 2, /^error: --currency DAI is not a revenue currency/],
      [
        ['claim', '--currency', eoa],
        2,
        /^error: --currency \S+ has no contract code on this chain: it is not an ERC-20 token\n$/,
      ],
      [['claim', '--currency', unlisted], 2, /^error: --currency USDC \(\S+\) is not a revenue currency of the token/],
      [['claim', '--currency', '0x1234'], 2, /^error: --currency .*"0x1234"/],
    ]
    for (const [args, code, message] of cases) {
      const result = await imo(args)
      assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}`)
      assert.match(result.stderr, message)
      assert.equal(result.stdout, '')
    }
    assert.equal(await pub().getTransactionCount({ address: A }), nonce, 'nothing was sent')
  })

  it('an interrupted claim is resumed whatever --currency the re-run names: a multi-currency step with --currency ETH, an ETH-only step with --currency USDC', async () => {
    // Amounts no earlier deposit in the period used (a repeat needs --key).
    const period = async (usdc: string) => {
      json(await imo(['revenue', 'deposit', '0.5', '--json']))
      json(await imo(['revenue', 'deposit', usdc, '--currency', 'USDC', '--json']))
      await warp(61)
      json(await imo(['snapshot', '--yes', '--json']))
      await warp(1)
    }
    const nonce = () => pub().getTransactionCount({ address: A })
    await period('11')
    // `imo claim` over ETH and USDC, killed with its signed claimBatch journalled, not broadcast.
    const crashed = await imo(['claim'], 0, { IMO_TEST_CRASH_AT: 'after-journal:claim:' })
    assert.equal(crashed.signal, 'SIGKILL')
    const usdcBefore = await usdcOf(A)
    const sent = await nonce()
    const resumed = json(await imo(['claim', '--currency', 'ETH', '--json']))
    assert.equal(resumed.status, 'resumed')
    assert.match(resumed.stepId, /#0x0{40}\+0x/)
    assert.ok(currencyOf(resumed.currencies, 'USDC').total !== '0', 'the resumed claim paid USDC')
    assert.ok((await usdcOf(A)) > usdcBefore)
    assert.equal(await nonce(), sent + 1, 'one transaction: the journalled one')
    assert.equal(json(await imo(['claim', '--json'])).status, 'nothing')

    await period('12')
    // Vice versa: `imo claim --currency ETH` (EIP-7641's claim(uint256)) killed the same way.
    const crashedEth = await imo(['claim', '--currency', 'ETH'], 0, { IMO_TEST_CRASH_AT: 'after-journal:claim:' })
    assert.equal(crashedEth.signal, 'SIGKILL')
    const resumedEth = json(await imo(['claim', '--currency', 'USDC', '--json']))
    assert.equal(resumedEth.status, 'resumed')
    assert.doesNotMatch(resumedEth.stepId, /#/)
    assert.equal(resumedEth.symbol, 'ETH')
    // The USDC share is still there, and claimed by the next run.
    const usdc = json(await imo(['claim', '--currency', 'USDC', '--json']))
    assert.equal(usdc.status, 'sent')
    assert.equal(currencyOf(usdc.currencies, 'USDC').total.length > 0, true)
    assert.equal(json(await imo(['claim', '--json'])).status, 'nothing')
  })

  it('imo claim --currency USDC right after a snapshot: --no-wait exits 3 saying when claims open, without it waits and claims', async () => {
    await warp(61)
    // Every block from here keeps one timestamp: the snapshot's second stays open as long as needed.
    await anvilRpc(anvil.rpcUrl, 'anvil_setBlockTimestampInterval', [0])
    let unfrozen = false
    try {
      json(await imo(['revenue', 'deposit', '13', '--currency', 'USDC', '--json']))
      const id = json(await imo(['snapshot', '--yes', '--json'])).snapshotId
      const nonce = await pub().getTransactionCount({ address: A })
      const refused = await imo(['claim', '--currency', 'USDC', '--no-wait'])
      assert.equal(refused.code, 3, refused.stderr)
      assert.match(refused.stderr, new RegExp(`^error: claims on snapshot ${id} open at \\d{4}-.*: nothing was sent$`, 'm'))
      assert.doesNotMatch(`${refused.stdout}${refused.stderr}`, /nothing to claim/i)
      assert.equal(await pub().getTransactionCount({ address: A }), nonce, 'nothing was sent')
      await anvilRpc(anvil.rpcUrl, 'anvil_removeBlockTimestampInterval', [])
      unfrozen = true
      const before = await usdcOf(A)
      const claimed = json(await imo(['claim', '--currency', 'USDC', '--json']))
      assert.equal(claimed.status, 'sent')
      // 50 % of 13 USDC to the claim pool; A holds 600 of the 900 tokens left after its burn of 100.
      const total = BigInt(currencyOf(claimed.currencies, 'USDC').total)
      assert.equal(total, (((13n * USDC * 50n) / 100n) * 600n) / 900n)
      assert.equal((await usdcOf(A)) - before, total)
    } finally {
      if (!unfrozen) await anvilRpc(anvil.rpcUrl, 'anvil_removeBlockTimestampInterval', [])
    }
  })

  it('imo claim --credits killed after its broadcast is resumed, not sent twice', async () => {
    json(await imo(['revenue', 'deposit', '14', '--currency', 'USDC', '--json']))
    await warp(61)
    json(await imo(['snapshot', '--yes', '--json']))
    await warp(1)
    await asUsdcOwner('blacklist', B)
    try {
      const claim = json(await imo(['claim', '--currency', 'USDC', '--json'], 1))
      assert.ok(BigInt(currencyOf(claim.currencies, 'USDC').credited as string) > 0n)
    } finally {
      await asUsdcOwner('unBlacklist', B)
    }
    const credit = await pub().readContract({
      address: token,
      abi: imoTokenAbi,
      functionName: 'creditOf',
      args: [B, TEST_USDC_ADDRESS],
    })
    const before = await usdcOf(B)
    const crashed = await imo(['claim', '--credits'], 1, { IMO_TEST_CRASH_AT: 'after-broadcast:withdraw-credit:' })
    assert.equal(crashed.signal, 'SIGKILL')
    assert.equal((await usdcOf(B)) - before, credit, 'the killed run had broadcast the withdrawal')
    const resumed = json(await imo(['claim', '--credits', '--json'], 1))
    assert.equal(resumed.status, 'withdrawn')
    assert.equal(resumed.withdrawals[0].status, 'resumed')
    assert.equal(resumed.withdrawals[0].amountWei, credit.toString())
    assert.equal((await usdcOf(B)) - before, credit, 'withdrawn once')
    assert.equal(json(await imo(['claim', '--credits', '--json'], 1)).status, 'nothing')
  })

  it('a USDC deposit killed after its broadcast is resumed, not sent twice; a repeat needs a new --key', async () => {
    const before = await usdcOf(token)
    const crashed = await imo(['revenue', 'deposit', '7', '--currency', 'USDC'], 0, {
      IMO_TEST_CRASH_AT: 'after-broadcast:deposit:',
    })
    assert.equal(crashed.signal, 'SIGKILL')
    assert.equal(await usdcOf(token), before + 7n * USDC)
    const resumed = json(await imo(['revenue', 'deposit', '7', '--currency', 'USDC', '--json']))
    assert.equal(resumed.status, 'resumed')
    assert.equal(await usdcOf(token), before + 7n * USDC)
    const repeat = await imo(['revenue', 'deposit', '7', '--currency', 'USDC'])
    assert.equal(repeat.code, 2)
    assert.match(repeat.stderr, /already deposited 7 USDC in this snapshot period/)
    // 7,000,000 wei is another deposit than 7 USDC (7,000,000 units): the step ids differ by currency.
    const ether = json(await imo(['revenue', 'deposit', '0.000000000007', '--json']))
    assert.equal(ether.status, 'sent')
    assert.equal(await usdcOf(token), before + 7n * USDC)
  })
})
