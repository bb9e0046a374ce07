/**
 * The OpenAI-compatible request bodies `imo serve --http` accepts, parsed and checked into one shape
 * (the prompt the model runs on, its generation flags, whether to stream). Anything wrong is an
 * ApiRequestError with the HTTP status and an OpenAI-style error type; nothing here runs the model.
 *
 * Chat messages become one prompt with the model's own chat template (chatTemplate.ts) when its
 * tokenizer_config.json has one, else with the plain template (docs/formats.md section 12): each
 * message as `<role>: <content>\n`, then `assistant:`.
 */
import type { GenerationFlags } from '../generate/generationSettings.js'
import type { ChatTemplate } from './chatTemplate.js'

/** What the server limits (413 / 400 beyond). */
export interface ApiLimits {
  /** Request body size in bytes (413 beyond). */
  maxBodyBytes: number
  /** Prompt size in UTF-8 bytes, after the chat template (400 beyond). */
  maxPromptBytes: number
  /** The model's context in tokens: max_tokens is capped below it (undefined: no cap known). */
  contextTokens?: number
}

/** The default limits: 64 KiB bodies, 8 KiB prompts. */
export const DEFAULT_LIMITS: ApiLimits = { maxBodyBytes: 64 * 1024, maxPromptBytes: 8 * 1024 }

/** A request refused before payment or inference. */
export class ApiRequestError extends Error {
  override name = 'ApiRequestError'
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
  ) {
    super(message)
  }
}

/** Which endpoint a parsed request is for. */
export type ApiEndpoint = 'completions' | 'chat' | 'images'

/** A checked request. */
export interface ApiCall {
  endpoint: ApiEndpoint
  /** The `model` field as the client sent it (echoed back). */
  model: string
  /** The text the model runs on (chat: after the template). */
  prompt: string
  /** causal-lm generation flags (max_tokens, temperature, top_p, seed), committed with the output. */
  generation?: GenerationFlags
  stream: boolean
}

/**
 * The plain chat template: `role: content` lines, then `assistant:`.
 * @example
 * plainChatPrompt([{ role: 'user', content: 'hi' }]) // 'user: hi\nassistant:'
 */
export function plainChatPrompt(messages: ReadonlyArray<{ role: string; content: string }>): string {
  return `${messages.map((m) => `${m.role}: ${m.content}\n`).join('')}assistant:`
}

/**
 * Parses and checks one request body.
 * @param endpoint - the path's endpoint.
 * @param body - the parsed JSON body.
 * @param limits - prompt bytes and the model's context.
 * @param options - the model's own chat template, if it has one.
 * @throws ApiRequestError (400) naming the field, or quoting the chat template's error.
 * @example
 * parseApiCall('completions', { model: 'tinylm', prompt: 'Once', max_tokens: 8 }, DEFAULT_LIMITS)
 * // { endpoint: 'completions', model: 'tinylm', prompt: 'Once', generation: { maxNewTokens: 8 }, stream: false }
 */
export function parseApiCall(
  endpoint: ApiEndpoint,
  body: unknown,
  limits: ApiLimits,
  options: { chatTemplate?: ChatTemplate } = {},
): ApiCall {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ApiRequestError(400, 'the body must be a JSON object')
  const fields = body as Record<string, unknown>
  const model = typeof fields.model === 'string' ? fields.model : ''
  const stream = fields.stream === true
  if (fields.stream !== undefined && typeof fields.stream !== 'boolean')
    throw new ApiRequestError(400, '"stream" must be a boolean')
  let prompt: string
  if (endpoint === 'chat') {
    const messages = checkMessages(fields.messages)
    prompt = options.chatTemplate ? renderChat(options.chatTemplate, messages) : plainChatPrompt(messages)
  } else {
    const given = Array.isArray(fields.prompt) && fields.prompt.length === 1 ? fields.prompt[0] : fields.prompt
    if (typeof given !== 'string' || given === '') throw new ApiRequestError(400, '"prompt" must be a non-empty string')
    prompt = given
  }
  if (Buffer.byteLength(prompt, 'utf8') > limits.maxPromptBytes)
    throw new ApiRequestError(400, `the prompt is longer than ${limits.maxPromptBytes} bytes`)
  if (endpoint === 'images') {
    if (fields.n !== undefined && fields.n !== 1) throw new ApiRequestError(400, '"n" must be 1')
    if (fields.response_format !== undefined && fields.response_format !== 'b64_json')
      throw new ApiRequestError(400, '"response_format" must be "b64_json" (imo returns the image in the response)')
    if (stream) throw new ApiRequestError(400, 'images do not stream')
    return { endpoint, model, prompt, stream: false }
  }
  return { endpoint, model, prompt, generation: generationOf(fields, limits), stream }
}

/** The messages through the model's template; a template that refuses them (raise_exception) is the caller's 400. */
function renderChat(template: ChatTemplate, messages: Array<{ role: string; content: string }>): string {
  try {
    return template(messages)
  } catch (error) {
    throw new ApiRequestError(400, `the model's chat template refused the messages: ${(error as Error).message.split('\n')[0]}`)
  }
}

/** The chat messages, checked: a non-empty list of {role, content} with string content. */
function checkMessages(value: unknown): Array<{ role: string; content: string }> {
  if (!Array.isArray(value) || value.length === 0) throw new ApiRequestError(400, '"messages" must be a non-empty list')
  return value.map((message, index) => {
    const { role, content } = (message ?? {}) as Record<string, unknown>
    if (typeof role !== 'string' || !['system', 'user', 'assistant', 'developer'].includes(role))
      throw new ApiRequestError(400, `messages[${index}].role must be system, developer, user or assistant`)
    if (typeof content !== 'string') throw new ApiRequestError(400, `messages[${index}].content must be a string`)
    return { role, content }
  })
}

/** max_tokens (capped by the context) and the sampling fields, as generation flags. */
function generationOf(fields: Record<string, unknown>, limits: ApiLimits): GenerationFlags {
  const generation: GenerationFlags = {}
  const maxTokens = fields.max_completion_tokens ?? fields.max_tokens
  if (maxTokens !== undefined && maxTokens !== null) {
    if (!Number.isSafeInteger(maxTokens) || (maxTokens as number) < 1)
      throw new ApiRequestError(400, '"max_tokens" must be a whole number of at least 1')
    if (limits.contextTokens !== undefined && (maxTokens as number) >= limits.contextTokens)
      throw new ApiRequestError(400, `"max_tokens" must be below the model's context of ${limits.contextTokens} tokens`)
    generation.maxNewTokens = maxTokens as number
  }
  const numeric: Array<[string, keyof GenerationFlags]> = [
    ['temperature', 'temperature'],
    ['top_p', 'topP'],
    ['seed', 'seed'],
  ]
  for (const [field, flag] of numeric) {
    const value = fields[field]
    if (value === undefined || value === null) continue
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ApiRequestError(400, `"${field}" must be a number`)
    generation[flag] = value
  }
  return generation
}
