/**
 * `imo verify --token` on a causal-lm collection (tinylm, real anvil, real onnxruntime). The settings a
 * text was generated with live in the token's metadata; when that metadata is not reachable, verify
 * re-generates with the model's own settings: a match verifies, another text is "unverified" (exit 10,
 * the check could not run), never "failed" (exit 9 would call a genuine token forged).
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { repoRoot, runCli } from './helpers/runCli.js'

const TINYLM = join(repoRoot, 'models', 'tinylm')
let anvil: Anvil
let dir: string
let empty: string
/** Minted with the model's own settings (imo.pipeline.json); with another seed; with another limit. */
let ownSettings: string
let otherSeed: string
let otherLimit: string

const imo = (args: string[]) =>
  runCli([...args, '--rpc-url', anvil.rpcUrl], { cwd: dir, env: { IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey } })
/** The report of `verify --json`: the document itself, or its `result` when the exit is not 0. */
const reportOf = (stdout: string) => {
  const body = JSON.parse(stdout)
  return body.result ?? body
}
const statuses = (stdout: string): Record<string, string> =>
  Object.fromEntries(reportOf(stdout).checks.map((c: { name: string; status: string }) => [c.name, c.status]))

before(async () => {
  anvil = await startAnvil()
  dir = mkdtempSync(join(tmpdir(), 'imo-verify-lm-'))
  empty = join(dir, 'empty')
  mkdirSync(empty)
  const deployed = await imo(['deploy', '--model', TINYLM, '--name', 'L', '--symbol', 'L', '--supply', '1000', '--json'])
  assert.equal(deployed.code, 0, deployed.stderr)
  const mint = async (args: string[]) => {
    const minted = await imo(['infer-and-mint', ...args, '--json'])
    assert.equal(minted.code, 0, minted.stderr)
    return JSON.parse(minted.stdout).outcomes[0].tokenIdHex as string
  }
  // Both "The ..." prompts stop after 15 tokens with the model's settings (checked when written).
  ownSettings = await mint(['The lighthouse keeper'])
  otherLimit = await mint(['The old keeper', '--max-new-tokens', '40'])
  otherSeed = await mint(['The harbour at dawn', '--seed', '5'])
})
after(async () => {
  await anvil?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('imo verify --token on a causal-lm collection', () => {
  it('verifies with the settings its metadata records (found by CID), whatever the seed', async () => {
    for (const token of [ownSettings, otherSeed, otherLimit]) {
      const result = await imo(['verify', '--token', token, '--json'])
      assert.equal(result.code, 0, result.stdout + result.stderr)
      const checks = statuses(result.stdout)
      assert.equal(checks.metadata, 'pass')
      assert.equal(checks['re-execution'], 'pass')
      assert.equal(checks.commitment, 'pass')
    }
  })

  it("without its metadata, verifies a text that the model's own settings reproduce", async () => {
    const result = await imo(['verify', '--token', ownSettings, '--metadata-dir', empty, '--json'])
    assert.equal(result.code, 0, result.stdout + result.stderr)
    const report = JSON.parse(result.stdout)
    assert.equal(report.status, 'verified')
    const reexecution = report.checks.find((c: { name: string }) => c.name === 're-execution')
    assert.equal(reexecution.status, 'pass')
    assert.match(reexecution.detail, /with the model's own settings/)
    assert.equal(statuses(result.stdout).commitment, 'pass')
  })

  it('without its metadata, the same text from settings that differ where it did not matter: commitment unverified', async () => {
    // --max-new-tokens 40 gives the text the default 64 gives (it stops after 15 tokens); the
    // configuration hash, and so the commitment, differ from what the model's settings give.
    const result = await imo(['verify', '--token', otherLimit, '--metadata-dir', empty, '--json'])
    assert.equal(result.code, 10, result.stdout + result.stderr)
    const checks = statuses(result.stdout)
    assert.deepEqual([checks['re-execution'], checks['on-chain verify'], checks.commitment], ['pass', 'pass', 'skip'])
    const commitment = reportOf(result.stdout).checks.find((c: { name: string }) => c.name === 'commitment')
    assert.match(commitment.detail, /^the text matches, but with the model's own settings the commitment is 0x/)
  })

  it('without its metadata, a text made with other settings is unverified (exit 10), not failed', async () => {
    const result = await imo(['verify', '--token', otherSeed, '--metadata-dir', empty, '--json'])
    assert.equal(result.code, 10, result.stdout + result.stderr)
    const report = reportOf(result.stdout)
    assert.equal(report.status, 'unverified')
    const checks = statuses(result.stdout)
    assert.deepEqual(
      [checks['re-execution'], checks['on-chain verify'], checks.commitment, checks['attestation signature']],
      ['skip', 'skip', 'skip', 'pass'],
    )
    assert.ok(report.checks.every((c: { status: string }) => c.status !== 'fail'))
    const human = await imo(['verify', '--token', otherSeed, '--metadata-dir', empty])
    assert.equal(human.code, 10)
    assert.match(
      human.stdout + human.stderr,
      /token's metadata, which records the settings it was generated with, is not available/,
    )
    assert.doesNotMatch(human.stderr, /at .*\.js:\d+/)
  })
})
