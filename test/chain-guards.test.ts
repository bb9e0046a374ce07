/**
 * Guards before signing: a --gas-limit below the simulation's estimate, a journal whose last line is
 * torn while the chain's nonce disagrees with it, and local development nodes told by their client
 * (web3_clientVersion), not by their chain id; a node that refuses an estimate at 'pending'. Real
 * anvil throughout.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { client, deployArgs, journalLines, tempWorkdir } from './helpers/deployFixture.js'
import { startRpcProxy } from './helpers/rpcProxy.js'
import { runCli } from './helpers/runCli.js'

describe('--gas-limit below the estimate', () => {
  let anvil: Anvil
  before(async () => {
    anvil = await startAnvil()
  })
  after(async () => {
    await anvil.stop()
  })

  it('is refused before anything is signed (exit 2), also in a dry run; --force sends it anyway', async () => {
    const work = tempWorkdir()
    const account = anvil.accounts[1]!
    const env = { IMO_PRIVATE_KEY: account.privateKey }
    try {
      for (const extra of [[], ['--dry-run']]) {
        const r = await runCli(deployArgs(anvil.rpcUrl, ['--gas-limit', '2000000', ...extra]), { cwd: work.dir, env })
        assert.equal(r.code, 2, r.stderr)
        assert.match(
          r.stderr,
          /error: --gas-limit 2000000 is below the \d+ gas the simulation of "deploy ImoToken" needs: it would run out of gas and revert; nothing was sent\nhint: raise --gas-limit or leave it out \(the estimate \+ 20% is used\); --force sends with it anyway\n/,
        )
      }
      assert.equal(journalLines(work.dir).filter((line) => line.type === 'signed').length, 0)
      assert.equal(await client(anvil.rpcUrl).getTransactionCount({ address: account.address }), 0)
      // Below the intrinsic gas no node mines it: refused even with --force.
      const intrinsic = await runCli(deployArgs(anvil.rpcUrl, ['--gas-limit', '100000', '--force']), { cwd: work.dir, env })
      assert.equal(intrinsic.code, 2, intrinsic.stderr)
      assert.match(
        intrinsic.stderr,
        /error: --gas-limit 100000 is below the intrinsic gas of "deploy ImoToken" \(\d+\): no node would mine it; nothing was sent/,
      )
      const forced = await runCli(deployArgs(anvil.rpcUrl, ['--gas-limit', '2000000', '--force']), { cwd: work.dir, env })
      assert.equal(forced.code, 4, forced.stderr)
      assert.match(forced.stderr, /"deploy ImoToken" was mined in block \d+ but reverted/)
    } finally {
      work.cleanup()
    }
  })
})

describe('a journal whose last line is torn', () => {
  let anvil: Anvil
  before(async () => {
    anvil = await startAnvil()
  })
  after(async () => {
    await anvil.stop()
  })

  function journalFile(dir: string): string {
    const folder = join(dir, '.imo', 'journal', '31337')
    return join(folder, readdirSync(folder).find((name) => name.endsWith('.jsonl'))!)
  }

  it('stops with exit 7 when the chain is ahead of the journal, instead of deploying a second collection', async () => {
    const work = tempWorkdir()
    const account = anvil.accounts[2]!
    const env = { IMO_PRIVATE_KEY: account.privateKey }
    try {
      const deployed = await runCli(deployArgs(anvil.rpcUrl), { cwd: work.dir, env })
      assert.equal(deployed.code, 0, deployed.stderr)
      // The collection's signed record torn in the middle (and its receipt never written); no deployment file.
      const path = journalFile(work.dir)
      const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean)
      const signedCollection = lines.findIndex((line) => line.includes('"type":"signed"') && line.includes('AigcCollection'))
      writeFileSync(path, `${lines.slice(0, signedCollection).join('\n')}\n${lines[signedCollection]!.slice(0, 60)}`)
      rmSync(join(work.dir, '.imo', 'deployments'), { recursive: true })
      const r = await runCli(deployArgs(anvil.rpcUrl), { cwd: work.dir, env })
      assert.equal(r.code, 7, r.stderr)
      assert.match(
        r.stderr,
        /error: the journal .*\.jsonl ends in a torn line, and 0x[0-9a-fA-F]{40} has sent 2 transaction\(s\) on chain while the journal's last signed nonce is 0: a transaction it does not fully record may have been sent; nothing was signed\nhint: check the signer's recent transactions/,
      )
      assert.equal(await client(anvil.rpcUrl).getTransactionCount({ address: account.address }), 2)
    } finally {
      work.cleanup()
    }
  })

  it('resumes when the nonces agree (a torn receipt), and the closed torn line stays readable', async () => {
    const work = tempWorkdir()
    const account = anvil.accounts[3]!
    const env = { IMO_PRIVATE_KEY: account.privateKey }
    try {
      const deployed = await runCli(deployArgs(anvil.rpcUrl), { cwd: work.dir, env })
      assert.equal(deployed.code, 0, deployed.stderr)
      const path = journalFile(work.dir)
      const text = readFileSync(path, 'utf8')
      writeFileSync(path, text.slice(0, text.length - 40)) // the last receipt, torn
      rmSync(join(work.dir, '.imo', 'deployments'), { recursive: true })
      const resumed = await runCli(deployArgs(anvil.rpcUrl, ['--json']), { cwd: work.dir, env })
      assert.equal(resumed.code, 0, resumed.stderr)
      assert.deepEqual(
        JSON.parse(resumed.stdout).steps.map((s: { status: string }) => s.status),
        ['already-confirmed', 'resumed'],
      )
      // The torn line now sits between whole records; the journal still reads.
      rmSync(join(work.dir, '.imo', 'deployments'), { recursive: true })
      const again = await runCli(deployArgs(anvil.rpcUrl, ['--json']), { cwd: work.dir, env })
      assert.equal(again.code, 0, again.stderr)
      assert.deepEqual(
        JSON.parse(again.stdout).steps.map((s: { status: string }) => s.status),
        ['already-confirmed', 'already-confirmed'],
      )
      assert.equal(await client(anvil.rpcUrl).getTransactionCount({ address: account.address }), 2)
    } finally {
      work.cleanup()
    }
  })
})

describe('local development nodes by client', () => {
  it('anvil with --chain-id 999 is named as anvil and gets the local defaults (60 s snapshot interval)', async () => {
    const anvil = await startAnvil({ chainId: 999 })
    const work = tempWorkdir()
    try {
      const r = await runCli(deployArgs(anvil.rpcUrl, ['--json']), {
        cwd: work.dir,
        env: { IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey },
      })
      assert.equal(r.code, 0, r.stderr)
      const doc = JSON.parse(r.stdout)
      assert.equal(doc.chainName, 'Anvil (local, chain 999)')
      assert.equal(doc.parameters.snapshotInterval, 60)
    } finally {
      work.cleanup()
      await anvil.stop()
    }
  })

  it('a node that answers web3_clientVersion as Hardhat on 31337 is not called anvil', async () => {
    const anvil = await startAnvil()
    // anvil behind a proxy that answers web3_clientVersion as Hardhat's node does (everything else is anvil's).
    const proxy = await startRpcProxy(anvil.rpcUrl, {
      answer: (call) =>
        call.method === 'web3_clientVersion' ? { result: 'HardhatNetwork/2.22.17/@ethereumjs/vm/5.9.3' } : undefined,
    })
    const url = proxy.url
    const work = tempWorkdir()
    try {
      const r = await runCli(deployArgs(url, ['--dry-run', '--json']), {
        cwd: work.dir,
        env: { IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey },
      })
      assert.equal(r.code, 0, r.stderr)
      const doc = JSON.parse(r.stdout)
      assert.equal(doc.chainName, 'Hardhat Network (local)')
      assert.equal(doc.parameters.snapshotInterval, 60)
    } finally {
      work.cleanup()
      await proxy.close()
      await anvil.stop()
    }
  })
})

describe('the simulation before each send', () => {
  it("a node that refuses eth_estimateGas at 'pending' (but not eth_call there): estimated again without a block tag, deployed", async () => {
    const anvil = await startAnvil()
    const estimates: string[] = []
    const proxy = await startRpcProxy(anvil.rpcUrl, {
      answer: (call) => {
        if (call.method !== 'eth_estimateGas') return undefined
        const tag = String(call.params?.[1] ?? 'none')
        estimates.push(tag)
        return tag === 'pending' ? { error: { code: -32602, message: 'invalid block tag: pending' } } : undefined
      },
    })
    const work = tempWorkdir()
    try {
      const r = await runCli(deployArgs(proxy.url, ['--json']), {
        cwd: work.dir,
        env: { IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey },
      })
      assert.equal(r.code, 0, r.stderr)
      assert.ok(estimates.includes('pending') && estimates.includes('none'), estimates.join(' '))
      assert.ok(JSON.parse(r.stdout).imoToken.address)
    } finally {
      work.cleanup()
      await proxy.close()
      await anvil.stop()
    }
  })
})
