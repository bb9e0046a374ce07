/**
 * A causal-lm model with its own Jinja chat_template, through the real paid HTTP API: a copy of the
 * bundled tinylm with a ChatML template in its tokenizer_config.json, deployed on a real anvil, served by
 * a spawned `imo serve --http`, and asked by the official `openai` client paying through `@x402/fetch`.
 */
import assert from 'node:assert/strict'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { ExactEvmScheme } from '@x402/evm/exact/client'
import { wrapFetchWithPaymentFromConfig } from '@x402/fetch'
import OpenAI from 'openai'
import type { Address } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { repoRoot } from './helpers/runCli.js'
import { anvil, type Deployed, deploy, deployTestUsdc, key, root, useServeQueueChain } from './helpers/serveQueueChain.js'
import { type SpawnedImo, spawnImo, stopImo } from './helpers/spawnImo.js'

const NETWORK = 'eip155:31337'
const CHATML =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

useServeQueueChain()

describe('a chat_template of the model through the paid API (real anvil, real HTTP server, openai client)', () => {
  let usdc: Address
  let deployed: Deployed
  let serve: SpawnedImo
  before(async () => {
    const model = join(root, 'chatlm')
    cpSync(join(repoRoot, 'models', 'tinylm'), model, { recursive: true })
    const config = JSON.parse(readFileSync(join(model, 'tokenizer_config.json'), 'utf8'))
    writeFileSync(join(model, 'tokenizer_config.json'), JSON.stringify({ ...config, chat_template: CHATML }))
    deployed = await deploy(model, 0)
    usdc = await deployTestUsdc([3])
    serve = spawnImo(
      ['serve', '--rpc-url', anvil.rpcUrl, '--http', '0', '--price', '0.01', '--currency', usdc, '--no-follow', '--model', model],
      { cwd: deployed.dir, env: { IMO_PRIVATE_KEY: key(0) }, readyEvent: 'api' },
    )
    await serve.ready
  })
  after(() => stopImo(serve))

  it('renders the messages with the template; the attested record holds the rendered prompt', async () => {
    const base = String(serve.lines.find((l) => l.event === 'api' && l.url)?.url)
    assert.match(base, /^http:/, JSON.stringify(serve.lines.slice(-3)))
    const payFetch = wrapFetchWithPaymentFromConfig(fetch, {
      schemes: [{ network: NETWORK, client: new ExactEvmScheme(privateKeyToAccount(key(3))) }],
      spendControls: { allowedAssets: [{ network: NETWORK, asset: usdc, maxAmountPerPayment: '10000' }] },
    })
    const openai = new OpenAI({ apiKey: 'unused', baseURL: `${base}/v1`, fetch: payFetch, maxRetries: 0 })
    const chat = await openai.chat.completions.create({
      model: 'chatlm',
      max_tokens: 4,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
      ],
    })
    const record = (chat as unknown as { imo: { record: { prompt: string } } }).imo.record
    assert.equal(record.prompt, '<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n')
    assert.equal(typeof chat.choices[0]!.message.content, 'string')
  })
})
