/**
 * The paid, OpenAI-compatible HTTP API of `imo serve --http` on node:http. One call:
 *
 *   parse and check the body (400/413/501, nothing paid) -> no payment: 402 with the requirements
 *   -> claim the authorization (a twin is refused: 402) -> the SDK verifies it through the facilitator
 *   (402 when invalid, 503 when the facilitator or its RPC is down; the model never runs for either)
 *   -> run the model -> attest the answer (the attester's signature binds model, prompt, output, payer)
 *   -> settle (402 and the output withheld when settlement fails) -> 200 with PAYMENT-RESPONSE.
 *
 * Streaming order: the whole answer is generated and settled BEFORE the first event is sent, then the
 * text goes out in one event (the model may have run on a queue worker, which streams nothing back). So nothing unpaid ever leaves the server and a payer is
 * never charged for a run that failed; the cost is no token before the end (the `upfront` flow would
 * charge before running, and streaming live then settling would hand out unpaid text).
 *
 * The settlement header is rebuilt from {success, transaction, network, payer} only: the SDK puts raw
 * error texts there, which can carry an RPC URL with its key.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Registry } from 'prom-client'
import type { Address } from 'viem'
import type { GenerationFlags } from '../generate/generationSettings.js'
import type { InferenceResult } from '../inference/assembleInference.js'
import type { ApiMetrics } from './apiMetrics.js'
import { type ApiCall, type ApiEndpoint, type ApiLimits, ApiRequestError, parseApiCall } from './apiRequests.js'
import { type ApiResponseProof, responseBody, streamEvents } from './apiResponses.js'
import type { AuthorizationClaims } from './authorizationClaims.js'
import type { ChatTemplate } from './chatTemplate.js'
import { authorizationOf, type PaymentGate } from './paymentGate.js'

/** Runs the model on one call's prompt, through serve's infer and check stages (startHttpApi.ts: stagesInference). */
export type ApiInference = (call: { prompt: string; generation?: GenerationFlags }) => Promise<InferenceResult>

/** One line of the API's log (serve's log format). */
export interface ApiEvent {
  event: 'api'
  message: string
  [key: string]: unknown
}

export interface PaidApiOptions {
  host: string
  port: number
  /** The model's name in /v1/models. */
  modelName: string
  modelHash: string
  kind: 'causal-lm' | 'image'
  /** The model's own chat template (tokenizer_config.json), when it has one. */
  chatTemplate?: ChatTemplate
  limits: ApiLimits
  infer: ApiInference
  gate: PaymentGate
  claims: AuthorizationClaims
  /** The attestation of an answer (the settlement is added after it). */
  attest(result: InferenceResult, payer: Address): Promise<ApiResponseProof>
  metrics: ApiMetrics
  /** Served at /metrics when given. */
  registry?: Registry
  log(event: ApiEvent): void
}

export interface PaidApi {
  server: Server
  url: string
  close(): Promise<void>
}

const ENDPOINTS: Record<string, ApiEndpoint> = {
  '/v1/completions': 'completions',
  '/v1/chat/completions': 'chat',
  '/v1/images/generations': 'images',
}

/**
 * Starts the API.
 * @throws UsageError when the port is taken.
 * @example
 * const api = await startPaidApi({ host: '127.0.0.1', port: 8402, modelName: 'tinylm', kind: 'causal-lm', ... })
 * await api.close()
 */
export async function startPaidApi(options: PaidApiOptions): Promise<PaidApi> {
  const { createServer } = await import('node:http')
  const { UsageError } = await import('../errors.js')
  const started = Math.floor(Date.now() / 1000)
  const server = createServer((req, res) => {
    handle(req, res, options, started).catch((error: unknown) => {
      options.log({ event: 'api', message: `internal error: ${(error as Error)?.message ?? error}` })
      if (!res.headersSent) sendJson(res, 500, openAiError('internal error', 'server_error'))
      else res.end()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new UsageError(`--http ${options.port} is in use on ${options.host}; choose another port`)
          : error,
      ),
    )
    server.listen(options.port, options.host, () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  return {
    server,
    url: `http://${host}:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      await options.claims.close()
    },
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, options: PaidApiOptions, started: number): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost')
  if (req.method === 'GET' && url.pathname === '/healthz')
    return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n')
  if (req.method === 'GET' && url.pathname === '/metrics' && options.registry) {
    const text = await options.registry.metrics()
    return void res.writeHead(200, { 'content-type': options.registry.contentType }).end(text)
  }
  if (req.method === 'GET' && url.pathname === '/v1/models')
    return sendJson(res, 200, {
      object: 'list',
      data: [
        {
          id: options.modelName,
          object: 'model',
          created: started,
          owned_by: 'imo',
          imo: { modelHash: options.modelHash, kind: options.kind },
        },
      ],
    })
  const endpoint = ENDPOINTS[url.pathname]
  const served = endpoint === 'images' ? options.kind === 'image' : endpoint !== undefined && options.kind === 'causal-lm'
  if (req.method !== 'POST' || !endpoint || !served)
    return sendJson(
      res,
      404,
      openAiError(`no ${req.method} ${url.pathname} for this ${options.kind} model`, 'invalid_request_error'),
    )
  let call: ApiCall
  let body: unknown
  try {
    body = await readJsonBody(req, options.limits.maxBodyBytes)
    call = parseApiCall(endpoint, body, options.limits, options.chatTemplate ? { chatTemplate: options.chatTemplate } : {})
  } catch (error) {
    if (!(error instanceof ApiRequestError)) throw error
    options.metrics.calls.inc({ outcome: 'bad-request' })
    if (error.status === 413) req.resume()
    return sendJson(res, error.status, openAiError(error.message, error.type))
  }
  await paidCall(req, res, options, call, body, url)
}

/** The payment and the model run of a checked call. */
async function paidCall(
  req: IncomingMessage,
  res: ServerResponse,
  options: PaidApiOptions,
  call: ApiCall,
  body: unknown,
  url: URL,
): Promise<void> {
  const { FacilitatorResponseError, encodePaymentResponseHeader } = await import('@x402/core/http')
  const header = headerOf(req, 'payment-signature') ?? headerOf(req, 'x-payment')
  const authorization = header ? await authorizationOf(header) : undefined
  if (header && !authorization) {
    // Not an exact EIP-3009 payment (or not decodable): refused here, before the SDK (which would
    // print to the console, into serve's log lines).
    options.metrics.calls.inc({ outcome: 'refused' })
    return sendJson(res, 402, {
      error: { message: 'the payment header is not an x402 exact (EIP-3009) payment', type: 'payment_error' },
    })
  }
  const claim = authorization ? await options.claims.claim(authorization) : undefined
  if (claim && 'refused' in claim) {
    options.metrics.calls.inc({ outcome: 'refused' })
    options.log({
      event: 'api',
      message: `refused a reused payment authorization (${claim.refused})`,
      payer: authorization!.from,
    })
    return sendJson(res, 402, {
      error: { message: `this payment authorization was used already (${claim.refused})`, type: 'payment_error' },
    })
  }
  const context = { adapter: adapterOf(req, url, body), path: url.pathname, method: req.method ?? 'POST' }
  let settledOk = false
  try {
    const result = await options.gate.http.processHTTPRequest(context)
    if (result.type === 'payment-error') {
      options.metrics.calls.inc({ outcome: header ? 'refused' : 'unpaid' })
      return sendInstructions(res, result.response)
    }
    if (result.type !== 'payment-verified') throw new Error('a paid route answered without payment')
    const payer = (authorization?.from ?? '0x0000000000000000000000000000000000000000') as Address
    let inference: InferenceResult
    options.metrics.modelRuns.inc()
    try {
      inference = await options.infer({
        prompt: call.prompt,
        ...(call.generation ? { generation: call.generation } : {}),
      })
    } catch (error) {
      options.metrics.calls.inc({ outcome: 'failed' })
      options.log({ event: 'api', message: `ran the model for a verified payment (${call.endpoint}): it failed`, payer })
      const usage = (error as { exitCode?: number })?.exitCode === 2
      options.log({ event: 'api', message: `the model failed, nothing settled: ${(error as Error)?.message}` })
      return sendJson(
        res,
        usage ? 400 : 500,
        openAiError(
          usage ? (error as Error).message : 'the model failed; nothing was charged',
          usage ? 'invalid_request_error' : 'server_error',
        ),
      )
    }
    options.log({
      event: 'api',
      message: `ran the model for a verified payment (${call.endpoint})`,
      commitment: inference.record.commitment,
      payer,
    })
    const proof = await options.attest(inference, payer)
    const settled = await options.gate.http.processSettlement(
      result.paymentPayload,
      result.paymentRequirements,
      result.declaredExtensions,
      { request: context },
      undefined,
      result.beforeHandlerSettlement,
    )
    if (!settled.success) {
      options.metrics.calls.inc({ outcome: 'settle-failed' })
      options.log({ event: 'api', message: `settlement failed, output withheld: ${settled.errorReason}`, payer })
      return sendJson(res, 402, {
        error: {
          message: `the payment could not be settled (${settled.errorReason}); nothing was delivered`,
          type: 'payment_error',
        },
      })
    }
    settledOk = true
    if (claim)
      await claim.settled().catch((error: unknown) => {
        // The chain knows the nonce is used now: a reuse is still refused by the facilitator.
        options.log({ event: 'api', message: `could not mark the authorization settled: ${(error as Error).message}` })
      })
    const settlement = {
      txHash: settled.transaction as `0x${string}`,
      network: settled.network,
      payer: (settled.payer ?? payer) as Address,
      asset: options.gate.requirements.asset,
      amountWei: options.gate.requirements.amount,
    }
    options.metrics.calls.inc({ outcome: 'paid' })
    options.metrics.revenue.inc({ asset: settlement.asset }, Number(settlement.amountWei))
    options.log({
      event: 'api',
      message: `paid ${call.endpoint} call settled in ${settlement.txHash}`,
      payer: settlement.payer,
      txHash: settlement.txHash,
    })
    const full: ApiResponseProof = { ...proof, settlement }
    const paymentResponse = encodePaymentResponseHeader({
      success: true,
      transaction: settlement.txHash,
      network: settlement.network,
      payer: settlement.payer,
    } as never)
    const headers = {
      'payment-response': paymentResponse,
      'access-control-expose-headers': 'PAYMENT-RESPONSE, X-IMO-ATTESTATION',
    }
    if (call.stream) {
      res.writeHead(200, {
        ...headers,
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        'x-imo-attestation': Buffer.from(JSON.stringify(full)).toString('base64'),
      })
      const text = Buffer.from(inference.artifact.bytes).toString('utf8')
      for (const event of streamEvents(call, inference, full, [text])) res.write(event)
      res.end()
      return
    }
    sendJson(res, 200, responseBody(call, inference, full), headers)
  } catch (error) {
    if (!(error instanceof FacilitatorResponseError)) throw error
    options.metrics.calls.inc({ outcome: 'unavailable' })
    options.log({ event: 'api', message: 'the x402 facilitator is unavailable: 503' })
    sendJson(
      res,
      503,
      openAiError('the payment facilitator is unavailable; nothing was charged, try again later', 'server_error'),
    )
  } finally {
    if (claim && !('refused' in claim) && !settledOk) await claim.release().catch(() => {}) // it expires with the authorization
  }
}

/** The body as JSON, at most `limit` bytes (413 beyond, 400 when it is not JSON). */
async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > limit) throw new ApiRequestError(413, `the body is larger than ${limit} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) throw new ApiRequestError(413, `the body is larger than ${limit} bytes`)
    chunks.push(chunk as Buffer)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new ApiRequestError(400, 'the body is not JSON')
  }
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** The SDK's HTTPAdapter over node:http's request. */
function adapterOf(req: IncomingMessage, url: URL, body: unknown) {
  return {
    getHeader: (name: string) => headerOf(req, name.toLowerCase()),
    getMethod: () => req.method ?? 'POST',
    getPath: () => url.pathname,
    getUrl: () => url.href,
    getAcceptHeader: () => 'application/json', // never the SDK's HTML paywall
    getUserAgent: () => headerOf(req, 'user-agent') ?? '',
    getQueryParams: () => Object.fromEntries(url.searchParams),
    getQueryParam: (name: string) => url.searchParams.get(name) ?? undefined,
    getBody: () => body,
  }
}

function sendInstructions(
  res: ServerResponse,
  response: { status: number; headers: Record<string, string>; body?: unknown },
): void {
  res.writeHead(response.status, {
    'content-type': 'application/json',
    ...response.headers,
    'access-control-expose-headers': 'PAYMENT-REQUIRED',
  })
  res.end(response.body === undefined ? '{}' : typeof response.body === 'string' ? response.body : JSON.stringify(response.body))
}

function sendJson(res: ServerResponse, status: number, doc: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(doc))
}

function openAiError(message: string, type: string): { error: { message: string; type: string } } {
  return { error: { message, type } }
}
