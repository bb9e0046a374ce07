import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { ApiRequestError, DEFAULT_LIMITS, parseApiCall, plainChatPrompt } from './apiRequests.js'
import { loadChatTemplate } from './chatTemplate.js'

/** A ChatML template that refuses a conversation whose first message is the assistant's, as many models' do. */
const CHATML =
  "{% if messages[0]['role'] == 'assistant' %}{{ raise_exception('Conversation must start with the user') }}{% endif %}" +
  "{{ bos_token }}{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

const limits = { ...DEFAULT_LIMITS, contextTokens: 512 }
const refused = (fn: () => unknown, status: number, pattern: RegExp) =>
  assert.throws(
    fn,
    (error: unknown) => error instanceof ApiRequestError && error.status === status && pattern.test(error.message),
  )

describe('parseApiCall', () => {
  it('takes a completion with its generation fields', () => {
    assert.deepEqual(
      parseApiCall('completions', { model: 'tinylm', prompt: 'Once', max_tokens: 8, temperature: 0, seed: 3 }, limits),
      {
        endpoint: 'completions',
        model: 'tinylm',
        prompt: 'Once',
        generation: { maxNewTokens: 8, temperature: 0, seed: 3 },
        stream: false,
      },
    )
  })

  it('renders chat messages with the plain template', () => {
    const call = parseApiCall(
      'chat',
      {
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'hi' },
        ],
        stream: true,
      },
      limits,
    )
    assert.equal(call.prompt, 'system: be brief\nuser: hi\nassistant:')
    assert.equal(
      call.prompt,
      plainChatPrompt([
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
      ]),
    )
    assert.equal(call.stream, true)
  })

  it('refuses what it cannot serve, naming the field', () => {
    refused(() => parseApiCall('completions', [], limits), 400, /JSON object/)
    refused(() => parseApiCall('completions', { prompt: '' }, limits), 400, /"prompt"/)
    refused(() => parseApiCall('completions', { prompt: 'a', max_tokens: 512 }, limits), 400, /context of 512/)
    refused(() => parseApiCall('completions', { prompt: 'a', max_tokens: 0 }, limits), 400, /at least 1/)
    refused(() => parseApiCall('completions', { prompt: 'a', temperature: 'hot' }, limits), 400, /"temperature"/)
    refused(() => parseApiCall('completions', { prompt: 'é'.repeat(5000) }, limits), 400, /longer than 8192 bytes/)
    refused(() => parseApiCall('chat', { messages: [{ role: 'robot', content: 'x' }] }, limits), 400, /role/)
    refused(() => parseApiCall('images', { prompt: 'a', response_format: 'url' }, limits), 400, /b64_json/)
    refused(() => parseApiCall('images', { prompt: 'a', n: 2 }, limits), 400, /"n"/)
  })
  it("renders chat messages with the model's own Jinja chat_template; a message it refuses is a 400", async () => {
    const folder = mkdtempSync(join(tmpdir(), 'imo-chat-template-'))
    try {
      writeFileSync(
        join(folder, 'tokenizer_config.json'),
        JSON.stringify({ bos_token: { content: '<s>', lstrip: false }, chat_template: CHATML }),
      )
      const chatTemplate = (await loadChatTemplate(folder))!
      const call = parseApiCall('chat', { messages: [{ role: 'user', content: 'hi' }] }, limits, { chatTemplate })
      assert.equal(call.prompt, '<s><|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n')
      refused(
        () => parseApiCall('chat', { messages: [{ role: 'assistant', content: 'x' }] }, limits, { chatTemplate }),
        400,
        /chat template refused the messages: .*start with the user/,
      )
      writeFileSync(join(folder, 'tokenizer_config.json'), JSON.stringify({ bos_token: '<s>' }))
      assert.equal(await loadChatTemplate(folder), undefined)
      writeFileSync(join(folder, 'tokenizer_config.json'), JSON.stringify({ chat_template: '{% for m in messages %}' }))
      await assert.rejects(loadChatTemplate(folder), /its chat_template is not a Jinja template imo can render/)
    } finally {
      rmSync(folder, { recursive: true, force: true })
    }
  })
})
