/**
 * Revenue in stablecoins through the real CLI on a real anvil with the devnet's TestUsdc: the bad
 * currencies `imo deploy --revenue-currency` refuses (no code, not an ERC-20, a duplicate, too many,
 * malformed), each a one-line error with exit 2 and nothing sent.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { deployTestUsdc, TEST_USDC_ADDRESS } from '../src/devnet/deployTestUsdc.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { deployArgs, tempWorkdir } from './helpers/deployFixture.js'
import { runCli } from './helpers/runCli.js'

describe('imo deploy --revenue-currency', () => {
  let anvil: Anvil
  let work: ReturnType<typeof tempWorkdir>
  const imo = (args: string[]) => runCli(args, { cwd: work.dir, env: { IMO_PRIVATE_KEY: anvil.accounts[0].privateKey } })
  before(async () => {
    anvil = await startAnvil()
    work = tempWorkdir()
    await deployTestUsdc(anvil.rpcUrl, [anvil.accounts[0].address])
  })
  after(async () => {
    await anvil?.stop()
    work?.cleanup()
  })

  it('refuses a bad currency with a one-line error, exit 2, and sends nothing', async () => {
    const eoa = anvil.accounts[5].address
    const cases: Array<[string[], string]> = [
      [[eoa], `error: --revenue-currency ${eoa} has no contract code on this chain: it is not an ERC-20 token\n`],
      [[TEST_USDC_ADDRESS, TEST_USDC_ADDRESS.toLowerCase()], `error: --revenue-currency ${TEST_USDC_ADDRESS} is given twice\n`],
      [['0x1234'], 'error: --revenue-currency must be a 0x-prefixed 20-byte address, not "0x1234"\n'],
      [
        Array.from({ length: 8 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, '0')}`),
        'error: --revenue-currency is given 8 times: a token takes at most 7 ERC-20 revenue currencies\n',
      ],
    ]
    for (const [currencies, message] of cases) {
      const result = await imo(
        deployArgs(
          anvil.rpcUrl,
          currencies.flatMap((c) => ['--revenue-currency', c]),
        ),
      )
      assert.equal(result.code, 2, result.stderr)
      assert.equal(result.stderr, message)
      assert.equal(result.stdout, '')
    }
    const chain = await import('viem').then(({ createPublicClient, http }) =>
      createPublicClient({ transport: http(anvil.rpcUrl) }),
    )
    assert.equal(await chain.getTransactionCount({ address: anvil.accounts[0].address }), 0, 'nothing was sent')
  })

  it('refuses a contract that is not an ERC-20 (no symbol/decimals)', async () => {
    // A contract whose code is a single STOP: it has code, but answers no ERC-20 call.
    const stop = '0x00000000000000000000000000000000000000aa'
    await fetch(anvil.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_setCode', params: [stop, '0x00'] }),
    })
    const result = await imo(deployArgs(anvil.rpcUrl, ['--revenue-currency', stop]))
    assert.equal(result.code, 2, result.stderr)
    assert.equal(
      result.stderr,
      `error: --revenue-currency 0x00000000000000000000000000000000000000AA is a contract without ERC-20 symbol() and decimals()\n`,
    )
  })
})
