/**
 * Every command's `--json` document against its shape in docs/json.md, and the shared vocabulary
 * (txHash, *Wei decimal strings, ISO times, snapshot ids as numbers) on every document.
 * The commands come from the CLI itself (buildProgram), so a new command without a documented shape,
 * or one this test never runs, fails here. One real anvil, Redis and onnxruntime: each command runs
 * once on success (serve and worker with their JSON log lines, devnet until its first document) and
 * once on a failure path (a usage error, the shared error document).
 *
 * Drafting a new command's section: IMO_JSON_SHAPES_DRAFT=FILE appends to FILE a shape inferred from
 * what each command printed here and an example, to read and correct before pasting into docs/json.md.
 */
import assert from 'node:assert/strict'
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Command } from 'commander'
import { Redis } from 'ioredis'
import { createPublicClient, createWalletClient, http } from 'viem'
import { foundry } from 'viem/chains'
import { testUsdcAbi } from '../contracts-abi/index.js'
import { buildZkCppnFloat } from '../scripts/build-zk-model.js'
import { buildProgram } from '../src/cli.js'
import { deployTestUsdc, TEST_USDC_ADDRESS, TEST_USDC_DEPLOYER } from '../src/devnet/deployTestUsdc.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { recordQuarantine } from '../src/queue/quarantine.js'
import { recordRefusal } from '../src/queue/refusals.js'
import { anvilRpc } from './helpers/deployFixture.js'
import { checkShape, checkVocabulary, inferShape, readDocumentedShapes } from './helpers/jsonShapes.js'
import { repoRoot, runCli } from './helpers/runCli.js'
import { spawnImo } from './helpers/spawnImo.js'
import { REDIS_SERVER, startRedis, type TestRedis } from './helpers/startRedis.js'

const CPPN = join(repoRoot, 'models', 'cppn')

/** Commands whose success document this test cannot produce, with the reason (their error document is still checked). */
const EXEMPT: Record<string, string> = {
  'imo init': 'interactive only: without a terminal it refuses (exit 2) before printing a result',
  'imo requests retry': 'needs a job in the failed set of the queue, which this test does not produce',
}

/** Every command that runs an action, by its full name (`imo revenue deposit`), from the CLI itself. */
function cliCommands(): string[] {
  const names: string[] = []
  const walk = (command: Command, path: string[]) => {
    for (const sub of command.commands) {
      const name = [...path, sub.name()]
      // commander keeps a command's action privately; a group without one only lists its subcommands.
      if ((sub as unknown as { _actionHandler?: unknown })._actionHandler) names.push(name.join(' '))
      walk(sub, name)
    }
  }
  walk(buildProgram(), ['imo'])
  return names
}

describe('--json shapes (docs/json.md) and the shared vocabulary', () => {
  const documented = readDocumentedShapes()
  /** What each command printed on success: its documents (and log lines under `<name> log line`). */
  const printed = new Map<string, unknown[]>()
  let anvil: Anvil
  let redis: TestRedis | undefined
  let dir: string

  const record = (name: string, document: unknown) => {
    if (!printed.has(name)) printed.set(name, [])
    printed.get(name)!.push(document)
  }
  const env = (who: number) => ({ IMO_PRIVATE_KEY: anvil.accounts[who]!.privateKey, IMO_RPC_URL: anvil.rpcUrl })
  /** Runs `imo ...args --json` as account `who`, expects exit 0 and records the document under the command's name. */
  const ok = async (
    args: string[],
    who = 0,
    name = `imo ${args
      .filter((a) => /^[a-z][a-z-]*$/.test(a))
      .slice(0, 2)
      .join(' ')}`,
  ) => {
    const result = await runCli([...args, '--json'], { cwd: dir, env: env(who), timeoutMs: 300_000 })
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`)
    const document = JSON.parse(result.stdout)
    record(commandName(name), document)
    return document
  }
  /** The command's full name for a command line's words (`imo revenue deposit`, `imo claim`). */
  const commandName = (words: string) => {
    const all = cliCommands()
    const parts = words.split(' ')
    for (let n = parts.length; n > 1; n--) if (all.includes(parts.slice(0, n).join(' '))) return parts.slice(0, n).join(' ')
    return words
  }
  /** TestUsdc's owner (impersonated) blacklists or clears an account: a claim's USDC share is then credited. */
  const asUsdcOwner = async (functionName: 'blacklist' | 'unBlacklist', who: `0x${string}`) => {
    await anvilRpc(anvil.rpcUrl, 'anvil_impersonateAccount', [TEST_USDC_DEPLOYER])
    const wallet = createWalletClient({ chain: foundry, transport: http(anvil.rpcUrl), account: TEST_USDC_DEPLOYER })
    const hash = await wallet.writeContract({ address: TEST_USDC_ADDRESS, abi: testUsdcAbi, functionName, args: [who] })
    const receipt = await createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl) }).waitForTransactionReceipt({
      hash,
    })
    assert.equal(receipt.status, 'success')
    await anvilRpc(anvil.rpcUrl, 'anvil_stopImpersonatingAccount', [TEST_USDC_DEPLOYER])
  }
  const warp = async (seconds: number) => {
    await anvilRpc(anvil.rpcUrl, 'evm_increaseTime', [seconds])
    await anvilRpc(anvil.rpcUrl, 'evm_mine', [])
  }

  before(async () => {
    anvil = await startAnvil()
    dir = mkdtempSync(join(tmpdir(), 'imo-json-shapes-'))
    const user = anvil.accounts[1]!.address
    // The devnet's TestUsdc: a second revenue currency (per-currency amounts) and the paid API's currency.
    await deployTestUsdc(
      anvil.rpcUrl,
      anvil.accounts.slice(0, 4).map((a) => a.address),
    )
    await ok(['hash', CPPN])
    await ok(['deploy', '--model', CPPN, '--name', 'Dry', '--symbol', 'DRY', '--supply', '1', '--dry-run'])
    await ok([
      'deploy',
      '--model',
      CPPN,
      '--name',
      'Shapes',
      '--symbol',
      'SHP',
      '--supply',
      '1000',
      '--snapshot-interval',
      '60',
      '--revenue-currency',
      TEST_USDC_ADDRESS,
    ])
    // The paid HTTP API: serve --http's log lines, and imo ask paying it in TestUsdc (account 3); before any
    // warp, as the payer signs its authorization's validity window by the wall clock.
    const api = spawnImo(['serve', '--http', '0', '--price', '0.01', '--currency', TEST_USDC_ADDRESS], { cwd: dir, env: env(0) })
    const deadline = Date.now() + 60_000
    let url: string | undefined
    while (!url && Date.now() < deadline) {
      url = api.lines.find((line) => line.event === 'api' && typeof line.url === 'string')?.url as string | undefined
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    try {
      assert.ok(url, JSON.stringify(api.lines))
      const asked = await ok(['ask', 'a paid spiral', '--api', url, '--max-price', '0.01'], 3)
      await ok(['verify', asked.file, '--model', CPPN])
    } finally {
      api.child.kill('SIGTERM') // also when the call failed: no serve outlives the test
    }
    assert.equal(await api.exited, 0, JSON.stringify(api.lines))
    record('imo serve', JSON.parse(api.stdout))
    for (const line of api.lines) record('imo serve log line', line)
    await ok(['infer', '--model', CPPN, '--prompt', 'a red spiral', '--out', 'record'])
    await ok(['mint', 'record', '--dry-run'])
    const minted = await ok(['mint', 'record'])
    await ok(['infer-and-mint', 'blue waves'])
    await ok(['verify', 'record'])
    await ok(['verify', '--token', minted.outcomes[0].tokenId, '--metadata-dir', 'record'])
    await ok(['revenue', 'deposit', '1'])
    await ok(['revenue', 'deposit', '2.5', '--currency', 'USDC'])
    await warp(61)
    await ok(['snapshot', '--yes'])
    await ok(['claimable'])
    await ok(['claimable', user])
    // USDC blacklists the holder for its first claim: its USDC share is credited (claim, claimable and
    // status show it), then withdrawn with claim --credits once it is cleared.
    await asUsdcOwner('blacklist', anvil.accounts[0]!.address)
    const credited = await ok(['claim'])
    assert.ok(
      credited.currencies.some((c: { creditedWei: string }) => c.creditedWei !== '0'),
      JSON.stringify(credited),
    )
    await ok(['claimable'])
    await ok(['status'])
    await asUsdcOwner('unBlacklist', anvil.accounts[0]!.address)
    const withdrawn = await ok(['claim', '--credits'])
    assert.equal(withdrawn.withdrawals.length, 1, JSON.stringify(withdrawn))
    await ok(['claim', '--credits'])
    await ok(['claim'])
    await ok(['claim', '--currency', 'ETH'])
    await ok(['redeem', '1', '--yes'])
    await ok(['request', 'green', '--to', user, '--dry-run'], 1)
    await ok(['request', 'green', '--to', user], 1)
    await ok(['requests'])
    await ok(['requests', 'set-fee', '0.002'])
    await ok(['serve', '--until-idle'])
    // request --wait, fulfilled by a serve running meanwhile: the document adds fulfilment and verification.
    const serving = spawnImo(['serve'], { cwd: dir, env: env(0) })
    try {
      await ok(['request', 'waited for', '--to', user, '--wait'], 1)
    } finally {
      serving.child.kill('SIGTERM')
      assert.equal(await serving.exited, 0, JSON.stringify(serving.lines))
    }
    record('imo serve', JSON.parse(serving.stdout))
    for (const line of serving.lines) record('imo serve log line', line)
    await ok(['requests', 'set-timeout', '30'])
    const unserved = await ok(['request', 'never served'], 1)
    await warp(60)
    await ok(['requests', '--open'])
    await ok(['refund', unserved.requestId], 1)
    // A sale that meets its soft cap (buyers withdraw; it collects the revenue of the tokens it held), then one that misses it (refunds).
    /** A 600-second sale of 10 tokens at 0.01 ETH each, from now, with this soft cap (ETH). */
    const sale = (softCap: string) =>
      ok([
        'offer',
        'create',
        '--amount',
        '10',
        '--price',
        '0.01',
        '--start',
        'now',
        '--duration',
        '600',
        '--soft-cap',
        softCap,
        '--yes',
      ])
    await sale('0.005')
    await ok(['offer', 'status'])
    await ok(['offer', 'buy', '1', '--yes'], 2)
    await ok(['revenue', 'deposit', '1'])
    await warp(700)
    await ok(['snapshot', '--yes'])
    await ok(['offer', 'finalize'])
    await ok(['offer', 'withdraw'], 2)
    await ok(['offer', 'claim-revenue'])
    await sale('0.05')
    await ok(['offer', 'buy', '1', '--yes'], 2)
    await warp(700)
    await ok(['offer', 'refund'], 2)
    await ok(['offer', 'status'])
    await ok(['status'])
    await ok(['status'], 2)
    await ok(['zk', 'ptau', '--out', 'test.ptau', '--power', '4', '--insecure'])
    writeFileSync(join(dir, 'zk.onnx'), buildZkCppnFloat({ size: 4, units: 2, relu: true }))
    await ok(['zk', 'compile', 'zk.onnx', '--out', 'zk'])
    await ok(['demo', '--out', 'demo'])
  })
  after(async () => {
    await anvil?.stop()
    await redis?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('documents every command of the CLI, and nothing that is not one', () => {
    const commands = cliCommands()
    const missing = commands.filter((name) => !documented.has(name))
    assert.deepEqual(missing, [], `commands without a section in docs/json.md: ${missing.join(', ')}`)
    const unknown = [...documented.keys()].filter(
      (name) => name !== 'error' && !commands.includes(name) && !commands.includes(name.replace(/ log line$/, '')),
    )
    assert.deepEqual(unknown, [], `docs/json.md sections for no command: ${unknown.join(', ')}`)
  })

  it("the documented shapes and examples speak the shared vocabulary, and each example fits its section's shape", () => {
    for (const { name, shape, examples } of documented.values()) {
      assert.deepEqual(checkVocabulary(shape, true), [], `${name}: its shape`)
      assert.ok(examples.length > 0, `${name}: no example`)
      for (const example of examples) {
        assert.deepEqual(checkShape(example, shape), [], `${name}: its example`)
        assert.deepEqual(checkVocabulary(example), [], `${name}: its example`)
      }
    }
  })

  it('imo serve and imo worker print their JSON log lines (with the same time key) and the worker its summary', async (t) => {
    if (!REDIS_SERVER) return t.skip('no redis-server on this machine')
    redis = await startRedis()
    const worker = spawnImo(['worker', '--queue', redis.url, '--model', CPPN], { cwd: dir, readyEvent: 'ready' })
    await worker.ready
    await ok(['request', 'through the queue'], 1)
    const serve = spawnImo(['serve', '--until-idle', '--queue', redis.url], { cwd: dir, env: env(0) })
    assert.equal(await serve.exited, 0, JSON.stringify(serve.lines))
    record('imo serve', JSON.parse(serve.stdout))
    worker.child.kill('SIGTERM')
    assert.equal(await worker.exited, 0, JSON.stringify(worker.lines))
    record('imo worker', JSON.parse(worker.stdout))
    for (const line of serve.lines) record('imo serve log line', line)
    for (const line of worker.lines) record('imo worker log line', line)
    assert.ok(
      worker.lines.some((line) => line.event === 'job'),
      JSON.stringify(worker.lines),
    )
    // The queue's state as requests --open and status show it, with a refusal and a quarantine in it
    // (Redis keeps their time in ms; the documents show it as ISO under refusedAt / quarantinedAt).
    const client = new Redis(redis.url, { maxRetriesPerRequest: null })
    try {
      const at = Date.parse('2026-01-02T03:04:05.000Z')
      await recordRefusal(client, {
        worker: { id: 'other-model:1', host: 'h', pid: 1 } as never,
        workerModelHash: `0x${'1'.repeat(64)}`,
        expectedModelHash: `0x${'2'.repeat(64)}`,
        at,
      })
      await recordQuarantine(client, { worker: 'liar:2', requestId: '7', reason: 'a re-run gave other outputs', at })
    } finally {
      client.disconnect()
    }
    for (const document of [await ok(['requests', '--open', '--queue', redis.url]), await ok(['status', '--queue', redis.url])]) {
      assert.equal(document.queue.refusals[0].refusedAt, '2026-01-02T03:04:05.000Z', JSON.stringify(document.queue))
      assert.equal(document.queue.quarantined[0].quarantinedAt, '2026-01-02T03:04:05.000Z', JSON.stringify(document.queue))
    }
  })

  it('imo devnet prints its document, then runs until stopped', async () => {
    const devnet = spawnImo(['devnet'], { cwd: mkdtempSync(join(dir, 'devnet-')) })
    const deadline = Date.now() + 60_000
    while (!devnet.stdout.trim().endsWith('}') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    devnet.child.kill('SIGINT')
    await devnet.exited
    record('imo devnet', JSON.parse(devnet.stdout))
  })

  it('every command ran here and printed documents that fit its documented shape, in the shared vocabulary', () => {
    const names = [...cliCommands(), 'imo serve log line', 'imo worker log line']
    const draft = process.env.IMO_JSON_SHAPES_DRAFT
    if (draft)
      for (const name of names) {
        const shape = JSON.stringify(inferShape(printed.get(name) ?? []), null, 2)
        const example = JSON.stringify(printed.get(name)?.[0] ?? null, null, 2)
        appendFileSync(draft, `## \`${name}\`\n\n\`\`\`shape\n${shape}\n\`\`\`\n\n\`\`\`json\n${example}\n\`\`\`\n\n`)
      }
    // Every command's problems at once (one run of this test takes minutes).
    const problems: string[] = []
    for (const name of names) {
      if (EXEMPT[name]) continue
      const documents = printed.get(name) ?? []
      if (documents.length === 0)
        problems.push(`${name} never ran in this test: run it in before(), or list it in EXEMPT with the reason`)
      const section = documented.get(name)
      if (!section) {
        problems.push(`${name}: no section in docs/json.md`)
        continue
      }
      for (const document of documents)
        problems.push(...[...checkShape(document, section.shape), ...checkVocabulary(document)].map((p) => `${name}: ${p}`))
    }
    assert.deepEqual([...new Set(problems)], [])
  })

  it('commands that read the chain print the shared error document when it cannot be reached (exit 6)', async () => {
    const { shape } = documented.get('error')!
    for (const args of [['status'], ['claimable'], ['claim'], ['requests'], ['offer', 'status'], ['revenue', 'deposit', '1']]) {
      const result = await runCli([...args, '--json'], { cwd: dir, env: { ...env(0), IMO_RPC_URL: 'http://127.0.0.1:9' } })
      assert.equal(result.code, 6, `${args.join(' ')}: ${result.stdout}${result.stderr}`)
      const document = JSON.parse(result.stdout)
      assert.deepEqual(checkShape(document, shape), [], args.join(' '))
      assert.equal(document.error.exitCode, 6, args.join(' '))
    }
  })

  it('every command prints the shared error document on a failure path (a usage error, exit 2)', async () => {
    const { shape } = documented.get('error')!
    for (const name of cliCommands()) {
      const args = name.split(' ').slice(1)
      const result = await runCli([...args, '--no-such-flag', '--json'], { cwd: dir })
      assert.equal(result.code, 2, `${name}: ${result.stderr}`)
      const document = JSON.parse(result.stdout)
      assert.deepEqual(checkShape(document, shape), [], name)
      assert.equal(document.error.name, 'UsageError', name)
    }
  })
})
