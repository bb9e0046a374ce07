import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { getAddress, getContractAddress } from 'viem'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { client, deployArgs, journalLines, tempWorkdir } from './helpers/deployFixture.js'
import { cleanEnv, imoBin, runCli } from './helpers/runCli.js'

/** One token and one collection at the deployer's nonces 0 and 1, and the nonce advanced by exactly 2. */
async function assertOneDeployment(rpcUrl: string, dir: string, deployer: `0x${string}`): Promise<void> {
  const c = client(rpcUrl)
  assert.equal(await c.getTransactionCount({ address: deployer }), 2)
  const file = JSON.parse(readFileSync(join(dir, '.imo', 'deployments', '31337', 'default.json'), 'utf8'))
  assert.equal(getAddress(file.imoToken.address), getContractAddress({ from: deployer, nonce: 0n }))
  assert.equal(getAddress(file.aigcCollection.address), getContractAddress({ from: deployer, nonce: 1n }))
  for (const address of [file.imoToken.address, file.aigcCollection.address])
    assert.notEqual(await c.getCode({ address }), undefined)
}

describe('crash safety: SIGKILL at each fault point, then re-run', () => {
  let anvil: Anvil
  before(async () => {
    anvil = await startAnvil()
  })
  after(async () => {
    await anvil.stop()
  })

  for (const [index, point] of [
    'after-journal:deploy:default:ImoToken',
    'after-broadcast:deploy:default:ImoToken',
    'after-journal:deploy:default:AigcCollection',
    'after-broadcast:deploy:default:AigcCollection',
  ].entries()) {
    it(point, async () => {
      const work = tempWorkdir()
      const account = anvil.accounts[index + 1]!
      const env = { IMO_PRIVATE_KEY: account.privateKey }
      try {
        const crashed = await runCli(deployArgs(anvil.rpcUrl), { cwd: work.dir, env: { ...env, IMO_TEST_CRASH_AT: point } })
        assert.equal(crashed.signal, 'SIGKILL')
        const signed = journalLines(work.dir).filter((line) => line.type === 'signed')
        assert.ok(signed.length >= 1)
        const resumed = await runCli(deployArgs(anvil.rpcUrl, ['--json']), { cwd: work.dir, env })
        assert.equal(resumed.code, 0, resumed.stderr)
        const statuses = JSON.parse(resumed.stdout).steps.map((s: { status: string }) => s.status)
        assert.ok(statuses.includes('resumed') || statuses.includes('already-confirmed'), statuses.join())
        await assertOneDeployment(anvil.rpcUrl, work.dir, account.address)
        // Same transaction hashes as journalled before the crash: nothing was re-signed.
        const hashes = journalLines(work.dir)
          .filter((line) => line.type === 'signed')
          .map((line) => line.hash)
        assert.equal(new Set(hashes).size, 2)
      } finally {
        work.cleanup()
      }
    })
  }

  it('a nonce taken by another transaction after a crash is never reused: the step is re-sent once with a new nonce', async () => {
    const work = tempWorkdir()
    const account = anvil.accounts[6]
    try {
      const crashed = await runCli(deployArgs(anvil.rpcUrl), {
        cwd: work.dir,
        env: { IMO_PRIVATE_KEY: account.privateKey, IMO_TEST_CRASH_AT: 'after-journal:deploy:default:ImoToken' },
      })
      assert.equal(crashed.signal, 'SIGKILL')
      // Another program sends a transaction with nonce 0 from the same account.
      const { createWalletClient, http } = await import('viem')
      const { privateKeyToAccount } = await import('viem/accounts')
      const wallet = createWalletClient({ account: privateKeyToAccount(account.privateKey), transport: http(anvil.rpcUrl) })
      await wallet.sendTransaction({ to: account.address, value: 1n, chain: null })
      const r = await runCli(deployArgs(anvil.rpcUrl), { cwd: work.dir, env: { IMO_PRIVATE_KEY: account.privateKey } })
      assert.equal(r.code, 0, r.stderr)
      assert.match(
        r.stderr,
        /"deploy ImoToken" \(0x[0-9a-f]{64}\) was replaced by another transaction with nonce 0; sending it again with a new nonce/,
      )
      assert.equal(await client(anvil.rpcUrl).getTransactionCount({ address: account.address }), 3)
      const file = JSON.parse(readFileSync(join(work.dir, '.imo', 'deployments', '31337', 'default.json'), 'utf8'))
      assert.equal(getAddress(file.imoToken.address), getContractAddress({ from: account.address, nonce: 1n }))
    } finally {
      work.cleanup()
    }
  })
})

/** A JSON-RPC proxy that fails every third request (HTTP 502), delays others, and loses every eth_sendRawTransaction response. */
function faultyProxy(target: string): Promise<{ url: string; server: Server; sendsLost: () => number }> {
  let count = 0
  let lost = 0
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      count++
      const isSend = body.includes('eth_sendRawTransaction')
      if (!isSend && count % 3 === 0) {
        res.writeHead(502).end('bad gateway')
        return
      }
      const forward = () => {
        const upstream = httpRequest(target, { method: 'POST', headers: { 'content-type': 'application/json' } }, (up) => {
          const out: Buffer[] = []
          up.on('data', (c) => out.push(c))
          up.on('end', () => {
            if (isSend) {
              lost++
              req.socket.destroy() // the node got it; the client never hears back
              return
            }
            res.writeHead(up.statusCode ?? 200, { 'content-type': 'application/json' }).end(Buffer.concat(out))
          })
        })
        upstream.on('error', () => res.destroy())
        upstream.end(body)
      }
      if (count % 4 === 0) setTimeout(forward, 300)
      else forward()
    })
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, sendsLost: () => lost }),
    ),
  )
}

describe('a faulty RPC', () => {
  let anvil: Anvil
  before(async () => {
    anvil = await startAnvil()
  })
  after(async () => {
    await anvil.stop()
  })

  it('drops, delays and fails requests (and every broadcast response): one deployment in the end', async () => {
    const proxy = await faultyProxy(anvil.rpcUrl)
    const work = tempWorkdir()
    const account = anvil.accounts[1]
    try {
      const first = await runCli(deployArgs(proxy.url, ['--timeout', '20']), {
        cwd: work.dir,
        env: { IMO_PRIVATE_KEY: account.privateKey },
      })
      assert.ok(first.code === 0 || first.code === 5 || first.code === 6, `exit ${first.code}: ${first.stderr}`)
      assert.ok(proxy.sendsLost() >= 1)
      if (first.code !== 0) {
        const second = await runCli(deployArgs(anvil.rpcUrl), { cwd: work.dir, env: { IMO_PRIVATE_KEY: account.privateKey } })
        assert.equal(second.code, 0, second.stderr)
      }
      await assertOneDeployment(anvil.rpcUrl, work.dir, account.address)
    } finally {
      proxy.server.close()
      work.cleanup()
    }
  })
})

describe('Ctrl-C while waiting for a receipt', () => {
  let anvil: Anvil
  before(async () => {
    anvil = await startAnvil({ noMining: true })
  })
  after(async () => {
    await anvil.stop()
  })

  it('exits 130 with the journal intact; the next run completes the same transactions', async () => {
    const work = tempWorkdir()
    const account = anvil.accounts[1]
    try {
      const child = spawn(process.execPath, [imoBin, ...deployArgs(anvil.rpcUrl)], {
        cwd: work.dir,
        env: cleanEnv({ IMO_PRIVATE_KEY: account.privateKey }),
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stderr = ''
      child.stderr.on('data', (chunk) => {
        stderr += chunk
      })
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
      const deadline = Date.now() + 20_000
      while (!journalLines(work.dir).some((line) => line.type === 'signed') && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100))
      await new Promise((resolve) => setTimeout(resolve, 500)) // now waiting for the receipt
      child.kill('SIGINT')
      assert.equal(await exited, 130, stderr)
      assert.match(stderr, /interrupted \(SIGINT\); the journal is intact, re-run to resume/)
      const signed = journalLines(work.dir).filter((line) => line.type === 'signed')
      assert.equal(signed.length, 1)
      const c = client(anvil.rpcUrl)
      await c.request({ method: 'evm_setAutomine' as never, params: [true] as never })
      await c.request({ method: 'evm_mine' as never })
      const r = await runCli(deployArgs(anvil.rpcUrl), { cwd: work.dir, env: { IMO_PRIVATE_KEY: account.privateKey } })
      assert.equal(r.code, 0, r.stderr)
      await assertOneDeployment(anvil.rpcUrl, work.dir, account.address)
      assert.equal(journalLines(work.dir).filter((line) => line.type === 'signed')[0]?.hash, signed[0]?.hash)
    } finally {
      work.cleanup()
    }
  })
})
