/**
 * `imo status` on a real anvil: every figure of the --json document checked against direct contract
 * reads by an independent client, the human screen's sections, the account part (signer, --address,
 * none), batched reads (a handful of eth_calls however many figures), and a deployment file that
 * points at a chain with no code.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Address, createPublicClient, createWalletClient, http, type PublicClient, parseEther, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { aigcCollectionAbi, imoTokenAbi } from '../contracts-abi/index.js'
import type { ChainContext } from '../src/chain/connect.js'
import { readDeploymentFile } from '../src/deployment/deploymentFile.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { readStatus } from '../src/revenue/readStatus.js'
import { type CliResult, runCli } from './helpers/runCli.js'

const ETH = 10n ** 18n

/** A chain time (unix seconds) as --json prints it: ISO 8601 UTC (docs/json.md). */
const iso = (seconds: unknown) => new Date(Number(seconds) * 1000).toISOString()

describe('imo status', () => {
  let anvil: Anvil
  let work: string
  let token: Address
  let collection: Address
  let A: Address
  let B: Address
  let C: Address
  const pub = () => createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl) })
  const imo = (args: string[], env: Record<string, string | undefined> = { IMO_PRIVATE_KEY: anvil.accounts[0].privateKey }) =>
    runCli(args, { cwd: work, env: { IMO_RPC_URL: anvil.rpcUrl, ...env } })
  const json = (result: CliResult) => {
    assert.equal(result.code, 0, result.stderr)
    return JSON.parse(result.stdout)
  }
  const t = (functionName: string, args: unknown[] = []) =>
    pub().readContract({ address: token, abi: imoTokenAbi, functionName, args } as never) as Promise<never>
  const c = (functionName: string, args: unknown[] = []) =>
    pub().readContract({ address: collection, abi: aigcCollectionAbi, functionName, args } as never) as Promise<never>
  const wallet = (index: number) =>
    createWalletClient({
      chain: foundry,
      transport: http(anvil.rpcUrl),
      account: privateKeyToAccount(anvil.accounts[index]!.privateKey),
    })
  const mined = async (hash: `0x${string}`) => assert.equal((await pub().waitForTransactionReceipt({ hash })).status, 'success')
  const rpc = (method: string, params: unknown[]) =>
    fetch(anvil.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    })

  before(async () => {
    anvil = await startAnvil()
    work = mkdtempSync(join(tmpdir(), 'imo-status-'))
    ;[A, B, C] = [anvil.accounts[0].address, anvil.accounts[1].address, anvil.accounts[2].address]
    const deployed = json(
      await imo([
        'deploy',
        '--model-hash',
        `0x${'cd'.repeat(32)}`,
        '--model-uri',
        'ipfs://bafy-model',
        '--name',
        'Status',
        '--symbol',
        'STA',
        '--supply',
        '1000',
        '--percent-claimable',
        '40',
        '--snapshot-interval',
        '60',
        '--claim-window',
        '3',
        '--royalty-bps',
        '750',
        '--mint-fee',
        '0.01',
        '--attester',
        A,
        C,
        '--json',
      ]),
    )
    token = deployed.imoToken.address
    collection = deployed.aigcCollection.address
    // Holders: A 600, B 300, C 100. One mint without AIGC data (only an attester, here C, may
    // reserve a prompt that way) pays the 0.01 fee into the token.
    await mined(
      await wallet(0).writeContract({ address: token, abi: imoTokenAbi, functionName: 'transfer', args: [B, 300n * ETH] }),
    )
    await mined(
      await wallet(0).writeContract({ address: token, abi: imoTokenAbi, functionName: 'transfer', args: [C, 100n * ETH] }),
    )
    await mined(
      await wallet(2).writeContract({
        address: collection,
        abi: aigcCollectionAbi,
        functionName: 'mint',
        args: [B, toHex('a red spiral'), '0x', '', '0x'],
        value: parseEther('0.01'),
      }),
    )
    json(await imo(['revenue', 'deposit', '0.99', '--json']))
    await rpc('evm_increaseTime', [61])
    await rpc('evm_mine', [])
    json(await imo(['snapshot', '--yes', '--json'])) // snapshot 1: 1 ETH -> 0.4 to holders, 0.6 to redemption
    // Claims on a snapshot open once its second has ended (anvil gives blocks of one second one timestamp).
    await rpc('evm_increaseTime', [1])
    await rpc('evm_mine', [])
    json(await imo(['revenue', 'deposit', '0.5', '--json']))
    json(await imo(['claim', '--json'], { IMO_PRIVATE_KEY: anvil.accounts[1].privateKey })) // B claims 0.12
  })
  after(async () => {
    await anvil.stop()
    rmSync(work, { recursive: true, force: true })
  })

  it('--json figures equal direct contract reads', async () => {
    const status = json(await imo(['status', '--json']))
    const [claimPool, claimed, supplyAt, takenAt] = (await t('snapshotInfo', [1n])) as unknown as [bigint, bigint, bigint, bigint]
    assert.equal(status.chain.id, 31337)
    assert.equal(status.model.modelHash, await t('modelHash'))
    assert.equal(status.model.uri, 'ipfs://bafy-model')
    assert.equal(status.token.address, token)
    assert.equal(status.token.symbol, 'STA')
    assert.equal(status.token.totalSupplyWei, String(await t('totalSupply')))
    assert.equal(status.token.holders, 3)
    assert.equal(status.token.percentClaimable, 40)
    assert.equal(status.token.snapshotInterval, 60)
    assert.equal(status.token.claimWindow, 3)
    assert.equal(status.token.currentSnapshotId, 1)
    assert.equal(status.token.lastSnapshotAt, iso(await t('lastSnapshotTimestamp')))
    assert.equal(status.token.nextSnapshotAt, iso(await t('nextSnapshotTimestamp')))
    assert.equal(status.token.nextSnapshotAt, iso(Number(takenAt) + 60))
    assert.equal(status.token.balanceWei, String(await pub().getBalance({ address: token })))
    assert.equal(status.pools.pendingRevenueWei, String(await t('pendingRevenue')))
    assert.equal(status.pools.pendingRevenueWei, String(parseEther('0.5')))
    assert.equal(status.pools.redemptionPoolWei, String(await t('redemptionPool')))
    assert.equal(status.pools.redemptionPoolWei, String(parseEther('0.6')))
    assert.equal(status.pools.snapshots.length, 1)
    const [live] = status.pools.snapshots
    assert.equal(live.id, 1)
    assert.equal(live.claimPoolWei, String(claimPool))
    assert.equal(live.claimPoolWei, String(parseEther('0.4')))
    assert.equal(live.claimedWei, String(claimed))
    assert.equal(live.remainingWei, String(parseEther('0.28')))
    assert.equal(live.totalSupplyWei, String(supplyAt))
    assert.equal(live.takenAt, iso(takenAt))
    assert.equal(live.expiresWithSnapshot, 4)
    assert.equal(status.pools.unclaimedWei, String(claimPool - claimed))
    assert.equal(status.collection.address, collection)
    assert.equal(status.collection.totalMinted, String(await c('totalMinted')))
    assert.equal(status.collection.totalMinted, '1')
    assert.equal(status.collection.mintFeeWei, String(await c('mintFee')))
    assert.equal(status.collection.royaltyBps, 750)
    assert.equal(status.collection.royaltyReceiver.toLowerCase(), token.toLowerCase())
    assert.deepEqual(status.collection.attesters, await c('attesters'))
    // The signer (A) by default.
    assert.equal(status.account.address, A)
    assert.equal(status.account.tokenBalanceWei, String(await t('balanceOf', [A])))
    assert.equal(status.account.sharePercent, '60.0000')
    assert.equal(status.account.claimableWei, String(await t('claimableRevenue', [A, 1n])))
    assert.equal(status.account.claimableWei, String(parseEther('0.24')))
    assert.equal(status.account.redeemableWei, String(await t('redeemableOnBurn', [600n * ETH])))
    assert.equal(status.account.nativeBalanceWei, String(await pub().getBalance({ address: A })))
  })

  it('--address shows another account; without signer or address, no account part', async () => {
    const forC = json(await imo(['status', '--address', C, '--json']))
    assert.equal(forC.account.address, C)
    assert.equal(forC.account.claimableWei, String(parseEther('0.04')))
    assert.deepEqual(
      forC.account.claimable.map((x: { id: number; amountWei: string }) => [x.id, x.amountWei]),
      [[1, String(parseEther('0.04'))]],
    )
    const forB = json(await imo(['status', '--json'], { IMO_PRIVATE_KEY: anvil.accounts[1].privateKey }))
    assert.equal(forB.account.address, B)
    assert.equal(forB.account.claimableWei, '0')
    const anonymous = json(await imo(['status', '--json'], {}))
    assert.equal(anonymous.account, undefined)
    const bad = await imo(['status', '--address', '0x1234'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /^error: --address must be a 0x-prefixed 20-byte address, not "0x1234"\n/)
  })

  it('prints one screen with aligned sections', async () => {
    const { code, stdout, stderr } = await imo(['status'], { IMO_PRIVATE_KEY: anvil.accounts[0].privateKey, TZ: 'UTC' })
    assert.equal(code, 0, stderr)
    for (const heading of ['Model', 'Token Status (STA)', 'Pools', 'Collection Status AIGC', `Account ${A}`])
      assert.match(stdout, new RegExp(`^${heading.replace(/[()]/g, '\\$&')}`, 'm'))
    assert.match(stdout, /^ {2}holders {12}3$/m)
    assert.match(stdout, /^ {2}pending revenue {2}0\.5 ETH \(split at the next snapshot\)$/m)
    assert.match(stdout, /^ {4}snapshot +taken +pool +left +expires$/m)
    assert.match(stdout, /^ {11}1 {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 \([^)]+ ago\) +0\.4 ETH +0\.28 ETH +with snapshot 4$/m)
    assert.match(stdout, /^ {2}next snapshot {6}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 \((in [^)]+|now)\)$/m)
    assert.match(stdout, /^ {2}royalty {4}7\.5 % to 0x/m)
    assert.match(stdout, /^ {2}claimable {7}0\.24 ETH$/m)
  })

  it('batches its reads: a handful of eth_calls for dozens of figures', async () => {
    let calls = 0
    const publicClient = createPublicClient({
      transport: http(anvil.rpcUrl, {
        onFetchRequest: async (request) => {
          const body = await request.clone().text()
          calls += (body.match(/"eth_call"/g) ?? []).length
        },
      }),
    }) as PublicClient
    const ctx = {
      publicClient,
      sendClient: publicClient,
      rpcUrl: anvil.rpcUrl,
      chainId: 31337,
      chainName: 'Anvil',
      nativeSymbol: 'ETH',
    } as ChainContext
    const deployment = readDeploymentFile(join(work, '.imo', 'deployments', '31337', 'default.json'))!
    const status = await readStatus(ctx, deployment, { holder: C })
    assert.equal(status.account?.claimableWei, parseEther('0.04'))
    // 4 for the token, pools, collection and account, 1 for the request terms (and 1 more per 500
    // requests to count the open ones; none here).
    assert.ok(calls <= 5, `${calls} eth_calls`)
  })

  it('shows the request fee, the timeout and the open requests (count, escrow, the oldest expiry)', async () => {
    const before = json(await imo(['status', '--json'])).requests
    assert.deepEqual(before, {
      feeWei: String(await c('requestFee')),
      timeoutSeconds: 3600,
      total: '0',
      openEscrowWei: '0',
      open: 0,
      expired: 0,
      oldestOpen: null,
    })
    assert.equal(before.feeWei, String(parseEther('0.001')))
    const fee = parseEther('0.001')
    const request = (index: number, prompt: string) =>
      wallet(index).writeContract({
        address: collection,
        abi: aigcCollectionAbi,
        functionName: 'request',
        args: [toHex(prompt), anvil.accounts[index]!.address],
        value: fee,
      })
    // Request 1 for an hour; then a 10 s timeout: request 2 expires unserved, request 3 is refunded.
    await mined(await request(1, 'a status request'))
    await mined(
      await wallet(0).writeContract({
        address: collection,
        abi: aigcCollectionAbi,
        functionName: 'setRequestTimeout',
        args: [10n],
      }),
    )
    await mined(await request(2, 'a second status request'))
    await mined(await request(1, 'a third status request'))
    await rpc('evm_increaseTime', [20])
    await rpc('evm_mine', [])
    await mined(
      await wallet(1).writeContract({ address: collection, abi: aigcCollectionAbi, functionName: 'refund', args: [3n] }),
    )
    const first = (await c('getRequest', [1n])) as unknown as { expiresAt: number }
    const requests = json(await imo(['status', '--json'])).requests
    assert.deepEqual(requests, {
      feeWei: String(fee),
      timeoutSeconds: 10,
      total: '3',
      openEscrowWei: String(await c('openEscrow')),
      open: 2,
      expired: 1,
      oldestOpen: { id: '1', expiresAt: iso(first.expiresAt) },
    })
    assert.equal(requests.openEscrowWei, String(2n * fee))
    assert.equal(requests.openEscrowWei, String(await pub().getBalance({ address: collection })))
    const { code, stdout, stderr } = await imo(['status'], { IMO_PRIVATE_KEY: anvil.accounts[0].privateKey, TZ: 'UTC' })
    assert.equal(code, 0, stderr)
    assert.match(stdout, /^Requests$/m)
    assert.match(stdout, /^ {2}fee {14}0\.001 ETH per request, escrowed until fulfilled \(then revenue\) or refunded$/m)
    assert.match(stdout, /^ {2}timeout {10}10 s \(refundable after\)$/m)
    assert.match(stdout, /^ {2}open {13}2 \(0\.002 ETH escrowed\), 1 expired \(refundable\)$/m)
    assert.match(stdout, /^ {2}oldest open {6}request 1, expires \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 \(in 59 min \d+ s\)$/m)
    assert.match(stdout, /^ {2}requests so far {2}3$/m)
  })

  it('refuses a deployment file that points at a chain with no code there (exit 2)', async () => {
    const fresh = await startAnvil()
    try {
      const file = join(work, '.imo', 'deployments', '31337', 'default.json')
      const result = await runCli(['status', '--rpc-url', fresh.rpcUrl, '--deployment', file], { cwd: work })
      assert.equal(result.code, 2)
      assert.equal(result.stdout, '')
      assert.equal(
        result.stderr.split('\n')[0],
        `error: no contract at the IMO token address ${token} on chain 31337 (${file} is stale: was the devnet restarted?)`,
      )
      assert.doesNotMatch(result.stderr, /\n\s+at /)
    } finally {
      await fresh.stop()
    }
  })
})
