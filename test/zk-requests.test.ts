/**
 * Paid requests against a zk deployment (real anvil, the built CLI): the zk collection has no
 * request/fulfil/refund (anyone may mint a valid proof, so nobody needs to pay an operator to), so
 * `imo request`, `imo refund`, `imo requests` (and its set-fee / set-timeout) and `imo serve` refuse
 * at once: one line naming what to use instead, exit 2, no transaction sent, no stack trace.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createPublicClient, http, type PublicClient } from 'viem'
import { buildZkCppnFloat } from '../scripts/build-zk-model.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { compileZkModel } from '../src/zk/compileZkModel.js'
import { type CliResult, runCli } from './helpers/runCli.js'
import { TEST_ZK_CACHE, testPtau, zkDeployArgs } from './helpers/zkFixtures.js'

let anvil: Anvil
let dir: string
let client: PublicClient

const imo = (args: string[], key = 0): Promise<CliResult> =>
  runCli([...args, '--rpc-url', anvil.rpcUrl], {
    cwd: dir,
    env: { IMO_PRIVATE_KEY: anvil.accounts[key]!.privateKey, IMO_ZK_CACHE: TEST_ZK_CACHE },
    timeoutMs: 600_000,
  })

before(async () => {
  anvil = await startAnvil()
  dir = mkdtempSync(join(tmpdir(), 'imo-zk-requests-'))
  client = createPublicClient({ transport: http(anvil.rpcUrl) }) as PublicClient
  const ptau = await testPtau(12)
  const floatPath = join(dir, 'tiny.onnx')
  writeFileSync(floatPath, buildZkCppnFloat({ size: 4, units: 2 }))
  const model = (await compileZkModel({ input: floatPath, outDir: join(dir, 'tiny') })).modelFolder!
  const deployed = await imo([...zkDeployArgs(model, ptau), '--json'])
  assert.equal(deployed.code, 0, deployed.stderr)
  assert.equal(JSON.parse(deployed.stdout).proofScheme, 'zk')
})
after(async () => {
  await anvil?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('paid requests against a zk deployment', () => {
  it('request, refund, requests, requests set-fee/set-timeout and serve refuse: one line naming imo infer-and-mint, exit 2, nothing sent', async () => {
    const user = anvil.accounts[1]!.address
    const operator = anvil.accounts[0]!.address
    const nonces = async () => [
      await client.getTransactionCount({ address: user }),
      await client.getTransactionCount({ address: operator }),
    ]
    const before = await nonces()
    const cases: [string, string[], number][] = [
      ['request', ['request', 'a red spiral', '--yes'], 1],
      ['request --wait', ['request', 'a red spiral', '--wait', '--yes'], 1],
      ['refund', ['refund', '1', '--yes'], 1],
      ['requests', ['requests', '--open'], 1],
      ['requests set-fee', ['requests', 'set-fee', '0.01', '--yes'], 0],
      ['requests set-timeout', ['requests', 'set-timeout', '600', '--yes'], 0],
      ['serve', ['serve', '--until-idle'], 0],
    ]
    for (const [what, args, key] of cases) {
      const result = await imo(args, key)
      assert.equal(result.code, 2, `${what}: ${result.stdout}${result.stderr}`)
      const errors = result.stderr.split('\n').filter((l) => l.startsWith('error:'))
      assert.equal(errors.length, 1, `${what}: ${result.stderr}`)
      assert.match(
        errors[0]!,
        /^error: the deployment's collection 0x[0-9a-fA-F]{40} is a zk collection: it takes no paid requests; anyone mints with a proof instead \(imo infer-and-mint PROMPT, or imo infer --prove then imo mint\)$/,
        what,
      )
      assert.doesNotMatch(result.stderr, /\n\s+at /, what)
      assert.equal(result.stdout, '', what)
    }
    assert.deepEqual(await nonces(), before, 'no transaction was sent')
  })
})

describe('imo status on a zk deployment', () => {
  it('shows the collection as zk (no attesters, no paid requests) instead of failing on their reads', async () => {
    const human = await imo(['status'])
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stdout, /proofs\s+zk: the collection verifies each proof on chain/)
    assert.match(human.stdout, /paid requests\s+none: a zk collection takes none/)
    const json = await imo(['status', '--json'])
    assert.equal(json.code, 0, json.stderr)
    const report = JSON.parse(json.stdout)
    assert.equal(report.collection.proofScheme, 'zk')
    assert.deepEqual(report.collection.attesters, [])
    assert.equal(report.requests, null)
  })
})
