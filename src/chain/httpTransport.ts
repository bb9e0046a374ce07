/**
 * viem transport for JSON-RPC over HTTP(S) with node:http, instead of viem's `http()`, which uses
 * fetch: Node's fetch is undici, whose first use compiles its bundle and a WASM HTTP parser, about
 * 30-40% of a read-only command's CPU time (bench/startup.ts). It behaves as viem's `http()` does for
 * what imo uses: the same errors (HttpRequestError with the status, RpcRequestError for a JSON-RPC
 * error, TimeoutError; a non-2xx answer's status and headers on them, so a rate limit's Retry-After
 * reaches src/chain/withBackoff.ts) so viem's retries and src/chain/toImoError.ts treat them alike; credentials in
 * the URL as basic auth; 307/308 redirects followed; bodies over 10 MiB refused (viem's default).
 * Connections are kept alive (an idle one does not keep the process running).
 */
import http, { type IncomingMessage } from 'node:http'
import type https from 'node:https'
import { createRequire } from 'node:module'
import { createTransport, HttpRequestError, RpcRequestError, TimeoutError, type Transport } from 'viem'

const MAX_BODY_BYTES = 10 * 1024 * 1024
const MAX_REDIRECTS = 5
const httpAgent = new http.Agent({ keepAlive: true })
let secure: { module: typeof https; agent: https.Agent } | undefined
let nextId = 0

/** node:https and its agent, loaded on the first https URL (TLS costs a local node's start-up ~5 ms). */
function tls(): { module: typeof https; agent: https.Agent } {
  if (!secure) {
    const module = createRequire(import.meta.url)('node:https') as typeof https
    secure = { module, agent: new module.Agent({ keepAlive: true }) }
  }
  return secure
}

export interface HttpTransportOptions {
  /** Milliseconds before a request fails with TimeoutError (default: the client's, else 10 s). */
  timeout?: number
  /** Retries of a failed request, as viem counts them (default: the client's, else 3). */
  retryCount?: number
}

interface RpcResponse {
  result?: unknown
  error?: { code: number; message: string; data?: unknown }
  /** The HTTP status and headers of a non-2xx answer that carried a JSON-RPC error. */
  http?: { status: number; headers: Headers }
}

/**
 * A JSON-RPC transport over node:http(s) for viem clients.
 * @param url - the http(s) endpoint; `https://user:pass@host/` sends basic auth.
 * @param options - timeout and retry count.
 * @returns a viem Transport.
 * @example
 * import { createPublicClient } from 'viem'
 * import { httpTransport } from './httpTransport.js'
 * const client = createPublicClient({ transport: httpTransport('http://127.0.0.1:8545', { timeout: 15_000, retryCount: 2 }) })
 * await client.getChainId() // 31337
 */
export function httpTransport(url: string, options: HttpTransportOptions = {}): Transport {
  return ({ retryCount, timeout }) => {
    const limit = options.timeout ?? timeout ?? 10_000
    return createTransport(
      {
        key: 'http',
        name: 'HTTP JSON-RPC',
        type: 'http',
        retryCount: options.retryCount ?? retryCount,
        timeout: limit,
        async request({ method, params }) {
          const body = { jsonrpc: '2.0', id: nextId++, method, params }
          const response = await post(url, body, limit)
          if (response.error) throw new RpcRequestError({ body, error: response.error, url, ...response.http })
          return response.result as never
        },
      },
      { url },
    )
  }
}

/** POSTs one JSON-RPC request and parses the answer; a JSON-RPC error in a non-2xx answer is returned too. */
async function post(url: string, body: { [key: string]: unknown }, timeout: number): Promise<RpcResponse> {
  const payload = JSON.stringify(body)
  let target = new URL(url)
  for (let redirects = 0; ; redirects++) {
    const answer = await exchange(target, payload, body, url, timeout)
    const location = answer.response.headers.location
    if ((answer.status === 307 || answer.status === 308) && location && redirects < MAX_REDIRECTS) {
      target = new URL(location, target)
      continue
    }
    let data: unknown
    try {
      data = JSON.parse(answer.text)
    } catch (cause) {
      throw new HttpRequestError({
        body,
        url,
        status: answer.status,
        headers: headersOf(answer.response),
        details: answer.status < 300 ? `not JSON: ${answer.text.slice(0, 200)}` : answer.text.slice(0, 200),
        ...(answer.status < 300 ? { cause: cause as Error } : {}),
      })
    }
    const rpc = data as RpcResponse
    const isRpcAnswer = rpc !== null && typeof rpc === 'object' && ('result' in rpc || 'error' in rpc)
    if (answer.status >= 200 && answer.status < 300 && isRpcAnswer) return rpc
    if (rpc?.error && typeof rpc.error === 'object')
      return { error: rpc.error, http: { status: answer.status, headers: headersOf(answer.response) } }
    throw new HttpRequestError({
      body,
      url,
      status: answer.status,
      headers: headersOf(answer.response),
      details: answer.text.slice(0, 200),
    })
  }
}

/** A response's headers as the Headers viem's errors carry (Retry-After is read from them). */
function headersOf(response: IncomingMessage): Headers {
  const headers = new Headers()
  for (const [name, value] of Object.entries(response.headers))
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value)
  return headers
}

/** One HTTP round trip: status, the response (for its headers) and its body as text. */
function exchange(
  target: URL,
  payload: string,
  body: { [key: string]: unknown },
  url: string,
  timeout: number,
): Promise<{ status: number; response: IncomingMessage; text: string }> {
  const { send, agent } =
    target.protocol === 'https:' ? { send: tls().module.request, agent: tls().agent } : { send: http.request, agent: httpAgent }
  const auth = target.username ? `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}` : undefined
  return new Promise((resolve, reject) => {
    const request = send(
      target,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        ...(auth ? { auth } : {}),
      },
      (response) => {
        const chunks: Buffer[] = []
        let size = 0
        response.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > MAX_BODY_BYTES) {
            request.destroy(new HttpRequestError({ body, url, details: `response body over ${MAX_BODY_BYTES} bytes` }))
            return
          }
          chunks.push(chunk)
        })
        response.on('end', () => {
          clearTimeout(timer)
          resolve({ status: response.statusCode ?? 0, response, text: Buffer.concat(chunks).toString('utf8') })
        })
        response.on('error', fail)
      },
    )
    const timer = setTimeout(() => request.destroy(new TimeoutError({ body, url })), timeout)
    function fail(error: Error) {
      clearTimeout(timer)
      reject(
        error instanceof HttpRequestError || error instanceof TimeoutError
          ? error
          : new HttpRequestError({ body, url, cause: error, details: error.message }),
      )
    }
    request.on('error', fail)
    request.end(payload)
  })
}
