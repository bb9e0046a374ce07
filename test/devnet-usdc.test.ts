/**
 * `imo devnet`'s test USDC: deployed at the same address on every fresh devnet, with USDC's symbol and
 * 6 decimals, and 1,000,000 USDC in each development account; the address is in `.imo/devnet.json`.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { createPublicClient, erc20Abi, http } from 'viem'
import { TEST_USDC_ADDRESS } from '../src/devnet/deployTestUsdc.js'
import { tempWorkdir } from './helpers/deployFixture.js'
import { cleanEnv, imoBin } from './helpers/runCli.js'

interface DevnetDocument {
  rpcUrl: string
  testUsdc: { address: string; decimals: number }
  accounts: Array<{ address: `0x${string}` }>
}

/** Starts `imo devnet --json` in `dir`; resolves with its document and a stop function. */
async function startDevnet(dir: string): Promise<{ data: DevnetDocument; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, [imoBin, 'devnet', '--json'], {
    cwd: dir,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  const deadline = Date.now() + 30_000
  while (!stdout.trim().endsWith('}') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  const stop = async () => {
    child.kill('SIGINT')
    return exited
  }
  if (!stdout.trim().endsWith('}')) {
    await stop()
    assert.fail(`imo devnet printed no document: ${stderr}`)
  }
  return { data: JSON.parse(stdout), stop }
}

describe('imo devnet: test USDC', () => {
  it('deploys TestUsdc at the same address on every fresh devnet and funds each dev account with 1,000,000 USDC', async () => {
    for (let run = 0; run < 2; run++) {
      const work = tempWorkdir()
      const devnet = await startDevnet(work.dir)
      try {
        assert.equal(devnet.data.testUsdc.address, TEST_USDC_ADDRESS)
        assert.equal(devnet.data.testUsdc.decimals, 6)
        const file = JSON.parse(readFileSync(join(work.dir, '.imo', 'devnet.json'), 'utf8'))
        assert.equal(file.testUsdc, TEST_USDC_ADDRESS)
        const chain = createPublicClient({ transport: http(devnet.data.rpcUrl) })
        const read = (functionName: 'symbol' | 'decimals') =>
          chain.readContract({ address: TEST_USDC_ADDRESS, abi: erc20Abi, functionName })
        assert.equal(await read('symbol'), 'USDC')
        assert.equal(await read('decimals'), 6)
        for (const account of devnet.data.accounts)
          assert.equal(
            await chain.readContract({
              address: TEST_USDC_ADDRESS,
              abi: erc20Abi,
              functionName: 'balanceOf',
              args: [account.address],
            }),
            1_000_000_000_000n,
          )
        // The first dev account is untouched: its nonce stays 0, so the operator's deployments land where they always did.
        assert.equal(await chain.getTransactionCount({ address: devnet.data.accounts[0]!.address }), 0)
      } finally {
        assert.equal(await devnet.stop(), 0)
        work.cleanup()
      }
    }
  })
})
