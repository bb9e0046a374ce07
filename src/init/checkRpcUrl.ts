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
 * @throws UsageError for a malformed URL; RpcError (exit 6) when the node does not answer.
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
    throw new RpcError(`no answer from ${displayUrl(url)}`, { cause: error })
  }
  const chain = await describeChain(chainId, clientVersion)
  return { chainId, chainName: chain.name, local: chain.local }
}
