/**
 * The one boundary where errors from viem and the node become imo's typed errors with exit codes:
 * unreachable RPC, a rate limit (HTTP 429, JSON-RPC -32005) or a server error (HTTP 5xx) -> RpcError
 * (6, names the URL), insufficient funds -> 8, nonce too low / replacement underpriced -> 7. ImoErrors
 * pass through unchanged. rpcFailureKind() is the same classification for the transport, which waits
 * out rate limits and server errors before anything gets here (src/chain/withBackoff.ts).
 */
import { ExitCode, ImoError, InsufficientFundsError, NonceConflictError, RpcError, UsageError } from '../errors.js'

/**
 * An RPC URL safe to print or record: scheme, host and port only. User names, passwords, paths and
 * query strings are dropped, since providers put API keys in any of them (`/v3/KEY`, `?apikey=`).
 * @param url - the URL as configured.
 * @returns e.g. 'https://eth-mainnet.g.alchemy.com' or 'http://127.0.0.1:8545'.
 * @example
 * displayUrl('https://user:pw@host:8545/v2/KEY?key=1') // 'https://host:8545'
 */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.host}`
  } catch {
    return '(invalid URL)'
  }
}

function chain(error: unknown): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = []
  let current: unknown = error
  for (let i = 0; current && i < 20; i++) {
    out.push(current as Record<string, unknown>)
    current = (current as { cause?: unknown }).cause
  }
  return out
}

function text(error: unknown): string {
  return chain(error)
    .map((e) => `${String(e.name ?? '')} ${String(e.shortMessage ?? '')} ${String(e.details ?? '')} ${String(e.message ?? '')}`)
    .join(' | ')
}

/** A provider's "too many results" or "block range too large" answer: sent as -32005 too, but waiting does not help. */
const QUERY_TOO_LARGE =
  /more than \d+ results|block range|range (is )?too (large|wide)|query returned more|too many (blocks|logs)/i
const RATE_LIMITED =
  /rate.?limit|too many requests|request limit|limit exceeded|exceeded (its|the|your) .*(capacity|quota|limit)/i

/**
 * How an RPC failure is to be treated: 'rate-limit' (HTTP 429, JSON-RPC -32005 / 429 / -32007, or a
 * provider's words for it) and 'server' (HTTP 5xx) are waited out; 'retry' (the node unreachable or
 * timing out, a JSON-RPC internal or unknown error, HTTP 403/408/413, as viem retries them) is tried
 * again at once, twice; anything else (a revert, a refusal) is an answer.
 * @example
 * rpcFailureKind(new HttpRequestError({ status: 429, url })) // 'rate-limit'
 */
export function rpcFailureKind(error: unknown): 'rate-limit' | 'server' | 'retry' | undefined {
  const links = chain(error)
  const all = text(error)
  const status = links.find((e) => typeof e.status === 'number')?.status as number | undefined
  const codes = links.map((e) => e.code).filter((code): code is number => typeof code === 'number')
  // A revert is an answer, whatever its reason says ("limit exceeded" may be a contract's own words).
  if (links.some((e) => e.name === 'AbortError') || codes.includes(3) || /revert/i.test(all)) return undefined
  if (status === 429 || codes.some((code) => code === 429 || code === -32007)) return 'rate-limit'
  if (codes.includes(-32005) || RATE_LIMITED.test(all)) return QUERY_TOO_LARGE.test(all) ? undefined : 'rate-limit'
  if (status !== undefined && status >= 500 && status <= 599) return 'server'
  if (status === 403 || status === 408 || status === 413) return 'retry'
  if (codes.includes(-32603) || codes.includes(-1)) return 'retry'
  return isConnectionError(error) ? 'retry' : undefined
}

/** True when the error means the node could not be reached or answered badly at the HTTP level. */
export function isConnectionError(error: unknown): boolean {
  const names = chain(error).map((e) => String(e.name ?? ''))
  if (names.some((name) => name === 'HttpRequestError' || name === 'TimeoutError' || name === 'WebSocketRequestError'))
    return true
  return /ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|fetch failed|socket hang up|network error/i.test(text(error))
}

export interface ToImoErrorContext {
  rpcUrl?: string
  /** What was being done, e.g. 'sending "deploy ImoToken"'. */
  action?: string
}

/**
 * Converts any error thrown by viem or the node into an ImoError with the right exit code.
 * @param error - anything caught.
 * @param context - the RPC URL (printed without credentials) and the action.
 * @returns an ImoError (the same one when it already is).
 * @example
 * try { await client.getChainId() } catch (e) { throw toImoError(e, { rpcUrl }) }
 */
export function toImoError(error: unknown, context: ToImoErrorContext = {}): ImoError {
  if (error instanceof ImoError) return error
  const all = text(error)
  // Without the caller's URL (an error that reached the CLI's boundary unconverted), viem's error names it.
  const named =
    context.rpcUrl?.split(',')[0]?.trim() ?? (chain(error).find((e) => typeof e.url === 'string')?.url as string | undefined)
  const url = named ? displayUrl(named) : 'the RPC'
  const during = context.action ? ` while ${context.action}` : ''
  if (/insufficient funds|InsufficientFundsError|exceeds the balance/i.test(all))
    return new InsufficientFundsError(`insufficient funds${during}: the signer cannot pay for value + gas`, {
      cause: error,
      hint: 'fund the signer address, or lower --max-fee-per-gas',
    })
  if (
    /nonce too low|NonceTooLowError|replacement transaction underpriced|already imported|nonce has already been used/i.test(all)
  )
    return new NonceConflictError(
      `nonce conflict${during}: another transaction from this signer used the nonce (or replaced ours)`,
      { cause: error, hint: 'check the signer for other pending transactions, then re-run' },
    )
  // A WebSocket upgrade the server refused (the `ws` client's words): a 4xx means no WebSocket endpoint there.
  const upgrade = /Unexpected server response: (\d{3})/.exec(all)
  if (upgrade && Number(upgrade[1]) < 500)
    return new UsageError(
      `the RPC URL ${url} (path left out) is not a WebSocket endpoint: the server answered HTTP ${upgrade[1]} to the upgrade${during}`,
      { cause: error, hint: "check the URL's path, or pass the node's http(s) URL" },
    )
  const kind = rpcFailureKind(error)
  if (kind === 'rate-limit')
    return new RpcError(`the RPC at ${url} is rate-limiting imo's requests${during}, and went on after imo waited`, {
      cause: error,
      hint: 're-run later (a journalled step resumes where it stopped), or use an RPC plan or provider with a higher limit; --timeout sets how long imo waits',
    })
  if (kind === 'server' || upgrade || isConnectionError(error)) {
    const status = chain(error).find((e) => typeof e.status === 'number')?.status ?? upgrade?.[1]
    return new RpcError(`cannot reach the RPC at ${url}${status ? ` (HTTP ${status})` : ''}${during}`, {
      cause: error,
      hint: 'check --rpc-url / IMO_RPC_URL and that the node is running',
    })
  }
  const short = chain(error).find((e) => typeof e.shortMessage === 'string')?.shortMessage as string | undefined
  const message = (short ?? (error as Error)?.message ?? String(error)).split('\n')[0]!
  return new ImoError(`the node rejected the request${during}: ${message}`, {
    cause: error,
    exitCode: ExitCode.Internal,
    details: (error as Error)?.message,
  })
}
