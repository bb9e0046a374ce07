/**
 * The one boundary where errors from viem and the node become imo's typed errors with exit codes:
 * unreachable RPC -> RpcError (6, names the URL), insufficient funds -> 8, nonce too low /
 * replacement underpriced -> 7. ImoErrors pass through unchanged.
 */
import { ExitCode, ImoError, InsufficientFundsError, NonceConflictError, RpcError } from '../errors.js'

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
  const url = context.rpcUrl ? displayUrl(context.rpcUrl.split(',')[0]!.trim()) : 'the RPC'
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
  if (isConnectionError(error)) {
    const status = chain(error).find((e) => typeof e.status === 'number')?.status
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
