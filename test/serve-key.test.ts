/**
 * imo serve and the operator's other commands (issue 21 item 12): serve holds its signer's journal
 * lock while it runs, so `snapshot`, `claim` and `revenue deposit` with the same key exit 7 and would
 * wait for ever. The chosen set-up is a key of serve's own (an attester that pays the fulfilment gas),
 * from IMO_SERVE_* variables: with it, every command of the operator's key works while serve runs, and
 * with one key the exit-7 message says exactly that. Real anvil, the bundled model.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Hex } from 'viem'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { anvilRpc, client } from './helpers/deployFixture.js'
import { repoRoot, runCli } from './helpers/runCli.js'
import { type SpawnedImo, spawnImo, stopImo } from './helpers/spawnImo.js'

const CPPN = join(repoRoot, 'models', 'cppn')
let anvil: Anvil
let dir: string
const key = (index: number) => anvil.accounts[index]!.privateKey as Hex
const address = (index: number) => anvil.accounts[index]!.address as Hex

const imo = (args: string[], env: Record<string, string | undefined> = {}) =>
  runCli([...args, '--rpc-url', anvil.rpcUrl], { cwd: dir, env: { IMO_PRIVATE_KEY: key(0), ...env } })
const rpc = (method: string, params: unknown[]) => anvilRpc(anvil.rpcUrl, method, params)
const serves: SpawnedImo[] = []
const startServe = () => {
  const serve = spawnImo(['serve', '--rpc-url', anvil.rpcUrl], {
    cwd: dir,
    env: { IMO_PRIVATE_KEY: key(0) },
    readyEvent: 'start',
  })
  serves.push(serve)
  return serve
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = fn()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

before(async () => {
  anvil = await startAnvil()
  dir = mkdtempSync(join(tmpdir(), 'imo-serve-key-'))
  const args = ['deploy', '--model', CPPN, '--name', 'T', '--symbol', 'T', '--supply', '1000', '--snapshot-interval', '60']
  const deployed = await imo([...args, '--attester', address(0), '--attester', address(2), '--json'])
  assert.equal(deployed.code, 0, deployed.stderr)
})
after(async () => {
  for (const serve of serves) await stopImo(serve)
  await anvil?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe("imo serve's own key", () => {
  it('with one key for both, snapshot exits 7 saying serve holds it and how to give serve its own', async () => {
    const serve = startServe()
    await serve.ready
    await rpc('evm_increaseTime', [61])
    await rpc('evm_mine', [])
    const result = await imo(['snapshot', '--yes'])
    assert.equal(result.code, 7, result.stderr)
    assert.match(
      result.stderr,
      /^error: imo serve \(pid \d+\) is sending from this signer on this chain and runs until stopped: give serve a key of its own$/m,
    )
    assert.match(result.stderr, /^hint: run serve with its own attester key .*IMO_SERVE_KEYSTORE.*imo init/m)
    assert.equal(await stopImo(serve), 0)
  })

  it("with IMO_SERVE_* in .env, serve signs with its key; snapshot, deposit and claim of the operator's key run meanwhile", async () => {
    const keyFile = join(dir, 'serve-key.txt')
    writeFileSync(keyFile, `${key(2)}\n`, { mode: 0o600 })
    writeFileSync(join(dir, '.env'), `IMO_SERVE_PRIVATE_KEY_FILE=${keyFile}\n`, { mode: 0o600 })
    const serve = startServe()
    await serve.ready
    const start = serve.lines.find((l) => l.event === 'start')!
    assert.match(String(start.message), new RegExp(`as ${address(2)} `))
    for (const args of [['revenue', 'deposit', '0.5', '--yes'], ['snapshot', '--yes'], ['claim']]) {
      const result = await imo(args)
      assert.equal(result.code, 0, `${args.join(' ')}\n${result.stderr}`)
    }
    // A paid request is fulfilled by serve's key.
    const user = await imo(['request', 'a red spiral', '--yes', '--json'], { IMO_PRIVATE_KEY: key(1) })
    assert.equal(user.code, 0, user.stderr)
    const fulfilled = await until('the fulfilment', () => serve.lines.find((l) => l.event === 'fulfilled'))
    const tx = await client(anvil.rpcUrl).getTransaction({ hash: fulfilled.tx as Hex })
    assert.equal(tx.from.toLowerCase(), address(2).toLowerCase())
    assert.equal(await stopImo(serve), 0)
    // The operator's journal holds the operator's sends only, serve's its own.
    const journals = join(dir, '.imo', 'journal', '31337')
    assert.match(readFileSync(join(journals, `${address(2).toLowerCase()}.jsonl`), 'utf8'), /fulfill/)
  })
})
