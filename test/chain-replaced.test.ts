/**
 * A pending deploy or mint replaced by another transaction from the same key (`cast send --nonce`):
 * the run that sees it exits 7 with every step's outcome and a hint; a re-run recovers by itself
 * (the step is re-sent once with a fresh nonce, the replacement journalled), and nothing happens twice.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { getAddress, getContractAddress, type PublicClient } from 'viem'
import { aigcCollectionAbi, imoTokenAbi } from '../contracts-abi/index.js'
import { foundryBinary } from '../src/devnet/foundryBinary.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { client, deployArgs, journalLines, tempWorkdir } from './helpers/deployFixture.js'
import { startRpcProxy } from './helpers/rpcProxy.js'
import { cleanEnv, imoBin, repoRoot, runCli } from './helpers/runCli.js'

const cast = foundryBinary('cast')
const CPPN = join(repoRoot, 'models', 'cppn')

/** Starts `imo ARGS` in the background; resolves its exit code and output when it ends. */
function background(args: string[], cwd: string, env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, [imoBin, ...args], {
    cwd,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr!.on('data', (chunk) => {
    stderr += chunk
  })
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  )
  return { child, done }
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Another program takes `nonce` of the key with a pricier transaction (replacing ours in the pool), then a block is mined. */
async function replaceAndMine(c: PublicClient, rpcUrl: string, privateKey: string, to: string, nonce: number) {
  await promisify(execFile)(cast, [
    'send',
    '--async',
    '--rpc-url',
    rpcUrl,
    '--private-key',
    privateKey,
    '--nonce',
    String(nonce),
    '--gas-price',
    '500gwei',
    '--priority-gas-price',
    '100gwei',
    to,
  ])
  await c.request({ method: 'evm_mine' as never })
}

const setAutomine = (c: PublicClient, on: boolean) => c.request({ method: 'evm_setAutomine' as never, params: [on] as never })

describe('a replaced pending transaction', () => {
  let anvil: Anvil
  let c: PublicClient
  before(async () => {
    anvil = await startAnvil()
    c = client(anvil.rpcUrl)
  })
  after(async () => {
    await anvil.stop()
  })

  it('deploy: exit 7 with the hint, then a re-run re-sends the replaced step once with a new nonce', async () => {
    const work = tempWorkdir()
    const account = anvil.accounts[3]!
    const env = { IMO_PRIVATE_KEY: account.privateKey }
    try {
      await setAutomine(c, false)
      const run = background(deployArgs(anvil.rpcUrl, ['--json']), work.dir, env)
      await until(() => journalLines(work.dir).some((line) => line.type === 'signed'), 'the signed ImoToken deploy')
      await replaceAndMine(c, anvil.rpcUrl, account.privateKey, account.address, 0)
      const first = await run.done
      assert.equal(first.code, 7, first.stderr)
      const doc = JSON.parse(first.stdout)
      assert.equal(doc.error.exitCode, 7)
      assert.match(doc.error.message, /replaced: another transaction from 0x[0-9a-fA-F]{40} took the nonce of "deploy ImoToken"/)
      assert.match(doc.error.hint, /re-run the same command/)
      assert.deepEqual(
        doc.result.outcomes.map((o: { status: string }) => o.status),
        ['replaced'],
      )
      await setAutomine(c, true)
      const second = await runCli(deployArgs(anvil.rpcUrl, ['--json']), { cwd: work.dir, env })
      assert.equal(second.code, 0, second.stderr)
      assert.match(
        second.stderr,
        /"deploy ImoToken" \(0x[0-9a-f]{64}\) was replaced by another transaction with nonce 0; sending it again with a new nonce/,
      )
      // Exactly once: the other program's transaction at nonce 0, the token at 1, the collection at 2.
      assert.equal(await c.getTransactionCount({ address: account.address }), 3)
      const file = JSON.parse(readFileSync(join(work.dir, '.imo', 'deployments', '31337', 'default.json'), 'utf8'))
      assert.equal(getAddress(file.imoToken.address), getContractAddress({ from: account.address, nonce: 1n }))
      assert.equal(getAddress(file.aigcCollection.address), getContractAddress({ from: account.address, nonce: 2n }))
      const dropped = journalLines(work.dir).filter((line) => line.type === 'dropped')
      assert.equal(dropped.length, 1)
      assert.match(
        String(dropped[0]!.reason),
        /^replaced: nonce 0 was taken by another transaction; sent again with a new nonce$/,
      )
      // A third run finds everything done.
      const third = await runCli(deployArgs(anvil.rpcUrl, ['--json']), { cwd: work.dir, env })
      assert.equal(third.code, 0, third.stderr)
      assert.equal(JSON.parse(third.stdout).status, 'existing')
      assert.equal(await c.getTransactionCount({ address: account.address }), 3)
    } finally {
      await setAutomine(c, true)
      work.cleanup()
    }
  })

  it('mint batch: the exit-7 document lists each prompt; the re-run mints the replaced prompt once', async () => {
    const work = tempWorkdir()
    const account = anvil.accounts[4]!
    const env = { IMO_PRIVATE_KEY: account.privateKey }
    const prompts = join(work.dir, 'prompts.txt')
    try {
      const deployed = await runCli(
        [
          'deploy',
          '--model',
          CPPN,
          '--name',
          'R',
          '--symbol',
          'R',
          '--supply',
          '10',
          '--mint-fee',
          '0.01',
          '--rpc-url',
          anvil.rpcUrl,
        ],
        { cwd: work.dir, env },
      )
      assert.equal(deployed.code, 0, deployed.stderr)
      const deployment = JSON.parse(readFileSync(join(work.dir, '.imo', 'deployments', '31337', 'default.json'), 'utf8'))
      const tokenBalance = await c.getBalance({ address: deployment.imoToken.address })
      const start = await c.getTransactionCount({ address: account.address })
      const { writeFileSync } = await import('node:fs')
      writeFileSync(prompts, 'a replaced spiral\na kept wave\n')
      await setAutomine(c, false)
      const args = ['infer-and-mint', '--prompts', prompts, '--out', join(work.dir, 'out'), '--rpc-url', anvil.rpcUrl, '--json']
      const run = background(args, work.dir, env)
      await until(
        () => journalLines(work.dir).filter((line) => line.type === 'signed' && String(line.id).startsWith('mint:')).length === 2,
        'two signed mints',
      )
      await replaceAndMine(c, anvil.rpcUrl, account.privateKey, account.address, start)
      const first = await run.done
      assert.equal(first.code, 7, first.stderr)
      const doc = JSON.parse(first.stdout)
      assert.match(doc.error.hint, /re-run the same command/)
      assert.deepEqual(
        doc.result.outcomes.map((o: { prompt: string; status: string }) => [o.prompt, o.status]),
        [
          ['a replaced spiral', 'replaced'],
          ['a kept wave', 'minted'],
        ],
      )
      await setAutomine(c, true)
      const second = await runCli(args, { cwd: work.dir, env })
      assert.equal(second.code, 0, second.stderr)
      assert.deepEqual(
        JSON.parse(second.stdout).outcomes.map((o: { prompt: string; status: string }) => [o.prompt, o.status]),
        [
          ['a replaced spiral', 'minted'],
          ['a kept wave', 'existing'],
        ],
      )
      // Exactly once: two mints and the other program's transaction; each fee paid once.
      assert.equal(await c.getTransactionCount({ address: account.address }), start + 3)
      assert.equal(await c.getBalance({ address: deployment.imoToken.address }), tokenBalance + 2n * 10n ** 16n)
      for (const outcome of JSON.parse(second.stdout).outcomes)
        assert.equal(
          await c.readContract({
            address: deployment.aigcCollection.address,
            abi: aigcCollectionAbi,
            functionName: 'ownerOf',
            args: [BigInt(outcome.tokenIdHex)],
          }),
          account.address,
        )
    } finally {
      await setAutomine(c, true)
      work.cleanup()
    }
  })

  it('snapshot: replaced by a transaction that took the snapshot itself, the re-run sends nothing', async () => {
    const work = tempWorkdir()
    const account = anvil.accounts[5]!
    const env = { IMO_PRIVATE_KEY: account.privateKey }
    try {
      const deployed = await runCli(deployArgs(anvil.rpcUrl, ['--snapshot-interval', '1']), { cwd: work.dir, env })
      assert.equal(deployed.code, 0, deployed.stderr)
      const token = JSON.parse(readFileSync(join(work.dir, '.imo', 'deployments', '31337', 'default.json'), 'utf8')).imoToken
        .address as `0x${string}`
      await c.request({ method: 'evm_increaseTime' as never, params: [5] as never })
      await c.request({ method: 'evm_mine' as never })
      const nonce = await c.getTransactionCount({ address: account.address })
      const args = ['snapshot', '--yes', '--rpc-url', anvil.rpcUrl, '--json']
      const crashed = await runCli(args, { cwd: work.dir, env: { ...env, IMO_TEST_CRASH_AT: 'after-journal:snapshot:' } })
      assert.equal(crashed.signal, 'SIGKILL')
      // The same key takes that nonce with its own snapshot() call (cast), which is mined.
      await promisify(execFile)(cast, [
        'send',
        '--rpc-url',
        anvil.rpcUrl,
        '--private-key',
        account.privateKey,
        '--nonce',
        String(nonce),
        token,
        'snapshot()',
      ])
      const r = await runCli(args, { cwd: work.dir, env })
      assert.equal(r.code, 0, r.stderr)
      assert.equal(JSON.parse(r.stdout).status, 'already-confirmed')
      assert.match(r.stderr, /was replaced by another transaction with nonce \d+; its effect is on chain anyway, nothing to send/)
      assert.equal(await c.readContract({ address: token, abi: imoTokenAbi, functionName: 'currentSnapshotId' }), 1n)
      assert.equal(await c.getTransactionCount({ address: account.address }), nonce + 1)
      const dropped = journalLines(work.dir).filter((line) => line.type === 'dropped')
      assert.match(String(dropped[0]?.reason), /the step was done on chain anyway$/)
    } finally {
      work.cleanup()
    }
  })
})

/**
 * anvil behind a proxy that answers "no receipt yet" (null) to every receipt lookup for `lagMs` after
 * each eth_sendRawTransaction, while the nonce and the transaction itself are already served: what
 * anvil itself does for a few milliseconds after it mines a block.
 */
async function receiptLagProxy(target: string, lagMs: number) {
  let lastSend = 0
  let hidden = 0
  const proxy = await startRpcProxy(target, {
    answer: (call) => {
      if (call.method !== 'eth_getTransactionReceipt' || Date.now() - lastSend >= lagMs) return undefined
      hidden++
      return { result: null }
    },
    forwarded: (call) => {
      if (call.method === 'eth_sendRawTransaction') lastSend = Date.now()
    },
  })
  return { ...proxy, hidden: () => hidden }
}

describe('a node that counts a mined nonce before it serves the receipt', () => {
  let anvil: Anvil
  before(async () => {
    anvil = await startAnvil()
  })
  after(async () => {
    await anvil.stop()
  })

  it('a mined deploy is not misread as replaced (no exit 7, nothing dropped, nothing sent twice)', async () => {
    const work = tempWorkdir()
    const account = anvil.accounts[5]!
    const proxy = await receiptLagProxy(anvil.rpcUrl, 2500)
    try {
      const r = await runCli(deployArgs(proxy.url, ['--json']), { cwd: work.dir, env: { IMO_PRIVATE_KEY: account.privateKey } })
      assert.equal(r.code, 0, r.stderr)
      assert.ok(proxy.hidden() > 0, 'the proxy hid receipts while the nonce was already counted')
      assert.doesNotMatch(r.stderr, /replaced/)
      assert.equal(journalLines(work.dir).filter((line) => line.type === 'dropped').length, 0)
      assert.equal(await client(anvil.rpcUrl).getTransactionCount({ address: account.address }), 2)
    } finally {
      await proxy.close()
      work.cleanup()
    }
  })
})
