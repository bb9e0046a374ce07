/**
 * `imo serve` on a chain with block times (anvil --block-time 1, real onnxruntime): requests that
 * arrive in one block are fulfilled in one batch, so in one block. The local source infers one request
 * at a time; sending the first result alone made the next ones wait for its receipt, a block later.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Address, createPublicClient, createWalletClient, http, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { aigcCollectionAbi } from '../contracts-abi/index.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { repoRoot, runCli } from './helpers/runCli.js'
import { spawnImo, stopImo } from './helpers/spawnImo.js'

const CPPN = join(repoRoot, 'models', 'cppn')
let anvil: Anvil
let dir: string

before(async () => {
  anvil = await startAnvil({ blockTime: 1 })
  dir = mkdtempSync(join(tmpdir(), 'imo-serve-blocks-'))
})
after(async () => {
  await anvil?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('imo serve with one-second blocks', () => {
  it('fulfils the requests of one block in one block', async () => {
    const deployed = await runCli(
      ['deploy', '--model', CPPN, '--name', 'B', '--symbol', 'B', '--supply', '1000', '--json', '--rpc-url', anvil.rpcUrl],
      { cwd: dir, env: { IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey } },
    )
    assert.equal(deployed.code, 0, deployed.stderr)
    const collection = JSON.parse(deployed.stdout).aigcCollection.address as Address
    const serve = spawnImo(['serve', '--rpc-url', anvil.rpcUrl], {
      cwd: dir,
      env: { IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey },
      readyEvent: 'start',
    })
    try {
      await serve.ready
      // Three requests from three accounts, sent together: they land in one block (or, across a block
      // boundary, in two; the property is checked per block).
      const client = createPublicClient({ transport: http(anvil.rpcUrl) })
      const hashes = await Promise.all(
        [1, 2, 3].map((i) =>
          createWalletClient({
            account: privateKeyToAccount(anvil.accounts[i]!.privateKey as `0x${string}`),
            transport: http(anvil.rpcUrl),
          }).writeContract({
            address: collection,
            abi: aigcCollectionAbi,
            functionName: 'request',
            args: [toHex(`a burst of one block ${i}`), anvil.accounts[i]!.address as Address],
            value: 1_000_000_000_000_000n,
            chain: null,
          } as never),
        ),
      )
      for (const hash of hashes) await client.waitForTransactionReceipt({ hash })
      const fulfilled = () => serve.lines.filter((l) => l.event === 'fulfilled')
      for (const deadline = Date.now() + 60_000; fulfilled().length < 3; ) {
        if (Date.now() > deadline) throw new Error(`not all fulfilled: ${JSON.stringify(serve.lines)}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      const seenIn = new Map(serve.lines.filter((l) => l.event === 'seen').map((l) => [l.requestId, String(l.blockNumber)]))
      const byRequestBlock = new Map<string, Set<string>>()
      for (const line of fulfilled()) {
        const block = seenIn.get(line.requestId)!
        byRequestBlock.set(block, (byRequestBlock.get(block) ?? new Set()).add(String(line.blockNumber)))
      }
      for (const [requestBlock, fulfilmentBlocks] of byRequestBlock)
        assert.equal(
          fulfilmentBlocks.size,
          1,
          `the requests of block ${requestBlock} were fulfilled in blocks ${[...fulfilmentBlocks].join(', ')}: ${JSON.stringify(serve.lines)}`,
        )
    } finally {
      assert.equal(await stopImo(serve), 0)
    }
  })
})
