/**
 * Paid requests end to end, through the built CLI on a real anvil with the bundled model (real
 * onnxruntime): `imo request --wait` answered by `imo serve`, refunds, owner terms, bad input.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Address, createPublicClient, http, type PublicClient } from 'viem'
import { aigcCollectionAbi, imoTokenAbi } from '../contracts-abi/index.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { cleanEnv, imoBin, repoRoot, runCli } from './helpers/runCli.js'

const CPPN = join(repoRoot, 'models', 'cppn')
const FEE = 1_000_000_000_000_000n // 0.001 ETH, the deploy default
let anvil: Anvil
let dir: string
let client: PublicClient
let token: Address
let collection: Address

const key = (index: number) => anvil.accounts[index]!.privateKey
const imo = (args: string[], signer: number | undefined = 0, timeoutMs?: number) =>
  runCli([...args, '--rpc-url', anvil.rpcUrl], {
    cwd: dir,
    env: { IMO_PRIVATE_KEY: signer === undefined ? undefined : key(signer) },
    ...(timeoutMs ? { timeoutMs } : {}),
  })
const pendingRevenue = () =>
  client.readContract({ address: token, abi: imoTokenAbi, functionName: 'pendingRevenue' }) as Promise<bigint>
const requestStatus = async (id: bigint) =>
  (
    (await client.readContract({ address: collection, abi: aigcCollectionAbi, functionName: 'getRequest', args: [id] })) as {
      status: number
    }
  ).status

/** Serve processes started here, killed at the end whatever a test left running (a held lock cascades). */
const children: ChildProcess[] = []

/** `imo serve` as a long-running child: JSON log lines collected from stderr. */
function startServe(extra: string[] = []): {
  child: ChildProcess
  lines: Array<Record<string, unknown>>
  stdout: () => string
  exited: Promise<number | null>
} {
  const child = spawn(process.execPath, [imoBin, 'serve', '--json', '--rpc-url', anvil.rpcUrl, ...extra], {
    cwd: dir,
    env: cleanEnv({ IMO_PRIVATE_KEY: key(0) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  const lines: Array<Record<string, unknown>> = []
  let out = ''
  let buffer = ''
  child.stdout!.on('data', (chunk) => {
    out += chunk
  })
  child.stderr!.on('data', (chunk) => {
    buffer += chunk
    const parts = buffer.split('\n')
    buffer = parts.pop()!
    // A line that is not JSON (a Node warning, say) is kept as text: the first test refuses any.
    for (const line of parts)
      if (line.trim()) {
        try {
          lines.push(JSON.parse(line))
        } catch {
          lines.push({ notJson: line })
        }
      }
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return { child, lines, stdout: () => out, exited }
}

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value !== undefined && value !== false) return value as T
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

before(async () => {
  anvil = await startAnvil()
  dir = mkdtempSync(join(tmpdir(), 'imo-serve-'))
  client = createPublicClient({ transport: http(anvil.rpcUrl) }) as PublicClient
  const deployed = await imo([
    'deploy',
    '--model',
    CPPN,
    '--name',
    'T',
    '--symbol',
    'T',
    '--supply',
    '1000',
    '--request-timeout',
    '600',
    '--json',
  ])
  assert.equal(deployed.code, 0, deployed.stderr)
  const deployment = JSON.parse(readFileSync(join(dir, '.imo', 'deployments', '31337', 'default.json'), 'utf8'))
  token = deployment.imoToken.address
  collection = deployment.aigcCollection.address
})
after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await anvil?.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** The 'proof format' check of a `verify --json` document: its status and detail. */
const proofFormat = (stdout: string) => {
  const check = (JSON.parse(stdout).checks as Array<{ name: string; status: string; detail: string }>).find(
    (c) => c.name === 'proof format',
  )
  return `${check?.status} ${check?.detail}`
}

describe('imo request + imo serve', () => {
  it("fulfils a user's request: the recipient owns the token, the fee is pending revenue, verify --token passes", async () => {
    const serve = startServe(['--metrics-port', '0'])
    const port = await until('the metrics port', () => serve.lines.find((l) => l.metricsPort)?.metricsPort as number | undefined)
    await until('serve to start', () => serve.lines.find((l) => l.event === 'start' && l.fromBlock))
    const pending = await pendingRevenue()
    const recipient = anvil.accounts[2]!.address
    const requested = await imo(['request', 'a red spiral', '--to', recipient, '--wait', '--timeout', '60', '--json'], 1)
    assert.equal(requested.code, 0, requested.stderr)
    const out = JSON.parse(requested.stdout)
    assert.equal(out.requestId, '1')
    assert.equal(out.feeWei, FEE.toString())
    assert.equal(out.fulfilment.status, 'fulfilled')
    assert.match(out.fulfilment.tokenUri, /^ipfs:\/\//)
    assert.equal(out.verification.ok, true)
    const tokenId = BigInt(out.fulfilment.tokenIdHex)
    assert.equal(
      await client.readContract({ address: collection, abi: aigcCollectionAbi, functionName: 'ownerOf', args: [tokenId] }),
      recipient,
    )
    assert.equal(await pendingRevenue(), pending + FEE)
    // The operator's own check of the token (its files are under out/ in serve's folder).
    const verified = await imo(['verify', '--token', out.fulfilment.tokenIdHex, '--json'], undefined)
    assert.equal(verified.code, 0, verified.stderr)
    assert.equal(JSON.parse(verified.stdout).ok, true)
    // Its proof is a fulfilment proof of request 1 (never valid in a direct mint: issue 21 item 4).
    assert.match(proofFormat(verified.stdout), /^pass AigcFulfilment of request 1: /)
    // Metrics and health.
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    assert.match(metrics, /^imo_serve_requests_fulfilled_total 1$/m)
    assert.match(metrics, /^imo_serve_requests_seen_total 1$/m)
    assert.match(metrics, /^imo_serve_inference_seconds_count 1$/m)
    assert.match(metrics, /^imo_serve_end_to_end_seconds_count 1$/m)
    assert.match(metrics, /^imo_serve_signer_balance_wei \d/m)
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200)
    // Idle rounds (every 250 ms) leave the cursor file alone: it is rewritten (an fsync) only when it
    // moves. A first run used to rewrite it every round, forever.
    const cursorFile = join(dir, '.imo', 'serve', '31337', `${collection.toLowerCase()}.json`)
    const written = statSync(cursorFile).ino
    await new Promise((resolve) => setTimeout(resolve, 1200))
    assert.equal(statSync(cursorFile).ino, written, 'the cursor file was rewritten while nothing moved')
    // One line per event, and a clean stop on SIGTERM: exit 0, the summary on stdout, the cursor saved.
    assert.ok(serve.lines.some((l) => l.event === 'seen' && l.requestId === '1'))
    assert.ok(serve.lines.some((l) => l.event === 'fulfilled' && l.requestId === '1' && l.recipient === recipient))
    serve.child.kill('SIGTERM')
    assert.equal(await serve.exited, 0)
    assert.equal(JSON.parse(serve.stdout()).fulfilled, 1)
    assert.deepEqual(
      serve.lines.filter((l) => l.notJson),
      [],
      'every stderr line is a JSON log line (no Node warnings)',
    )
    assert.ok(existsSync(cursorFile))
    // A token minted directly in the same collection carries a mint proof, and verifies as well.
    const minted = await imo(['infer-and-mint', 'a blue square', '--json'])
    assert.equal(minted.code, 0, minted.stderr)
    const mintedToken = JSON.parse(minted.stdout).outcomes[0].tokenIdHex
    const mintedVerified = await imo(['verify', '--token', mintedToken, '--json'], undefined)
    assert.equal(mintedVerified.code, 0, mintedVerified.stderr)
    assert.equal(JSON.parse(mintedVerified.stdout).ok, true)
    assert.match(proofFormat(mintedVerified.stdout), /^pass AigcMint: /)
  })

  it('refunds after a prompt collision at once, refuses a second refund and the refund of a fulfilled request', async () => {
    const a = await imo(['request', 'ocean waves at dusk', '--json'], 1)
    const b = await imo(['request', 'ocean waves at dusk', '--json'], 2)
    assert.equal(a.code, 0, a.stderr)
    assert.equal(b.code, 0, b.stderr)
    const [idA, idB] = [JSON.parse(a.stdout).requestId, JSON.parse(b.stdout).requestId]
    const served = await imo(['serve', '--until-idle', '--json'])
    assert.equal(served.code, 0, served.stderr)
    assert.equal(await requestStatus(BigInt(idA)), 2)
    assert.match(served.stderr, new RegExp(`request ${idB} cannot be served: its prompt is minted already`))
    const before = await client.getBalance({ address: anvil.accounts[2]!.address })
    const refunded = await imo(['refund', idB, '--json'], 1) // anyone may send it; the fee goes to the requester
    assert.equal(refunded.code, 0, refunded.stderr)
    assert.equal(JSON.parse(refunded.stdout).reason, 'prompt-minted')
    assert.equal(await client.getBalance({ address: anvil.accounts[2]!.address }), before + FEE)
    const fulfilled = await imo(['refund', idA], 1)
    assert.equal(fulfilled.code, 3)
    assert.match(
      fulfilled.stderr,
      new RegExp(`^error: request ${idA} was fulfilled .*cannot be refunded; nothing was sent$`, 'm'),
    )
  })

  it('refunds after expiry (owner shortens the timeout), serve skips the expired request and says so', async () => {
    const set = await imo(['requests', 'set-timeout', '30', '--json'])
    assert.equal(set.code, 0, set.stderr)
    const requested = await imo(['request', 'a field of neon stars', '--json'], 1)
    const id = JSON.parse(requested.stdout).requestId
    const early = await imo(['refund', id], 1)
    assert.equal(early.code, 3)
    assert.match(early.stderr, /is not refundable yet/)
    await client.request({ method: 'evm_increaseTime', params: [60] } as never)
    await client.request({ method: 'evm_mine', params: [] } as never)
    const served = await imo(['serve', '--until-idle'])
    assert.equal(served.code, 0, served.stderr)
    assert.match(served.stderr, new RegExp(`request ${id} expired .*not served; its requester can refund it`))
    const refunded = await imo(['refund', id, '--json'], 1)
    assert.equal(refunded.code, 0, refunded.stderr)
    assert.equal(JSON.parse(refunded.stdout).reason, 'expired')
    const again = await imo(['refund', id], 1)
    assert.equal(again.code, 0, again.stderr) // the journal: the same refund, already confirmed
    assert.equal((await imo(['requests', 'set-timeout', '600'])).code, 0)
  })

  it('--wait gives up with exit 5 and names the request id for imo refund', async () => {
    const result = await imo(['request', 'nobody serves this', '--wait', '--timeout', '2'], 1)
    assert.equal(result.code, 5, result.stderr)
    assert.match(result.stderr, /^error: request (\d+) was not fulfilled within 2 s/m)
    assert.match(result.stderr, /imo refund \d+/)
    const list = await imo(['requests', '--open', '--mine', '--json'], 1)
    assert.equal(list.code, 0, list.stderr)
    const open = JSON.parse(list.stdout).requests
    assert.deepEqual(
      open.map((r: { prompt: string }) => r.prompt),
      ['nobody serves this'],
    )
  })

  it('bad input: one-line errors with the documented exit codes', async () => {
    const lines = (stderr: string) => stderr.split('\n').filter((l) => l && !l.startsWith('…') && !l.startsWith('✔'))
    const cases: Array<[string[], number | undefined, number, RegExp]> = [
      [['request', ''], 1, 2, /^error: PROMPT is empty/],
      [['request', 'x'.repeat(4097)], 1, 2, /^error: PROMPT is 4097 bytes; a request takes at most 4096 bytes$/],
      [
        ['request', 'a prompt', '--fee', '0.5'],
        1,
        2,
        /^error: wrong fee: the collection's request fee is 0\.001 ETH \(1000000000000000 wei\), not 0\.5 ETH/,
      ],
      [['refund', '999'], 1, 2, /^error: unknown request id 999/],
      [['refund', 'abc'], 1, 2, /^error: REQUEST_ID/],
      [['serve'], 3, 2, /^error: 0x90F79bf6EB2c4f870365E785982E1f101E93b906 is not an attester of the collection/],
      [['requests', 'set-fee', '1'], 1, 2, /is not the owner of the collection/],
    ]
    for (const [args, signer, code, message] of cases) {
      const result = await imo(args, signer)
      assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}`)
      assert.match(lines(result.stderr)[0] ?? '', message, args.join(' '))
      assert.doesNotMatch(result.stderr, /at .*\.js:\d+/, 'no stack trace')
    }
  })
})
