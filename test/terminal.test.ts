/**
 * Terminal injection (issue 21 item 5): prompts anyone can place on chain for a fee, texts read from
 * Redis, bidi characters and hostile file lines reach no terminal raw. Every human output of
 * `imo requests` (with and without colour, --no-color), serve's human log, `requests --open --queue`,
 * `status --queue`, infer-and-mint and the allowlist errors shows them escaped; `--json` keeps them
 * exactly (JSON escapes what it needs). Real anvil, real Redis, real onnxruntime.
 */
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { type Address, createWalletClient, type Hex, http, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { aigcCollectionAbi } from '../contracts-abi/index.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { JOB_NAME, QUEUE_NAME, QUEUE_PREFIX } from '../src/queue/inferenceJob.js'
import { recordRefusal } from '../src/queue/refusals.js'
import { client } from './helpers/deployFixture.js'
import { type CliResult, repoRoot, runCli } from './helpers/runCli.js'
import { REDIS_SERVER, startRedis, type TestRedis } from './helpers/startRedis.js'

/** Window title, screen clear, cursor up, CR overwrite, BEL, BS, NUL, C1 CSI, a forged error line, bidi. */
const HOSTILE = [
  'title\u001b]0;owned\u0007 clear\u001b[2J\u001b[H up\u001b[1A',
  'cr\roverwritten bs\b\b nul\u0000 csi\u009b2J del\u007f',
  'line\nerror: forged by the requester',
  'bidi \u202eevil\u202c \u2066isolate\u2069 \u200emark\u200f alm\u061c',
]

/** Any raw control or bidi character; with colour on, imo's own SGR colour sequences are allowed. */
function rawControls(text: string, colour = false): string[] {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters under test
  const own = /\u001b\[(?:[0-4]|2[2-4]|3[0-9]|4[0-9]|9[0-7]|10[0-7])m/g
  const rest = colour ? text.replace(own, '') : text
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters under test
  return [...rest.matchAll(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g)].map(
    (m) => `U+${m[0].codePointAt(0)!.toString(16).padStart(4, '0')} at ${m.index}`,
  )
}

function assertClean(result: CliResult, what: string, colour = false): void {
  assert.deepEqual(rawControls(result.stdout, colour), [], `${what}: stdout\n${result.stdout}`)
  assert.deepEqual(rawControls(result.stderr, colour), [], `${what}: stderr\n${result.stderr}`)
  assert.doesNotMatch(`${result.stdout}\n${result.stderr}`, /^error: forged/m, what)
}

let anvil: Anvil
let dir: string
let model: string
let redis: TestRedis | undefined

const imo = (args: string[], env: Record<string, string | undefined> = {}) =>
  runCli([...args, '--rpc-url', anvil.rpcUrl], { cwd: dir, env: { IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey, ...env } })

before(async () => {
  anvil = await startAnvil()
  dir = mkdtempSync(join(tmpdir(), 'imo-terminal-'))
  // The bundled model with a pipeline that, like many, quotes a prompt it refuses in its error.
  model = join(dir, 'model')
  cpSync(join(repoRoot, 'models', 'cppn'), model, { recursive: true })
  const pipeline = join(model, 'imo.pipeline.mjs')
  writeFileSync(
    pipeline,
    readFileSync(pipeline, 'utf8').replace(
      'export function encode(prompt) {',
      "export function encode(prompt) {\n  if (prompt.includes('refuse')) throw new Error('cannot draw ' + prompt)",
    ),
  )
  const deployed = await imo(['deploy', '--model', model, '--name', 'Test', '--symbol', 'T', '--supply', '1000', '--yes'])
  assert.equal(deployed.code, 0, deployed.stderr)
  const deployment = JSON.parse(readFileSync(join(dir, '.imo', 'deployments', '31337', 'default.json'), 'utf8'))
  const collection = deployment.aigcCollection.address as Address
  const user = privateKeyToAccount(anvil.accounts[1]!.privateKey as Hex)
  const wallet = createWalletClient({ account: user, chain: foundry, transport: http(anvil.rpcUrl) })
  const prompts = [...HOSTILE, `refuse ${HOSTILE[0]} ${HOSTILE[2]}`]
  for (const prompt of prompts) {
    const hash = await wallet.writeContract({
      address: collection,
      abi: aigcCollectionAbi,
      functionName: 'request',
      args: [toHex(prompt), user.address],
      value: 10n ** 15n,
    })
    await client(anvil.rpcUrl).waitForTransactionReceipt({ hash })
  }
})

after(async () => {
  await anvil?.stop()
  await redis?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('terminal injection: untrusted text is escaped in every human output', () => {
  it('imo requests: the table escapes hostile prompts, with colour, without, and with --no-color', async () => {
    const plain = await imo(['requests'])
    assert.equal(plain.code, 0, plain.stderr)
    assertClean(plain, 'requests (NO_COLOR)')
    assert.match(plain.stdout, /title\\x1b\]0;owned\\x07/)
    assert.match(plain.stdout, /bidi \\u202eevil/)
    const coloured = await imo(['requests'], { NO_COLOR: undefined, FORCE_COLOR: '1' })
    assert.equal(coloured.code, 0, coloured.stderr)
    assertClean(coloured, 'requests (colour)', true)
    const noColor = await imo(['requests', '--no-color'], { NO_COLOR: undefined, FORCE_COLOR: '1' })
    assert.equal(noColor.code, 0, noColor.stderr)
    assertClean(noColor, 'requests --no-color')
  })

  it('imo requests --json keeps the prompts exactly (JSON escapes what it needs)', async () => {
    const result = await imo(['requests', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const prompts = (JSON.parse(result.stdout).requests as Array<{ prompt: string }>).map((r) => r.prompt)
    for (const prompt of HOSTILE) assert.ok(prompts.includes(prompt), JSON.stringify(prompt))
  })

  it("serve's human log escapes a pipeline error that quotes the prompt", async () => {
    const result = await runCli(['serve', '--until-idle', '--rpc-url', anvil.rpcUrl], {
      cwd: dir,
      env: { IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey, NO_COLOR: undefined, FORCE_COLOR: '1' },
      timeoutMs: 120_000,
    })
    assert.equal(result.code, 0, result.stderr)
    assertClean(result, 'serve', true)
    assert.match(result.stderr, /inference failed: .*cannot draw refuse title\\x1b\]0;owned\\x07 clear\\x1b\[2J/)
  })

  it('infer-and-mint: a prompt with bidi and control characters is shown escaped', async () => {
    const result = await imo(['infer-and-mint', `a \u202espiral\u202c\u001b[2J`, '--model', model])
    assert.equal(result.code, 0, result.stderr)
    assertClean(result, 'infer-and-mint')
    assert.match(result.stdout, /"a \\u202espiral\\u202c\\x1b\[2J"/)
  })

  it('allowlist errors quote the bad line escaped (one line, exit 2)', async () => {
    const csv = join(dir, 'hostile.csv')
    writeFileSync(csv, `\u001b]0;owned\u0007\u009b2J\u202e,5\n`)
    const result = await imo([
      'offer',
      'create',
      '--amount',
      '10',
      '--price',
      '0.001',
      '--start',
      'now',
      '--duration',
      '60',
      '--allowlist',
      csv,
    ])
    assert.equal(result.code, 2, result.stderr)
    assertClean(result, 'offer create --allowlist')
    assert.match(result.stderr, /^error: .*hostile\.csv line 1: "\\x1b\]0;owned\\x07\\x9b2J\\u202e" is not an address$/m)
  })

  it('a hostile file name in an error message is escaped too', async () => {
    const result = await imo(['infer', '--model', model, '--input', `x\u001b[2J\nerror: forged.json`])
    assert.equal(result.code, 2, result.stderr)
    assertClean(result, 'infer --input')
  })

  it('requests --open --queue and status --queue escape failure texts and worker ids read from Redis', {
    skip: REDIS_SERVER ? false : 'redis-server not installed',
  }, async () => {
    redis = await startRedis()
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null })
    const workerConnection = new Redis(redis.url, { maxRetriesPerRequest: null })
    const queue = new Queue(QUEUE_NAME, { connection, prefix: QUEUE_PREFIX })
    await queue.add(JOB_NAME, { prompt: 'p' } as never, { jobId: 'request-4', attempts: 1 })
    const worker = new Worker(
      QUEUE_NAME,
      async () => {
        throw new Error(`worker says ${HOSTILE[0]} ${HOSTILE[2]}`)
      },
      { connection: workerConnection, prefix: QUEUE_PREFIX },
    )
    await new Promise<void>((resolve) => worker.on('failed', () => resolve()))
    await worker.close()
    workerConnection.disconnect()
    await recordRefusal(connection, {
      worker: { id: `evil\u001b]0;owned\u0007\nerror: forged`, host: 'h', pid: 1 } as never,
      workerModelHash: `0x\u202e${'1'.repeat(64)}`,
      expectedModelHash: `0x${'2'.repeat(64)}`,
      at: Date.now(),
    })
    await queue.close()
    connection.disconnect()
    for (const args of [
      ['requests', '--open', '--queue', redis.url],
      ['status', '--queue', redis.url],
    ]) {
      const result = await imo(args)
      assert.equal(result.code, 0, result.stderr)
      assertClean(result, args.join(' '))
      assert.match(result.stdout, /failed {2}request 4 .*worker says title\\x1b\]0;owned\\x07.*\\nerror: forged/)
      assert.match(result.stdout, /refused worker evil\\x1b\]0;owned\\x07\\nerror: forged/)
    }
  })
})
