/**
 * Fee modes of the chain layer on a real anvil node: --gas-price sends a legacy transaction at that
 * price. (The automatic legacy path of a chain without an EIP-1559 base fee cannot be reached end to
 * end here: the contracts need cancun opcodes, which a pre-London node does not have.)
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { client, deployArgs, tempWorkdir } from './helpers/deployFixture.js'
import { runCli } from './helpers/runCli.js'

describe('fees', () => {
  let london: Anvil
  let work: ReturnType<typeof tempWorkdir>
  before(async () => {
    london = await startAnvil()
    work = tempWorkdir('imo-fees-')
  })
  after(async () => {
    await london.stop()
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
})
