/**
 * Tests an RPC URL the way `imo init` does before saving it: asks the node for its chain id and
 * names the chain. viem is loaded here, lazily.
 */
import { RpcError, UsageError } from '../errors.js'

export interface RpcCheck {
  chainId: number
  chainName: string
  /** A local development node (anvil, Hardhat, Ganache), by its client version. */
  local: boolean
}

/**
 * Connects to an RPC URL and reads its chain id.
 * @param url - an http(s) or ws(s) URL.
 * @param timeoutMs - how long to wait for an answer (default 8 s).
 * @returns the chain id and the chain's name ('chain <id>' when viem does not know it).
 * @throws UsageError for a malformed URL; RpcError (exit 6) when the node does not answer, naming
 *   what happened (an HTTP status such as 404, a timeout, a refused connection).
 * @example
 * import { checkRpcUrl } from './checkRpcUrl.js'
 * await checkRpcUrl('http://127.0.0.1:8545') // { chainId: 31337, chainName: 'Anvil (local)', local: true }
 */
export async function checkRpcUrl(url: string, timeoutMs = 8000): Promise<RpcCheck> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new UsageError('the RPC URL must be an http(s) or ws(s) URL')
  }
  if (!/^(https?|wss?):$/.test(parsed.protocol)) throw new UsageError('the RPC URL must be an http(s) or ws(s) URL')
  const { createPublicClient, webSocket } = await import('viem')
  const { httpTransport } = await import('../chain/httpTransport.js')
  const { displayUrl } = await import('../chain/toImoError.js')
  const { registerUrlSecrets } = await import('../util/redact.js')
  registerUrlSecrets(url)
  const { describeChain, readClientVersion } = await import('../chain/connect.js')
  const transport = url.startsWith('ws')
    ? webSocket(url, { timeout: timeoutMs })
    : httpTransport(url, { timeout: timeoutMs, retryCount: 0 })
  const client = createPublicClient({ transport })
  let chainId: number
  let clientVersion: string | undefined
  try {
    ;[chainId, clientVersion] = await Promise.all([client.getChainId(), readClientVersion(client)])
  } catch (error) {
    throw describeFailure(error, displayUrl(url), timeoutMs)
  }
  const chain = await describeChain(chainId, clientVersion)
  return { chainId, chainName: chain.name, local: chain.local }
}

/**
 * What went wrong, in words: an HTTP status is an answer (a 404 means a wrong path, a 401/403 a key
 * the provider refused), not "no answer"; a timeout and a refused connection are.
 */
function describeFailure(error: unknown, shown: string, timeoutMs: number): RpcError {
  const chain: Array<{ name?: string; status?: number; code?: string; message?: string }> = []
  for (let at: unknown = error; at && chain.length < 16; at = (at as { cause?: unknown }).cause) chain.push(at as never)
  const status = chain.find((e) => typeof e.status === 'number')?.status
  if (status !== undefined) {
    const why =
      status === 404
        ? 'not found: check the path of the URL'
        : status === 401 || status === 403
          ? 'refused: check the API key in the URL'
          : status === 429
            ? 'rate limited: try again, or another provider'
            : 'not a JSON-RPC answer'
    return new RpcError(`${shown} answered HTTP ${status} (${why})`, { cause: error })
  }
  if (chain.some((e) => e.name === 'TimeoutError'))
    return new RpcError(`no answer from ${shown} within ${Math.round(timeoutMs / 1000)} s`, { cause: error })
  if (chain.some((e) => e.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(e.message ?? '')))
    return new RpcError(`cannot reach ${shown}: connection refused`, { cause: error })
  return new RpcError(`${shown} did not answer as a JSON-RPC node: ${(chain.at(-1)?.message ?? 'no answer').split('\n')[0]}`, {
    cause: error,
  })
}
