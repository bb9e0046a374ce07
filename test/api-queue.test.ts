/**
 * The paid HTTP API on `imo serve --queue`: its calls run on the queue's `imo worker` processes, through
 * the same result checks, audits and quarantine as on-chain requests (real anvil, real redis-server,
 * spawned workers on the bundled tinylm, real onnxruntime); and several serve processes on one Redis
 * run and settle a payment sent to both at once only once.
 */
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from '@x402/core/http'
import { ExactEvmScheme } from '@x402/evm/exact/client'
import { wrapFetchWithPaymentFromConfig } from '@x402/fetch'
import { Queue } from 'bullmq'
import type { Address } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { testUsdcAbi } from '../contracts-abi/index.js'
import { OFF_CHAIN_IDS, QUEUE_NAME, QUEUE_PREFIX } from '../src/queue/inferenceJob.js'
import { repoRoot } from './helpers/runCli.js'
import {
  anvil,
  assertExactlyOnce,
  client,
  database,
  deployTestUsdc,
  imo,
  key,
  request,
  root,
  said,
  until,
  untilAllFulfilled,
  useServeQueueChain,
  worker,
} from './helpers/serveQueueChain.js'
import { type SpawnedImo, spawnImo, stopImo } from './helpers/spawnImo.js'
import { startRedis, type TestRedis } from './helpers/startRedis.js'

const TINYLM = join(repoRoot, 'models', 'tinylm')
const PRICE = 10_000n // 0.01 USDC
const NETWORK = 'eip155:31337'

useServeQueueChain()

describe('the paid API on serve --queue (real anvil, real Redis, spawned workers)', () => {
  let redis: TestRedis
  let dir: string
  let token: Address
  let usdc: Address
  let twin: Address
  let collection: Address
  const deployArgs = () => [
    ...['deploy', '--model', TINYLM, '--name', 'T', '--symbol', 'T', '--supply', '1000'],
    ...['--attester', anvil.accounts[0]!.address, '--attester', anvil.accounts[1]!.address],
  ]
  const balance = () =>
    client.readContract({ address: usdc, abi: testUsdcAbi, functionName: 'balanceOf', args: [token] }) as Promise<bigint>
  /** serve --queue --http, signing with `signer` (an attester of the collection). */
  const apiServe = (url: string, signer: number, extra: string[] = [], cwd = dir, currency: string = usdc) =>
    spawnImo(
      ['serve', '--queue', url, '--rpc-url', anvil.rpcUrl, '--http', '0', '--price', '0.01', '--currency', currency, ...extra],
      { cwd, env: { IMO_PRIVATE_KEY: key(signer) }, readyEvent: 'api' },
    )
  const apiUrl = (s: SpawnedImo) => String(s.lines.find((l) => l.event === 'api' && l.url)?.url)
  const paying = (index: number) =>
    wrapFetchWithPaymentFromConfig(fetch, {
      schemes: [{ network: NETWORK, client: new ExactEvmScheme(privateKeyToAccount(key(index))) }],
      spendControls: { allowedAssets: [{ network: NETWORK, asset: usdc, maxAmountPerPayment: PRICE.toString() }] },
    })
  const complete = (base: string, body: Record<string, unknown>) =>
    paying(3)(`${base}/v1/completions`, { method: 'POST', body: JSON.stringify(body) })
  const modelRuns = async (base: string) =>
    Number(/^imo_api_model_runs_total (\d+)/m.exec(await (await fetch(`${base}/metrics`)).text())?.[1] ?? Number.NaN)

  before(async () => {
    redis = await startRedis()
    dir = mkdtempSync(join(root, 'api-'))
    usdc = await deployTestUsdc([3])
    twin = await deployTestUsdc() // another "USDC"
    // Accounts 0 and 1 both attest: two serve processes, each settling with its own key. The token
    // lists the USDC as revenue (serve --currency finds it by symbol).
    const deployed = await imo(dir, [...deployArgs(), '--revenue-currency', usdc, '--json'])
    assert.equal(deployed.code, 0, deployed.stderr)
    const file = JSON.parse(readFileSync(join(dir, '.imo', 'deployments', '31337', 'default.json'), 'utf8'))
    token = file.imoToken.address
    collection = file.aigcCollection.address
  })
  after(() => redis.close())

  it("a paid call runs on a queue worker with the call's max_tokens, audited by serve before it signs", async () => {
    const url = database(redis, 1)
    const honest = worker(url, ['--model', TINYLM])
    const serve = apiServe(url, 0, ['--audit-rate', '1', '--no-follow'])
    try {
      await Promise.all([honest.ready, serve.ready])
      const base = apiUrl(serve)
      const before = await balance()
      const res = await complete(base, { prompt: 'Once upon a time', max_tokens: 4 })
      assert.equal(res.status, 200, await res.clone().text())
      const body = (await res.json()) as {
        choices: Array<{ text: string }>
        usage: { completion_tokens: number }
        imo: { record: { config: { generation: { maxNewTokens: number } } } }
      }
      assert.equal(body.imo.record.config.generation.maxNewTokens, 4)
      assert.ok(body.usage.completion_tokens >= 1 && body.usage.completion_tokens <= 4)
      assert.equal(await balance(), before + PRICE)
      // The worker ran it (an off-chain request id), and serve re-executed it (audit rate 1): a match.
      const job = honest.lines.find((l) => l.event === 'job' && l.status === 'completed')
      assert.ok(job, `the worker ran the call: ${JSON.stringify(honest.lines.slice(-3))}`)
      assert.ok(BigInt(String(job.requestId)) >= OFF_CHAIN_IDS)
      const audit = await until('the audit', () => serve.lines.find((l) => l.event === 'audit'))
      assert.equal(audit.result, 'match')
      assert.equal(audit.requestId, job.requestId)
      assert.equal(said(serve, 'rejected').length, 0, said(serve, 'rejected').join('; '))
      // The same call again, with a lying worker now (it runs without the call's max_tokens and forges its
      // inputHash): serve refuses its result, quarantines it, runs the call itself: the same text, attested.
      await stopImo(honest)
      const liar = spawnImo([url, TINYLM, 'input-hash', join(dir, 'artifacts')], {
        script: join(repoRoot, 'test', 'helpers', 'maliciousWorker.ts'),
        nodeFlags: ['--import', 'tsx'],
        readyEvent: 'ready',
      })
      try {
        await liar.ready
        const again = await complete(base, { prompt: 'Once upon a time', max_tokens: 4 })
        assert.equal(again.status, 200, await again.clone().text())
        const second = (await again.json()) as typeof body
        assert.equal(second.choices[0]!.text, body.choices[0]!.text)
        assert.ok(
          liar.lines.some((l) => l.event === 'job'),
          'the lying worker took the job',
        )
        assert.match(said(serve, 'rejected').join('\n'), /other settings than serve runs|inputHash/)
        assert.equal(said(serve, 'quarantined').length, 1)
        assert.equal(await balance(), before + 2n * PRICE)
      } finally {
        await stopImo(liar)
      }
    } finally {
      await stopImo(serve)
      await stopImo(honest)
    }
  })

  it('two serve processes on one Redis, the same payment sent to both at once: one run, one settlement, the other 402', async () => {
    const url = database(redis, 2)
    // The second serve works from a folder of its own (its own journal), with its own key, and names
    // the currency by its symbol (a revenue currency of the token).
    const other = mkdtempSync(join(root, 'api-b-'))
    cpSync(join(dir, '.imo', 'deployments'), join(other, '.imo', 'deployments'), { recursive: true })
    const honest = worker(url, ['--model', TINYLM])
    // The first also follows the chain (the dispatcher of on-chain requests); the second serves the API only.
    const serves = [apiServe(url, 0), apiServe(url, 1, ['--no-follow'], other, 'usdc')]
    try {
      await Promise.all([honest.ready, ...serves.map((s) => s.ready)])
      const bases = serves.map(apiUrl)
      const body = JSON.stringify({ prompt: 'twice at once', max_tokens: 3 })
      const unpaid = await fetch(`${bases[0]}/v1/completions`, { method: 'POST', body })
      const required = decodePaymentRequiredHeader(unpaid.headers.get('payment-required')!)
      const accepted = required.accepts[0]!
      const payload = await new ExactEvmScheme(privateKeyToAccount(key(3))).createPaymentPayload(2, accepted as never)
      const header = encodePaymentSignatureHeader({ ...payload, resource: required.resource, accepted } as never)
      const before = await balance()
      const ran = (await Promise.all(bases.map(modelRuns))).reduce((a, b) => a + b)
      const answers = await Promise.all(
        bases.map((base) => fetch(`${base}/v1/completions`, { method: 'POST', headers: { 'payment-signature': header }, body })),
      )
      assert.deepEqual(
        answers.map((a) => a.status).sort(),
        [200, 402],
        (await Promise.all(answers.map((a) => a.clone().text()))).join(' | '),
      )
      const refused = answers.find((a) => a.status === 402)!
      assert.match(((await refused.json()) as { error: { message: string } }).error.message, /used already \(in-flight\)/)
      assert.equal(
        (await Promise.all(bases.map(modelRuns))).reduce((a, b) => a + b),
        ran + 1,
        'the model ran once',
      )
      assert.equal(honest.lines.filter((l) => l.event === 'job' && l.status === 'completed').length, 1)
      assert.equal(await balance(), before + PRICE)
      // Sent again later, to either: refused (settled), nothing run.
      for (const base of bases) {
        const again = await fetch(`${base}/v1/completions`, { method: 'POST', headers: { 'payment-signature': header }, body })
        assert.equal(again.status, 402)
      }
      assert.equal(
        (await Promise.all(bases.map(modelRuns))).reduce((a, b) => a + b),
        ran + 1,
      )
      assert.equal(await balance(), before + PRICE)
      // An on-chain request's result is the follower's alone: finished while the follower is frozen,
      // the API-only serve's sweeps leave it (it collects only its own calls), and the follower
      // fulfils it once thawed.
      honest.child.kill('SIGSTOP')
      const [id] = await request(collection, ['on chain'])
      const probe = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port, db: 2 }, prefix: QUEUE_PREFIX })
      try {
        await until('the job in the queue', async () => Boolean(await probe.getJob(`request-${id}`)), 60_000)
      } finally {
        await probe.close()
      }
      serves[0]!.child.kill('SIGSTOP')
      honest.child.kill('SIGCONT')
      await until('the worker to run it', () => honest.lines.some((l) => l.event === 'job' && l.requestId === String(id)))
      await new Promise((resolve) => setTimeout(resolve, 6000)) // more than a sweep of the other serve
      serves[0]!.child.kill('SIGCONT')
      await untilAllFulfilled(serves[0]!, collection, [id!], 30_000)
      await assertExactlyOnce(collection, [id!])
      assert.deepEqual(
        serves[1]!.lines.filter((l) => l.event === 'seen' || l.event === 'fulfilled'),
        [],
        'the API-only serve does not follow the chain',
      )
      const runs = honest.lines.filter((l) => l.event === 'job' && l.requestId === String(id) && l.status === 'completed')
      assert.equal(
        runs.length,
        1,
        `the worker ran request ${id} ${runs.length} times (its first result was taken by the other serve)`,
      )
    } finally {
      for (const s of [...serves, honest]) s.child.kill('SIGCONT')
      await Promise.all(serves.map(stopImo))
      await stopImo(honest)
    }
  })

  it('--currency SYMBOL: a symbol the token does not list, lists twice, or the native one: one line, exit 2', async () => {
    // Another deployment whose token lists two currencies that both call themselves USDC.
    const both = mkdtempSync(join(root, 'api-twins-'))
    const deployed = await imo(both, [...deployArgs(), '--revenue-currency', usdc, '--revenue-currency', twin, '--json'])
    assert.equal(deployed.code, 0, deployed.stderr)
    const cases: Array<[string, string, RegExp]> = [
      [both, 'usdc', /--currency usdc names 2 of the token's currencies: pass the address/],
      [dir, 'DAI', /--currency DAI is not a revenue currency of the token 0x[0-9a-fA-F]{40} \(listed: ETH, USDC \(0x/],
      [dir, 'eth', /--currency eth is the native currency/],
    ]
    for (const [cwd, symbol, message] of cases) {
      const result = await imo(cwd, ['serve', '--http', '0', '--price', '0.01', '--currency', symbol, '--no-follow'])
      assert.equal(result.code, 2, result.stderr)
      const errors = result.stderr.split('\n').filter((line) => line.startsWith('error:'))
      assert.equal(errors.length, 1, result.stderr)
      assert.match(errors[0]!, message)
      assert.doesNotMatch(result.stderr, /at .*\.js:\d+/) // no stack trace
    }
  })
})
