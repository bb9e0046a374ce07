/**
 * The paid HTTP API of `imo serve --http` end to end: a real anvil with TestUsdc, the built CLI serving
 * the bundled tinylm (real onnxruntime), the official `openai` client whose fetch pays through
 * `@x402/fetch`, and the payments settled into the IMO token by serve's own facilitator.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { x402Facilitator } from '@x402/core/facilitator'
import { decodePaymentRequiredHeader, decodePaymentResponseHeader, encodePaymentSignatureHeader } from '@x402/core/http'
import { toFacilitatorEvmSigner } from '@x402/evm'
import { ExactEvmScheme } from '@x402/evm/exact/client'
import { registerExactEvmScheme } from '@x402/evm/exact/facilitator'
import { wrapFetchWithPaymentFromConfig } from '@x402/fetch'
import OpenAI from 'openai'
import { type Address, createPublicClient, createWalletClient, http, type PublicClient, publicActions } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { testUsdcAbi, testUsdcBytecode } from '../contracts-abi/index.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { anvilRpc } from './helpers/deployFixture.js'
import { cleanEnv, imoBin, repoRoot, runCli } from './helpers/runCli.js'

const TINYLM = join(repoRoot, 'models', 'tinylm')
const CPPN = join(repoRoot, 'models', 'cppn')
const PRICE = 10_000n // 0.01 USDC
const NETWORK = 'eip155:31337'
let anvil: Anvil
let dir: string
let client: PublicClient
let token: Address
let usdc: Address
let api: string
let serve: ChildProcess
const serveLines: Array<Record<string, unknown>> = []
/** The image model's deployment: its own token, served by another key through an external facilitator. */
let imageToken: Address
let imageApi: string
let imageServe: ChildProcess
const imageLines: Array<Record<string, unknown>> = []
let facilitatorServer: Server

const key = (index: number) => anvil.accounts[index]!.privateKey
const imo = (args: string[], signer: number | undefined = 0, timeoutMs?: number) =>
  runCli([...args, '--rpc-url', anvil.rpcUrl], {
    cwd: dir,
    env: { IMO_PRIVATE_KEY: signer === undefined ? undefined : key(signer) },
    ...(timeoutMs ? { timeoutMs } : {}),
  })
const usdcBalance = (holder: Address) =>
  client.readContract({ address: usdc, abi: testUsdcAbi, functionName: 'balanceOf', args: [holder] }) as Promise<bigint>
/** The server's count of model runs (from /metrics: counted before it answers, unlike its log lines). */
const inferences = async (base = api) => {
  const text = await (await fetch(`${base}/metrics`)).text()
  return Number(/^imo_api_model_runs_total (\d+)/m.exec(text)?.[1] ?? Number.NaN)
}

/** A fetch that pays with the given dev account, at most `max` base units per call. */
function payingFetch(index: number, max = PRICE) {
  const account = privateKeyToAccount(key(index))
  return wrapFetchWithPaymentFromConfig(fetch, {
    schemes: [{ network: NETWORK, client: new ExactEvmScheme(account) }],
    spendControls: { allowedAssets: [{ network: NETWORK, asset: usdc, maxAmountPerPayment: max.toString() }] },
  })
}

/**
 * A payment by dev account 4 for the API's requirements as `mutate` changes them (signed for what it
 * changed), then, when given, its EIP-3009 authorization edited and signed again by the same key: a
 * payment the client's SDK would never make, sent to the API.
 */
async function signTampered(
  mutate: (accepted: Record<string, unknown>) => void,
  edit?: (authorization: Record<string, string>) => void,
): Promise<Response> {
  const unpaid = await fetch(`${api}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'x', max_tokens: 2 }) })
  const required = decodePaymentRequiredHeader(unpaid.headers.get('payment-required')!)
  const accepted = { ...required.accepts[0]! } as Record<string, unknown>
  mutate(accepted)
  const account = privateKeyToAccount(key(4))
  const payload = (await new ExactEvmScheme(account).createPaymentPayload(2, accepted as never)) as unknown as {
    payload: { authorization: Record<string, string>; signature: string }
  }
  if (edit) {
    const authorization = payload.payload.authorization
    edit(authorization)
    const extra = accepted.extra as { name: string; version: string }
    payload.payload.signature = await account.signTypedData({
      domain: { name: extra.name, version: extra.version, chainId: 31337, verifyingContract: accepted.asset as Address },
      types: {
        TransferWithAuthorization: [
          { name: 'from', type: 'address' },
          { name: 'to', type: 'address' },
          { name: 'value', type: 'uint256' },
          { name: 'validAfter', type: 'uint256' },
          { name: 'validBefore', type: 'uint256' },
          { name: 'nonce', type: 'bytes32' },
        ],
      },
      primaryType: 'TransferWithAuthorization',
      message: {
        from: authorization.from as Address,
        to: authorization.to as Address,
        value: BigInt(authorization.value!),
        validAfter: BigInt(authorization.validAfter!),
        validBefore: BigInt(authorization.validBefore!),
        nonce: authorization.nonce as `0x${string}`,
      },
    })
  }
  const header = encodePaymentSignatureHeader({ ...payload, resource: required.resource, accepted } as never)
  return fetch(`${api}/v1/completions`, {
    method: 'POST',
    headers: { 'payment-signature': header },
    body: JSON.stringify({ prompt: 'x', max_tokens: 2 }),
  })
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = fn()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(serveLines.slice(-5))}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

before(async () => {
  anvil = await startAnvil()
  dir = mkdtempSync(join(tmpdir(), 'imo-api-'))
  client = createPublicClient({ transport: http(anvil.rpcUrl) }) as PublicClient
  const deployed = await imo(['deploy', '--model', TINYLM, '--name', 'T', '--symbol', 'T', '--supply', '1000', '--json'])
  assert.equal(deployed.code, 0, deployed.stderr)
  const deployment = JSON.parse(readFileSync(join(dir, '.imo', 'deployments', '31337', 'default.json'), 'utf8'))
  token = deployment.imoToken.address
  // TestUsdc, deployed and funded by another dev account than serve's (serve's journal owns account 0's nonces).
  const owner = createWalletClient({ account: privateKeyToAccount(key(5)), transport: http(anvil.rpcUrl) })
  const hash = await owner.deployContract({ abi: testUsdcAbi, bytecode: testUsdcBytecode, chain: null })
  usdc = (await client.waitForTransactionReceipt({ hash })).contractAddress!
  for (const holder of [3, 4])
    await client.waitForTransactionReceipt({
      hash: await owner.writeContract({
        address: usdc,
        abi: testUsdcAbi,
        functionName: 'mint',
        args: [anvil.accounts[holder]!.address, 1_000_000_000n],
        chain: null,
      }),
    })
  // The text model's serve also follows on-chain requests: the API's settlements share its journal.
  serve = startServe(['--http', '0', '--price', '0.01', '--currency', usdc], 0, serveLines)
  api = await until('the API to start', () => serveLines.find((l) => l.event === 'api' && l.url)?.url as string | undefined)
  // The image model: deployed and served by account 1, settling through an x402 facilitator of its own
  // (the SDK's, over HTTP, paying gas from account 6), as `--facilitator URL` would use a hosted one.
  const images = await imo(
    [
      'deploy',
      '--model',
      CPPN,
      '--name',
      'I',
      '--symbol',
      'I',
      '--supply',
      '1000',
      '--deployment',
      '.imo/deployments/31337/cppn.json',
      '--json',
    ],
    1,
  )
  assert.equal(images.code, 0, images.stderr)
  imageToken = JSON.parse(readFileSync(join(dir, '.imo', 'deployments', '31337', 'cppn.json'), 'utf8')).imoToken.address
  facilitatorServer = await startFacilitator()
  const address = facilitatorServer.address() as { port: number }
  imageServe = startServe(
    [
      '--http',
      '0',
      '--price',
      '0.01',
      '--currency',
      usdc,
      '--no-follow',
      '--deployment',
      '.imo/deployments/31337/cppn.json',
      '--facilitator',
      `http://127.0.0.1:${address.port}`,
    ],
    1,
    imageLines,
  )
  imageApi = await until(
    'the image API to start',
    () => imageLines.find((l) => l.event === 'api' && l.url)?.url as string | undefined,
  )
})

/** `imo serve` as a child with the dev account `signer`, its JSON log lines collected into `lines`. */
function startServe(args: string[], signer: number, lines: Array<Record<string, unknown>>): ChildProcess {
  const child = spawn(process.execPath, [imoBin, 'serve', '--json', '--rpc-url', anvil.rpcUrl, ...args], {
    cwd: dir,
    env: cleanEnv({ IMO_PRIVATE_KEY: key(signer) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let buffer = ''
  child.stderr!.on('data', (chunk) => {
    buffer += chunk
    const parts = buffer.split('\n')
    buffer = parts.pop()!
    for (const line of parts)
      if (line.trim())
        try {
          lines.push(JSON.parse(line))
        } catch {
          lines.push({ notJson: line })
        }
  })
  return child
}

/** The x402 SDK's own facilitator over HTTP (POST /verify, /settle, GET /supported), gas from account 6. */
async function startFacilitator(): Promise<Server> {
  const wallet = createWalletClient({
    account: privateKeyToAccount(key(6)),
    chain: foundry,
    transport: http(anvil.rpcUrl),
  }).extend(publicActions)
  const facilitator = registerExactEvmScheme(new x402Facilitator(), {
    signer: toFacilitatorEvmSigner({ ...wallet, address: wallet.account.address } as never),
    networks: NETWORK,
  })
  const server = createServer(async (req, res) => {
    let body = ''
    for await (const chunk of req) body += chunk
    const send = (doc: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc))
    if (req.method === 'GET' && req.url === '/supported') return send(facilitator.getSupported())
    const { paymentPayload, paymentRequirements } = JSON.parse(body || '{}')
    if (req.url === '/verify') return send(await facilitator.verify(paymentPayload, paymentRequirements))
    if (req.url === '/settle') return send(await facilitator.settle(paymentPayload, paymentRequirements))
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}

after(async () => {
  for (const child of [serve, imageServe]) if (child && child.exitCode === null) child.kill('SIGKILL')
  facilitatorServer?.closeAllConnections()
  facilitatorServer?.close()
  await anvil?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('imo serve --http (x402)', () => {
  it('answers 402 with the requirements without a payment, and runs nothing', async () => {
    const res = await fetch(`${api}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tinylm', prompt: 'Once' }),
    })
    assert.equal(res.status, 402)
    const required = decodePaymentRequiredHeader(res.headers.get('payment-required')!)
    const accepts = required.accepts[0]!
    assert.equal(accepts.scheme, 'exact')
    assert.equal(accepts.network, NETWORK)
    assert.equal(accepts.asset.toLowerCase(), usdc.toLowerCase())
    assert.equal(accepts.amount, PRICE.toString())
    assert.equal(accepts.payTo.toLowerCase(), token.toLowerCase())
    assert.deepEqual(accepts.extra, { name: 'USD Coin', version: '2' })
    assert.equal(await inferences(), 0)
    const models = (await (await fetch(`${api}/v1/models`)).json()) as { data: Array<{ id: string }> }
    assert.equal(models.data[0]!.id, 'tinylm')
    assert.equal((await fetch(`${api}/healthz`)).status, 200)
  })

  it("curl gets the 402 as the README shows it: the PAYMENT-REQUIRED header decodes to the token's requirements", async () => {
    const { execFileSync } = await import('node:child_process')
    const out = execFileSync('curl', ['-si', `${api}/v1/completions`, '-d', '{"prompt":"Once upon a time"}'], {
      encoding: 'utf8',
    })
    assert.match(out, /^HTTP\/1\.1 402 /)
    const header = /^payment-required: (\S+)\r?$/im.exec(out)?.[1]
    assert.ok(header, out)
    const decoded = JSON.parse(Buffer.from(header, 'base64').toString('utf8'))
    assert.equal(decoded.x402Version, 2)
    assert.equal(decoded.accepts[0].scheme, 'exact')
    assert.equal(decoded.accepts[0].network, NETWORK)
    assert.equal(decoded.accepts[0].payTo.toLowerCase(), token.toLowerCase())
    assert.equal(await inferences(), 0)
  })

  it('refuses a too-large body (413) and a max_tokens beyond the context (400) before any payment', async () => {
    const big = await fetch(`${api}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'x'.repeat(70_000) }) })
    assert.equal(big.status, 413)
    const long = await fetch(`${api}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'a', max_tokens: 4096 }) })
    assert.equal(long.status, 400)
    assert.match(((await long.json()) as { error: { message: string } }).error.message, /context of 512/)
  })

  it('paid completion, chat, streamed chat through the openai client: the token gains the price per call', async () => {
    const openai = new OpenAI({ apiKey: 'unused', baseURL: `${api}/v1`, fetch: payingFetch(3), maxRetries: 0 })
    const before = await usdcBalance(token)
    const payerBefore = await usdcBalance(anvil.accounts[3]!.address)
    const completion = await openai.completions.create({ model: 'tinylm', prompt: 'Once upon a time', max_tokens: 8 })
    assert.ok(completion.choices[0]!.text.length > 0)
    const imoField = (completion as unknown as { imo: { record: { commitment: string }; attestation: { payer: string } } }).imo
    assert.match(imoField.record.commitment, /^0x[0-9a-f]{64}$/)
    assert.equal(imoField.attestation.payer.toLowerCase(), anvil.accounts[3]!.address.toLowerCase())
    assert.equal(await usdcBalance(token), before + PRICE)

    const chat = await openai.chat.completions.create({
      model: 'tinylm',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 6,
    })
    assert.equal(chat.choices[0]!.message.role, 'assistant')
    assert.equal(typeof chat.choices[0]!.message.content, 'string')
    assert.equal(await usdcBalance(token), before + 2n * PRICE)

    const stream = await openai.chat.completions.create({
      model: 'tinylm',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 6,
      stream: true,
    })
    let streamed = ''
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? ''
    // Greedy and deterministic: the stream carries the same text as the plain chat.
    assert.equal(streamed, chat.choices[0]!.message.content)
    assert.equal(await usdcBalance(token), before + 3n * PRICE)
    assert.equal(await usdcBalance(anvil.accounts[3]!.address), payerBefore - 3n * PRICE)
    // A stream's attestation travels in a header (the events follow the settlement) and in its last event.
    const raw = await payingFetch(3)(`${api}/v1/completions`, {
      method: 'POST',
      body: JSON.stringify({ prompt: 'Once', max_tokens: 4, stream: true }),
    })
    const events = await raw.text()
    const attested = JSON.parse(Buffer.from(raw.headers.get('x-imo-attestation')!, 'base64').toString('utf8'))
    assert.equal(attested.format, 'imo-api-response-v1')
    assert.match(attested.settlement.txHash, /^0x[0-9a-f]{64}$/)
    assert.ok(events.endsWith('data: [DONE]\n\n'))
    assert.ok(events.includes(attested.record.commitment))
    assert.equal(await usdcBalance(token), before + 4n * PRICE)
  })

  it('refuses a payment for the wrong amount, asset or payTo: 402, the model not run, nothing settled', async () => {
    const before = await usdcBalance(token)
    const ran = await inferences()
    // Capture a valid payment header, then tamper with what it accepted.
    const capture = payingFetch(4)
    await capture(`${api}/v1/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'tinylm', prompt: 'x', max_tokens: 2 }),
    }).then(async (res) => {
      await res.text()
    })
    const settledOnce = await usdcBalance(token)
    assert.equal(settledOnce, before + PRICE)
    for (const mutate of [
      (a: Record<string, unknown>) => {
        a.amount = '1'
      },
      (a: Record<string, unknown>) => {
        a.payTo = anvil.accounts[4]!.address
      },
      (a: Record<string, unknown>) => {
        a.asset = token
      },
    ]) {
      const res = await signTampered(mutate)
      assert.equal(res.status, 402)
    }
    assert.equal(await inferences(), ran + 1, 'only the valid call ran the model')
    assert.equal(await usdcBalance(token), settledOnce)
  })

  it('refuses a payment for another network, an expired or a not-yet-valid authorization: 402, nothing run or settled', async () => {
    const before = await usdcBalance(token)
    const ran = await inferences()
    const now = Math.floor(Date.now() / 1000)
    const cases: [string, Promise<Response>][] = [
      ['another network', signTampered((a) => Object.assign(a, { network: 'eip155:1' }))],
      [
        'expired',
        signTampered(
          () => {},
          (auth) => Object.assign(auth, { validBefore: String(now - 60) }),
        ),
      ],
      [
        'not yet valid',
        signTampered(
          () => {},
          (auth) => Object.assign(auth, { validAfter: String(now + 3600) }),
        ),
      ],
    ]
    for (const [what, response] of cases) {
      const res = await response
      assert.equal(res.status, 402, `${what}: ${res.status} ${await res.text()}`)
    }
    assert.equal(await inferences(), ran, 'the model never ran')
    assert.equal(await usdcBalance(token), before, 'nothing settled')
  })

  it('one authorization used twice, one after the other and at once: the model runs once, settles once', async () => {
    // Sign one payment by hand and send it three times: two at once, then once more.
    const unpaid = await fetch(`${api}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'y', max_tokens: 2 }) })
    const required = decodePaymentRequiredHeader(unpaid.headers.get('payment-required')!)
    const accepted = required.accepts[0]!
    const payload = await new ExactEvmScheme(privateKeyToAccount(key(4))).createPaymentPayload(2, accepted as never)
    const header = encodePaymentSignatureHeader({ ...payload, resource: required.resource, accepted } as never)
    const before = await usdcBalance(token)
    const ran = await inferences()
    const call = () =>
      fetch(`${api}/v1/completions`, {
        method: 'POST',
        headers: { 'payment-signature': header },
        body: JSON.stringify({ prompt: 'y', max_tokens: 2 }),
      })
    // Blocks every second (not one per transaction): the first settlement waits for its block, so the
    // twin arrives while the nonce is still unused on chain, as it would on a real chain.
    await anvilRpc(anvil.rpcUrl, 'evm_setAutomine', [false])
    await anvilRpc(anvil.rpcUrl, 'evm_setIntervalMining', [1])
    const [a, b] = await Promise.all([call(), call()]).finally(async () => {
      await anvilRpc(anvil.rpcUrl, 'evm_setIntervalMining', [0])
      await anvilRpc(anvil.rpcUrl, 'evm_setAutomine', [true])
    })
    assert.deepEqual([a.status, b.status].sort(), [200, 402])
    const again = await call()
    assert.equal(again.status, 402)
    assert.equal(await usdcBalance(token), before + PRICE)
    assert.equal(await inferences(), ran + 1)
    const paid = a.status === 200 ? a : b
    assert.equal(decodePaymentResponseHeader(paid.headers.get('payment-response')!).success, true)
  })

  it('a signature by another key, or a payer without the funds: 402, the model not run, nothing settled', async () => {
    const before = await usdcBalance(token)
    const ran = await inferences()
    const unpaid = await fetch(`${api}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'z', max_tokens: 2 }) })
    const required = decodePaymentRequiredHeader(unpaid.headers.get('payment-required')!)
    const accepted = required.accepts[0]!
    const pay = async (payload: { payload: Record<string, unknown> }) =>
      fetch(`${api}/v1/completions`, {
        method: 'POST',
        headers: {
          'payment-signature': encodePaymentSignatureHeader({ ...payload, resource: required.resource, accepted } as never),
        },
        body: JSON.stringify({ prompt: 'z', max_tokens: 2 }),
      })
    // Signed by account 4, claiming to be from account 3 (who holds funds).
    const forged = (await new ExactEvmScheme(privateKeyToAccount(key(4))).createPaymentPayload(
      2,
      accepted as never,
    )) as unknown as {
      payload: { authorization: Record<string, unknown> }
    }
    forged.payload.authorization.from = anvil.accounts[3]!.address
    assert.equal((await pay(forged)).status, 402)
    // Account 7 holds no USDC: its authorization verifies by signature but not by simulation.
    const broke = await new ExactEvmScheme(privateKeyToAccount(key(7))).createPaymentPayload(2, accepted as never)
    assert.equal((await pay(broke as never)).status, 402)
    assert.equal(await inferences(), ran)
    assert.equal(await usdcBalance(token), before)
  })

  it('images through the openai client, settled by an external facilitator (--facilitator URL); facilitator down: 503, nothing run', async () => {
    const openai = new OpenAI({ apiKey: 'unused', baseURL: `${imageApi}/v1`, fetch: payingFetch(3), maxRetries: 0 })
    const before = await usdcBalance(imageToken)
    const image = await openai.images.generate({ model: 'cppn', prompt: 'a red spiral', response_format: 'b64_json' })
    const png = Buffer.from(image.data![0]!.b64_json!, 'base64')
    assert.equal(png.subarray(1, 4).toString(), 'PNG')
    assert.equal(await usdcBalance(imageToken), before + PRICE)
    const ran = await inferences(imageApi)
    facilitatorServer.closeAllConnections()
    await new Promise((resolve) => facilitatorServer.close(resolve))
    const down = await payingFetch(3)(`${imageApi}/v1/images/generations`, {
      method: 'POST',
      body: JSON.stringify({ model: 'cppn', prompt: 'a blue spiral', response_format: 'b64_json' }),
    })
    assert.equal(down.status, 503)
    assert.equal(await inferences(imageApi), ran)
    assert.equal(await usdcBalance(imageToken), before + PRICE)
  })

  it('settlement failing after the run (the payer spent its funds meanwhile): 402, the output withheld', async () => {
    const before = await usdcBalance(token)
    const payer = privateKeyToAccount(key(8))
    const owner = createWalletClient({ account: privateKeyToAccount(key(5)), transport: http(anvil.rpcUrl) })
    await client.waitForTransactionReceipt({
      hash: await owner.writeContract({
        address: usdc,
        abi: testUsdcAbi,
        functionName: 'mint',
        args: [payer.address, PRICE],
        chain: null,
      }),
    })
    const ran = await inferences()
    // No automatic blocks: the settlement waits in the mempool while the payer's own transfer of its
    // whole balance (with a higher tip, so first in the block) joins it; then one block is mined.
    await anvilRpc(anvil.rpcUrl, 'evm_setAutomine', [false])
    try {
      const answer = payingFetch(8)(`${api}/v1/completions`, {
        method: 'POST',
        body: JSON.stringify({ prompt: 'w', max_tokens: 2 }),
      })
      const deadline = Date.now() + 60_000
      while (((await anvilRpc(anvil.rpcUrl, 'txpool_status', [])) as { pending: string }).pending === '0x0') {
        if (Date.now() > deadline) throw new Error('no settlement reached the mempool')
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      const spender = createWalletClient({ account: payer, transport: http(anvil.rpcUrl) })
      await spender.writeContract({
        address: usdc,
        abi: testUsdcAbi,
        functionName: 'transfer',
        args: [anvil.accounts[9]!.address, PRICE],
        chain: null,
        gas: 100_000n,
        maxPriorityFeePerGas: 50_000_000_000n,
        maxFeePerGas: 100_000_000_000n,
      })
      await anvilRpc(anvil.rpcUrl, 'evm_mine', [])
      const res = await answer
      assert.equal(res.status, 402)
      const body = await res.text()
      assert.doesNotMatch(body, /choices|imo-api-response/)
    } finally {
      await anvilRpc(anvil.rpcUrl, 'evm_setAutomine', [true])
    }
    assert.equal(await inferences(), ran + 1)
    assert.equal(await usdcBalance(token), before)
  })

  it('imo ask pays, prints the text, saves the response; imo verify RESPONSE.json: verified, failed, unverified', async () => {
    const before = await usdcBalance(token)
    const refused = await imo(['ask', 'Once', '--api', api, '--max-price', '0.001', '--json'], 3)
    assert.equal(refused.code, 2, refused.stderr)
    assert.match(refused.stderr, /above --max-price/)
    assert.equal(await usdcBalance(token), before)
    const asked = await imo(
      ['ask', 'Once', '--api', api, '--max-price', '0.01', '--max-tokens', '6', '--out', 'answers', '--json'],
      3,
    )
    assert.equal(asked.code, 0, asked.stderr)
    const out = JSON.parse(asked.stdout)
    assert.equal(typeof out.text, 'string')
    assert.match(out.txHash, /^0x[0-9a-f]{64}$/)
    assert.equal(await usdcBalance(token), before + PRICE)
    const saved = out.file as string
    const verified = await imo(['verify', saved, '--model', TINYLM, '--json'], undefined)
    assert.equal(verified.code, 0, verified.stdout + verified.stderr)
    assert.equal(JSON.parse(verified.stdout).status, 'verified')
    const offline = await runCli(['verify', saved, '--model', TINYLM, '--json'], { cwd: dir, env: { IMO_RPC_URL: undefined } })
    assert.equal(offline.code, 10, offline.stdout + offline.stderr)
    assert.equal(JSON.parse(offline.stdout).result.status, 'unverified')
    const doc = JSON.parse(readFileSync(join(dir, saved), 'utf8'))
    const text: string = doc.choices[0].text
    doc.choices[0].text = `${text.slice(0, -1)}${text.endsWith('x') ? 'y' : 'x'}`
    writeFileSync(join(dir, 'tampered.json'), JSON.stringify(doc))
    const failed = await imo(['verify', 'tampered.json', '--model', TINYLM, '--json'], undefined)
    assert.equal(failed.code, 9, failed.stdout + failed.stderr)
    const failedReport = JSON.parse(failed.stdout).result
    assert.equal(failedReport.status, 'failed')
    assert.equal(failedReport.checks.find((c: { name: string }) => c.name === 'output').status, 'fail')

    // --reexecute: the answer re-checked here right after it was paid for, as imo verify checks it.
    const noModel = await imo(['ask', 'Once', '--api', api, '--max-price', '0.01', '--reexecute', '--json'], 3)
    assert.equal(noModel.code, 2, noModel.stderr)
    assert.match(noModel.stderr, /--reexecute re-runs the model: pass --model PATH/)
    assert.equal(await usdcBalance(token), before + PRICE, 'nothing paid before the flags were checked')
    const rerun = await imo(
      ['ask', 'Once', '--api', api, '--max-price', '0.01', '--max-tokens', '6', '--reexecute', '--model', TINYLM, '--json'],
      3,
    )
    assert.equal(rerun.code, 0, rerun.stderr)
    assert.equal(JSON.parse(rerun.stdout).reexecution.status, 'verified')
    const wrongModel = await imo(
      ['ask', 'Once', '--api', api, '--max-price', '0.01', '--max-tokens', '6', '--reexecute', '--model', CPPN, '--json'],
      3,
    )
    assert.equal(wrongModel.code, 9, wrongModel.stdout + wrongModel.stderr)
    assert.equal(JSON.parse(wrongModel.stdout).result.status, 'failed')
    assert.equal(await usdcBalance(token), before + 3n * PRICE)
  })

  it('serve fulfils an on-chain request while it settles paid calls: one key, one journal, no nonce clash', async () => {
    const openai = new OpenAI({ apiKey: 'unused', baseURL: `${api}/v1`, fetch: payingFetch(3), maxRetries: 0 })
    const before = await usdcBalance(token)
    // One-second blocks: serve's fulfilment and the settlements wait for receipts side by side.
    await anvilRpc(anvil.rpcUrl, 'evm_setAutomine', [false])
    await anvilRpc(anvil.rpcUrl, 'evm_setIntervalMining', [1])
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
    const [requested, ...answers] = await Promise.all([
      imo(['request', 'Once', '--wait', '--timeout', '90', '--json'], 2, 120_000),
      ...['a', 'b', 'c', 'd'].map((prompt, index) =>
        pause(index * 700).then(() => openai.completions.create({ model: 'tinylm', prompt, max_tokens: 3 })),
      ),
    ]).finally(async () => {
      await anvilRpc(anvil.rpcUrl, 'evm_setIntervalMining', [0])
      await anvilRpc(anvil.rpcUrl, 'evm_setAutomine', [true])
    })
    assert.equal(requested.code, 0, requested.stderr)
    assert.equal(JSON.parse(requested.stdout).fulfilment.status, 'fulfilled')
    assert.equal(answers.length, 4)
    assert.equal(await usdcBalance(token), before + 4n * PRICE)
  })

  it('bad flags: a one-line error and exit 2, before anything listens', async () => {
    const imageServeArgs = (currency: string) => [
      ...['serve', '--http', '0', '--price', '0.01', '--currency', currency, '--no-follow'],
      ...['--deployment', '.imo/deployments/31337/cppn.json'],
    ]
    const cases: Array<[string[], RegExp]> = [
      [['serve', '--http', '0', '--currency', usdc], /--http needs --price/],
      [['serve', '--http', '0', '--price', '0.01'], /--http needs --currency/],
      [['serve', '--http', '0', '--price', 'cheap', '--currency', usdc], /--price must be a decimal number/],
      [['serve', '--http', '0', '--price', '0.01', '--currency', '0x12'], /--currency must be a 0x-prefixed 20-byte address/],
      [['serve', '--price', '0.01'], /--price applies only with --http/],
      [['serve', '--no-follow'], /--no-follow applies only with --http/],
      [imageServeArgs(anvil.accounts[9]!.address), /is not an EIP-3009 token/],
      [imageServeArgs('NOPE'), /--currency NOPE is not a revenue currency of the token/],
      [imageServeArgs('ETH'), /--currency ETH is the native currency/],
      [['ask', 'hi', '--api', 'ftp://x'], /--api must be an http\(s\) URL/],
    ]
    for (const [args, message] of cases) {
      // The EOA-as-currency case needs an attester of the image collection (account 1) to get that far.
      const result = await imo(args, args.includes('--deployment') ? 1 : 9)
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`)
      const errors = result.stderr.split('\n').filter((line) => line.startsWith('error:'))
      assert.equal(errors.length, 1, result.stderr)
      assert.match(errors[0]!, message)
    }
  })

  it('shows the revenue settled and the gas spent in /metrics, and leaks no key in its logs', async () => {
    const text = await (await fetch(`${api}/metrics`)).text()
    const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN)
    assert.ok(value('imo_api_revenue_settled_total') === Number(13n * PRICE), text)
    assert.ok(value('imo_api_settle_gas_total') > 0)
    const logs = JSON.stringify(serveLines)
    assert.ok(!logs.includes(key(0).slice(2)))
  })
})
