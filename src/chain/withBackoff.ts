/**
 * A viem transport that waits out what is transient (issue 21 item 28): a rate limit (HTTP 429,
 * JSON-RPC -32005, what hosted providers send) or a server error (HTTP 5xx) is retried with backoff,
 * honouring Retry-After up to MAX_WAIT_MS a wait, until the budget is spent (then the error goes on
 * and toImoError makes it RpcError, exit 6: never "the node rejected the request"); the node being
 * unreachable, a timeout or an internal error is retried twice at once, as viem does. The classification
 * is toImoError's (rpcFailureKind), so every command and `imo serve` get the same. The transport it
 * wraps must not retry itself (http(url, { retryCount: 0 })): viem honours any Retry-After, unbounded.
 */
import type { Transport } from 'viem'
import { rpcFailureKind } from './toImoError.js'

/** The longest single wait, whatever Retry-After asks. */
export const MAX_WAIT_MS = 30_000

export interface BackoffPolicy {
  /** How long one request may keep waiting out rate limits and server errors, in ms. */
  budgetMs: number
  /** Called before each wait of a rate limit or server error (e.g. to say so once). */
  onWait?(waitMs: number, kind: 'rate-limit' | 'server'): void
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The wait a Retry-After header asks for (seconds, or an HTTP date), if the error carries one.
 * @example
 * retryAfterMs(new HttpRequestError({ headers: new Headers({ 'Retry-After': '2' }), status: 429, url })) // 2000
 */
export function retryAfterMs(error: unknown): number | undefined {
  for (let current = error as { headers?: unknown; cause?: unknown } | undefined, i = 0; current && i < 20; i++) {
    const headers = current.headers as { get?(name: string): string | null } | undefined
    const value = typeof headers?.get === 'function' ? headers.get('Retry-After') : null
    if (value) {
      if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000
      const date = Date.parse(value) - Date.now()
      if (Number.isFinite(date)) return Math.max(date, 0)
    }
    current = current.cause as typeof current
  }
  return undefined
}

/**
 * Wraps a transport so that its requests wait out rate limits and server errors.
 * @param transport - e.g. http(url, { retryCount: 0 }) or fallback([...], { retryCount: 0 }).
 * @param policy - the budget per request, and a hook before each wait.
 * @returns the transport, with the same key, name and type.
 * @example
 * import { http } from 'viem'
 * const transport = withBackoff(http(url, { retryCount: 0 }), { budgetMs: 120_000 })
 */
export function withBackoff(transport: Transport, policy: BackoffPolicy): Transport {
  return (options) => {
    const inner = transport({ ...options, retryCount: 0 })
    const request = async (args: Parameters<typeof inner.request>[0], more?: Parameters<typeof inner.request>[1]) => {
      const started = Date.now()
      let quick = 0
      for (let attempt = 0; ; attempt++) {
        try {
          return await inner.request(args, more)
        } catch (error) {
          const kind = rpcFailureKind(error)
          if (kind === 'retry' && quick < 2) {
            await sleep(150 * 2 ** quick++)
            continue
          }
          if (kind !== 'rate-limit' && kind !== 'server') throw error
          const wait = Math.min(Math.max(retryAfterMs(error) ?? 500 * 2 ** attempt, 100), MAX_WAIT_MS)
          if (Date.now() - started + wait > policy.budgetMs) throw error
          policy.onWait?.(wait, kind)
          await sleep(wait)
        }
      }
    }
    return { ...inner, request: request as typeof inner.request }
  }
}
