/**
 * `imo claim` right after `imo snapshot` (issue 21 item 11): claims on a snapshot open one second
 * after it, and a devnet makes no block until the next transaction, so `claimableRevenue` read at the
 * latest block said 0 and claim printed "Nothing to claim" (exit 0) for revenue the holder had. The
 * README's sequence `revenue deposit; snapshot --yes; claim` must claim; claim waits for the opening
 * (saying so), or with --no-wait exits 3 saying when claims open. Real anvil; its block clock is
 * frozen (anvil_setBlockTimestampInterval 0) to hold a snapshot's second open as long as a test needs.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Address, parseEther } from 'viem'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { anvilRpc, client } from './helpers/deployFixture.js'
import { type CliResult, cleanEnv, imoBin, runCli } from './helpers/runCli.js'

let anvil: Anvil
let work: string
let holder: Address

const imo = (args: string[]) =>
  runCli([...args, '--rpc-url', anvil.rpcUrl], { cwd: work, env: { IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey } })
const rpc = (method: string, params: unknown[]) => anvilRpc(anvil.rpcUrl, method, params)
const json = (result: CliResult) => {
  assert.equal(result.code, 0, result.stderr)
  return JSON.parse(result.stdout)
}
/**
 * Lets the snapshot interval pass, deposits 1 ETH and takes a snapshot, as the README does; with
 * `freeze`, every block from the deposit on keeps the deposit's timestamp (until unfrozen).
 */
async function depositAndSnapshot(freeze = false): Promise<number> {
  await rpc('evm_increaseTime', [61])
  await rpc('evm_mine', [])
  if (freeze) await rpc('anvil_setBlockTimestampInterval', [0])
  json(await imo(['revenue', 'deposit', '1', '--yes', '--json']))
  return json(await imo(['snapshot', '--yes', '--json'])).snapshotId
}

before(async () => {
  anvil = await startAnvil()
  work = mkdtempSync(join(tmpdir(), 'imo-claim-open-'))
  holder = anvil.accounts[0]!.address as Address
  json(
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
      '--snapshot-interval',
      '60',
      '--json',
    ]),
  )
})
after(async () => {
  await anvil.stop()
  rmSync(work, { recursive: true, force: true })
})

describe('imo claim right after a snapshot', () => {
  it("the README's sequence deposit; snapshot --yes; claim claims the holder's share", async () => {
    const id = await depositAndSnapshot()
    const claimed = json(await imo(['claim', '--json']))
    assert.equal(claimed.status, 'sent', JSON.stringify(claimed))
    assert.deepEqual(claimed.snapshots, [{ id, amountWei: String(parseEther('0.5')) }])
  })

  it('--no-wait exits 3 saying when claims open, sends nothing, and never says "nothing to claim"', async () => {
    try {
      const id = await depositAndSnapshot(true)
      const nonce = await client(anvil.rpcUrl).getTransactionCount({ address: holder })
      for (const args of [
        ['claim', '--no-wait'],
        ['claim', '--no-wait', '--snapshot', String(id)],
      ]) {
        const result = await imo(args)
        assert.equal(result.code, 3, result.stderr)
        assert.match(
          result.stderr,
          new RegExp(`^error: claims on snapshot ${id} open at \\d{4}-.* \\(in 1 s\\): nothing was sent$`, 'm'),
        )
        assert.doesNotMatch(`${result.stdout}${result.stderr}`, /nothing to claim/i)
      }
      assert.equal(await client(anvil.rpcUrl).getTransactionCount({ address: holder }), nonce)
      // claimable says the same, never "nothing to claim".
      const shown = await imo(['claimable'])
      assert.equal(shown.code, 0, shown.stderr)
      assert.match(shown.stdout, new RegExp(`^snapshot ${id}: ${holder} has a share there; claims on it open at \\d{4}-`))
      assert.doesNotMatch(shown.stdout, /nothing to claim/i)
      const opening = json(await imo(['claimable', '--json'])).opening
      assert.equal(opening.length, 1)
      assert.equal(opening[0].id, id)
    } finally {
      await rpc('anvil_removeBlockTimestampInterval', [])
    }
  })

  it('waits for the opening, saying so, then claims', async () => {
    let removed = false
    try {
      const id = await depositAndSnapshot(true)
      const child = spawn(process.execPath, [imoBin, 'claim', '--json', '--rpc-url', anvil.rpcUrl], {
        cwd: work,
        env: cleanEnv({ IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey }),
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk) => {
        stdout += chunk
      })
      child.stderr.on('data', (chunk) => {
        stderr += chunk
      })
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
      const deadline = Date.now() + 30_000
      while (!/waiting/.test(stderr) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
      assert.match(stderr, new RegExp(`claims on snapshot ${id} open at .*; waiting \\(--no-wait to stop instead\\)`))
      await rpc('anvil_removeBlockTimestampInterval', []) // the chain's clock runs again: the next block opens them
      removed = true
      assert.equal(await exited, 0, stderr)
      const claimed = JSON.parse(stdout)
      assert.equal(claimed.status, 'sent')
      // The previous test's snapshot (refused with --no-wait) is claimed too, in the same claimBatch.
      assert.deepEqual(claimed.snapshots, [
        { id: id - 1, amountWei: String(parseEther('0.5')) },
        { id, amountWei: String(parseEther('0.5')) },
      ])
    } finally {
      if (!removed) await rpc('anvil_removeBlockTimestampInterval', [])
    }
  })
})
