/**
 * `imo verify --token` against a node that limits eth_getLogs to a few blocks, as many public RPCs
 * do: the AigcData event is still found (by walking the range in chunks), and the proxy's refusal
 * counter proves the limit was hit rather than silently absent.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { startRpcProxy } from './helpers/rpcProxy.js'
import { repoRoot, runCli } from './helpers/runCli.js'

const MAX_RANGE = 4n

/** anvil behind a proxy that refuses eth_getLogs over more than MAX_RANGE + 1 blocks, like a public RPC. */
async function rangeLimitedProxy(target: string) {
  let refused = 0
  const block = (tag: string | undefined) => (tag?.startsWith('0x') ? BigInt(tag) : undefined)
  const proxy = await startRpcProxy(target, {
    answer: (call) => {
      if (call.method !== 'eth_getLogs') return undefined
      const filter = (call.params as Array<Record<string, string>>)[0]!
      const [from, to] = [block(filter.fromBlock) ?? 0n, block(filter.toBlock)] // 'latest' or absent: open-ended
      if (to !== undefined && to - from <= MAX_RANGE) return undefined
      refused++
      return { error: { code: -32005, message: `query exceeds max block range ${MAX_RANGE + 1n}` } }
    },
  })
  return { ...proxy, refused: () => refused }
}

describe('imo verify --token on a range-limited RPC', () => {
  let anvil: Anvil
  let cwd: string
  before(async () => {
    anvil = await startAnvil()
    cwd = mkdtempSync(join(tmpdir(), 'imo-verify-logs-'))
  })
  after(async () => {
    await anvil.stop()
    rmSync(cwd, { recursive: true, force: true })
  })

  it('finds the AigcData event by walking the range in chunks', async () => {
    const env = { IMO_PRIVATE_KEY: anvil.accounts[0].privateKey, IMO_RPC_URL: anvil.rpcUrl }
    const model = join(repoRoot, 'models', 'cppn')
    const deployed = await runCli(['deploy', '--model', model, '--name', 'T', '--symbol', 'T', '--supply', '1000'], { cwd, env })
    assert.equal(deployed.code, 0, deployed.stderr)
    const minted = await runCli(['infer-and-mint', 'a red spiral', '--json'], { cwd, env })
    assert.equal(minted.code, 0, minted.stderr)
    const tokenIdHex = JSON.parse(minted.stdout).outcomes[0].tokenIdHex as string
    // Forty empty blocks after the mint: the event lies well outside the newest chunk.
    await fetch(anvil.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_mine', params: ['0x28'] }),
    })
    const proxy = await rangeLimitedProxy(anvil.rpcUrl)
    try {
      const verified = await runCli(['verify', '--token', tokenIdHex, '--rpc-url', proxy.url, '--json'], {
        cwd,
        env: { IMO_RPC_URL: undefined },
      })
      assert.equal(verified.code, 0, verified.stderr)
      const report = JSON.parse(verified.stdout)
      assert.equal(report.ok, true)
      assert.equal(report.checks[0].name, 'AigcData event')
      assert.equal(report.checks[0].status, 'pass')
      assert.ok(proxy.refused() > 0, 'the proxy never refused a wide eth_getLogs: the limit was not exercised')
    } finally {
      await proxy.close()
    }
  })

  it('imo status counts holders over the same range-limited RPC, reading the Transfer logs in chunks', async () => {
    const env = { IMO_PRIVATE_KEY: anvil.accounts[0].privateKey, IMO_RPC_URL: anvil.rpcUrl }
    const { createWalletClient, http, parseEther } = await import('viem')
    const { privateKeyToAccount } = await import('viem/accounts')
    const { imoTokenAbi } = await import('../contracts-abi/index.js')
    const { readFileSync } = await import('node:fs')
    const token = JSON.parse(readFileSync(join(cwd, '.imo', 'deployments', '31337', 'default.json'), 'utf8')).imoToken.address
    const wallet = createWalletClient({
      account: privateKeyToAccount(anvil.accounts[0].privateKey),
      transport: http(anvil.rpcUrl),
    })
    for (const to of [anvil.accounts[1].address, anvil.accounts[2].address]) {
      await wallet.writeContract({
        address: token,
        abi: imoTokenAbi,
        functionName: 'transfer',
        args: [to, parseEther('1')],
        chain: null,
      })
      await fetch(anvil.rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_mine', params: ['0x10'] }),
      })
    }
    const proxy = await rangeLimitedProxy(anvil.rpcUrl)
    try {
      const status = await runCli(['status', '--rpc-url', proxy.url, '--json'], { cwd, env: { ...env, IMO_RPC_URL: undefined } })
      assert.equal(status.code, 0, status.stderr)
      assert.equal(JSON.parse(status.stdout).token.holders, 3)
      assert.ok(proxy.refused() > 0, 'the proxy never refused a wide eth_getLogs: the limit was not exercised')
    } finally {
      await proxy.close()
    }
  })
})
