import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { createPublicClient, erc20Abi, getAddress, http, parseEventLogs } from 'viem'
import { TEST_USDC_ADDRESS } from '../src/devnet/deployTestUsdc.js'
import { runCli } from './helpers/runCli.js'

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

async function waitGone(pid: number, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (gone(pid)) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return gone(pid)
}

describe('imo demo', () => {
  it('runs the whole loop in under 60 s: 3 mints with fees, a paid request served, 2 proportional claims, a verified token, and stops its devnet', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imo-demo-'))
    try {
      // A real .imo/ of the user's: the demo must neither read nor touch it.
      const own = join(dir, '.imo', 'deployments', '31337', 'default.json')
      mkdirSync(join(dir, '.imo', 'deployments', '31337'), { recursive: true })
      writeFileSync(own, '{"mine": true}\n')
      const started = Date.now()
      const result = await runCli(['demo', '--json'], { cwd: dir, timeoutMs: 90_000 })
      const seconds = (Date.now() - started) / 1000
      assert.equal(result.code, 0, result.stderr)
      assert.ok(seconds < 60, `took ${seconds} s`)
      const report = JSON.parse(result.stdout)
      assert.equal(report.ok, true)
      assert.equal(report.outDir, join(dir, 'imo-demo'))

      assert.equal(report.mints.length, 3)
      assert.deepEqual(
        report.mints.map((m: { prompt: string }) => m.prompt),
        ['a red spiral', 'ocean waves at dusk', 'a field of neon stars'],
      )
      const fee = BigInt(report.mintFeeWei)
      assert.equal(fee, 10n ** 16n)
      for (const mint of report.mints) {
        assert.equal(BigInt(mint.feeWei), fee)
        assert.match(mint.txHash, /^0x[0-9a-f]{64}$/)
        assert.ok(mint.image.startsWith(report.outDir))
        assert.deepEqual(readFileSync(mint.image).subarray(0, 8), PNG)
        assert.equal(JSON.parse(readFileSync(mint.record, 'utf8')).modelHash, report.model.modelHash)
      }
      assert.equal(BigInt(report.feesToTokenWei), 3n * fee)

      // The paid request: dev account 2 pays the request fee, the in-process imo serve fulfils it to them.
      const request = report.request
      assert.equal(request.prompt, 'a violet lattice at noon')
      assert.equal(request.requester, '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC')
      assert.equal(request.recipient, request.requester)
      assert.equal(request.requestId, '1')
      const requestFee = BigInt(request.feeWei)
      assert.equal(requestFee, 5n * 10n ** 15n)
      assert.match(request.requestTx, /^0x[0-9a-f]{64}$/)
      assert.match(request.fulfilTx, /^0x[0-9a-f]{64}$/)
      assert.notEqual(request.fulfilTx, request.requestTx)
      assert.ok(!report.mints.some((m: { tokenId: string }) => m.tokenId === request.tokenId))
      assert.ok(request.image.startsWith(report.outDir))
      assert.deepEqual(readFileSync(request.image).subarray(0, 8), PNG)

      // The paid API call: the same user asks serve's HTTP API through imo ask's client and pays 1 test USDC
      // with x402; serve settles it into the token, whose USDC balance grows by exactly the price.
      const api = report.apiCall
      assert.equal(api.prompt, 'a golden maze')
      assert.equal(api.payer, request.requester)
      assert.equal(api.currency, TEST_USDC_ADDRESS)
      assert.equal(api.paidWei, '1000000')
      assert.equal(api.tokenReceivedWei, api.paidWei)
      assert.match(api.settlementTxHash, /^0x[0-9a-f]{64}$/)
      assert.match(api.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.deepEqual(readFileSync(api.image).subarray(0, 8), PNG)
      const answer = JSON.parse(readFileSync(api.file, 'utf8'))
      assert.equal(answer.imo.attestation.payer, api.payer)
      assert.equal(answer.imo.settlement.transaction, api.settlementTxHash)
      assert.equal(answer.imo.record.commitment, api.commitment)
      assert.equal(api.attester, '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266') // serve's key (dev account 0) signs the answers

      // Revenue: 1 ETH + the mint fees + the request fee, half to the holders' pool, shared by balance.
      assert.equal(BigInt(report.revenue.depositWei), 10n ** 18n)
      assert.equal(BigInt(report.revenue.claimPoolWei), (10n ** 18n + 3n * fee + requestFee) / 2n)
      const [a, b] = report.holders as Array<{ address: string; balanceWei: string; claimedWei: string }>
      assert.notEqual(a!.address, b!.address)
      const [balA, balB, claimA, claimB] = [a!.balanceWei, b!.balanceWei, a!.claimedWei, b!.claimedWei].map(BigInt)
      assert.ok(claimA! > 0n && claimB! > 0n)
      assert.equal(balA! + balB!, 1_000_000n * 10n ** 18n)
      const pool = BigInt(report.revenue.claimPoolWei)
      assert.equal(claimA, (pool * balA!) / (balA! + balB!))
      assert.equal(claimB, (pool * balB!) / (balA! + balB!))
      // 250 USDC of revenue in the devnet's test USDC + the API call's 1 USDC: half to the holders' pool,
      // claimed by both (70/30), so each holder's claim includes its share of the API payment.
      assert.equal(report.usdc.address, TEST_USDC_ADDRESS)
      assert.equal(report.usdc.deposit, '250000000')
      const usdcClaims = (report.holders as Array<{ claimedUsdc: string }>).map((h) => BigInt(h.claimedUsdc))
      assert.deepEqual(usdcClaims, [87_850_000n, 37_650_000n])

      assert.equal(report.verification.ok, true)
      assert.equal(report.verification.tokenId, report.mints[0].tokenId)
      const reexecution = report.verification.checks.find((c: { name: string }) => c.name === 're-execution')
      assert.equal(reexecution?.status, 'pass')

      assert.equal(report.chain.running, false)
      assert.ok(await waitGone(report.chain.pid), `anvil ${report.chain.pid} is still running`)
      // Nothing of the demo in the working folder's .imo/, and the user's file untouched.
      assert.deepEqual(readdirSync(dir).sort(), ['.imo', 'imo-demo'])
      assert.deepEqual(readdirSync(join(dir, '.imo')), ['deployments'])
      assert.equal(readFileSync(own, 'utf8'), '{"mine": true}\n')
      assert.equal(existsSync(join(dir, 'imo-demo', '.imo')), false)
      assert.deepEqual(JSON.parse(readFileSync(join(dir, 'imo-demo', 'demo.json'), 'utf8')), report)
      console.log(`imo demo took ${seconds.toFixed(1)} s (report: ${(report.durationMs / 1000).toFixed(1)} s)`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('--keep leaves the devnet running with the state recorded, and the other commands act on it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imo-demo-'))
    let pid: number | undefined
    try {
      const result = await runCli(['demo', '--keep', '--json', '--out', 'out'], { cwd: dir, timeoutMs: 90_000 })
      assert.equal(result.code, 0, result.stderr)
      const report = JSON.parse(result.stdout)
      pid = report.chain.pid as number
      assert.equal(report.chain.running, true)
      assert.equal(gone(pid), false)
      assert.ok(report.next.includes('imo status'))
      const devnet = JSON.parse(readFileSync(join(dir, '.imo', 'devnet.json'), 'utf8'))
      assert.equal(devnet.rpcUrl, report.chain.rpcUrl)
      assert.equal(report.deploymentFile, join(dir, '.imo', 'deployments', '31337', 'default.json'))
      const claimable = await runCli(['claimable', '--json'], { cwd: dir })
      assert.equal(claimable.code, 0, claimable.stderr)
      const status = await runCli(['status', '--json'], { cwd: dir })
      assert.equal(status.code, 0, status.stderr)
      assert.ok(status.stdout.toLowerCase().includes(report.imoToken.toLowerCase()))
      // The API call's settlement, read from the chain: one USDC Transfer of the price from the payer to the token.
      const client = createPublicClient({ transport: http(report.chain.rpcUrl) })
      const receipt = await client.getTransactionReceipt({ hash: report.apiCall.settlementTxHash })
      assert.equal(receipt.status, 'success')
      const transfers = parseEventLogs({ abi: erc20Abi, logs: receipt.logs, eventName: 'Transfer' })
      assert.equal(transfers.length, 1)
      assert.equal(getAddress(transfers[0]!.address), TEST_USDC_ADDRESS)
      assert.deepEqual(transfers[0]!.args, { from: report.apiCall.payer, to: report.imoToken, value: 1_000_000n })
      // The saved answer verifies like a record (re-execution; the attester read from the kept chain).
      const verified = await runCli(['verify', report.apiCall.file, '--model', report.model.path, '--json'], { cwd: dir })
      assert.equal(verified.code, 0, verified.stderr)
      assert.equal(JSON.parse(verified.stdout).status, 'verified')
    } finally {
      if (pid) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // gone
        }
      }
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('refuses an --out folder holding other files (exit 2), starting nothing and touching nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imo-demo-'))
    try {
      mkdirSync(join(dir, 'photos'))
      writeFileSync(join(dir, 'photos', 'cat.jpg'), 'meow')
      const result = await runCli(['demo', '--out', 'photos'], { cwd: dir })
      assert.equal(result.code, 2)
      assert.equal(result.stdout, '')
      assert.equal(
        result.stderr.trim(),
        `error: the output folder ${join(dir, 'photos')} holds other files; pass another --out DIR or empty it`,
      )
      assert.deepEqual(readdirSync(dir), ['photos'])
      assert.deepEqual(readdirSync(join(dir, 'photos')), ['cat.jpg'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
  it('--model tinylm runs the loop with the text model: 3 texts minted and one verified by re-generating it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imo-demo-lm-'))
    try {
      const result = await runCli(['demo', '--model', 'tinylm', '--json'], { cwd: dir, timeoutMs: 90_000 })
      assert.equal(result.code, 0, result.stderr)
      const report = JSON.parse(result.stdout)
      assert.equal(report.ok, true)
      assert.ok(report.model.path.endsWith(join('models', 'tinylm')))
      assert.deepEqual(
        report.mints.map((m: { prompt: string }) => m.prompt),
        ['The river', 'The market opened at', 'A small robot'],
      )
      for (const mint of report.mints) {
        assert.ok(mint.image.endsWith('text.txt'))
        assert.equal(readFileSync(mint.image, 'utf8'), mint.text)
        assert.ok(mint.text.length > 0)
      }
      assert.equal(report.request.prompt, 'The old lighthouse')
      assert.ok(report.request.image.endsWith('text.txt'))
      assert.equal(readFileSync(report.request.image, 'utf8'), report.request.text)
      // The paid API call on the text model: /v1/completions, its text in the report and in the saved answer.
      assert.equal(report.apiCall.prompt, 'The harbour at night')
      assert.equal(report.apiCall.image, undefined)
      assert.ok(report.apiCall.text.length > 0)
      assert.equal(JSON.parse(readFileSync(report.apiCall.file, 'utf8')).choices[0].text, report.apiCall.text)
      assert.equal(report.apiCall.tokenReceivedWei, '1000000')
      const reexecution = report.verification.checks.find((c: { name: string }) => c.name === 're-execution')
      assert.equal(reexecution.status, 'pass')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
