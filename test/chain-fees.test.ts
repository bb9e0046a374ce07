/**
 * Fee modes and chain requirements on real anvil nodes: --gas-price sends a legacy transaction at
 * that price; a pre-cancun chain (anvil --hardfork berlin) is refused before anything is signed.
 * (The automatic legacy path of a chain without an EIP-1559 base fee cannot be reached end to end:
 * the contracts need cancun, which such a chain does not have.)
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { client, deployArgs, tempWorkdir } from './helpers/deployFixture.js'
import { runCli } from './helpers/runCli.js'

describe('fees', () => {
  let london: Anvil
  let berlin: Anvil
  let work: ReturnType<typeof tempWorkdir>
  before(async () => {
    ;[london, berlin] = await Promise.all([startAnvil(), startAnvil({ args: ['--hardfork', 'berlin'] })])
    work = tempWorkdir('imo-fees-')
  })
  after(async () => {
    await Promise.all([london.stop(), berlin.stop()])
    work.cleanup()
  })

  it('--gas-price sends legacy transactions at exactly that price', async () => {
    const r = await runCli(deployArgs(london.rpcUrl, ['--gas-price', '3', '--json']), {
      cwd: work.dir,
      env: { IMO_PRIVATE_KEY: london.accounts[0].privateKey },
    })
    assert.equal(r.code, 0, r.stderr)
    const deployment = JSON.parse(r.stdout)
    const tx = await client(london.rpcUrl).getTransaction({ hash: deployment.imoToken.txHash })
    assert.equal(tx.type, 'legacy')
    assert.equal(tx.gasPrice, 3_000_000_000n)
  })

  it('a chain without the cancun opcodes is refused before anything is signed (exit 3)', async () => {
    for (const extra of [['--dry-run'], []]) {
      const r = await runCli(deployArgs(berlin.rpcUrl, extra), {
        cwd: work.dir,
        env: { IMO_PRIVATE_KEY: berlin.accounts[0].privateKey },
      })
      assert.equal(r.code, 3, r.stderr)
      assert.match(
        r.stderr,
        /error: Anvil \(local\) \(chain 31337\) does not run the cancun upgrade's opcodes \(PUSH0, TSTORE, MCOPY\), which the imo contracts need; nothing was sent\n/,
      )
    }
    assert.equal(await client(berlin.rpcUrl).getTransactionCount({ address: berlin.accounts[0].address }), 0)
  })
})
