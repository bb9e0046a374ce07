/**
 * Connects to a chain from the shared rpc / signer / tx flags: viem clients (a fallback transport
 * over every comma-separated URL for reads, the first URL alone for sends and nonces), the chain id
 * read from the node (and checked against --chain-id), the chain's name and explorer from viem's
 * chain list when known, the signer and its journal. viem is loaded here, lazily.
 *
 * RPC URL precedence: --rpc-url > IMO_RPC_URL > ETH_RPC_URL > imo.config.json (.env fills the variables; all arrive in
 * values.rpcUrl through commander and src/cli/settings.ts) > a running `imo devnet`
 * (.imo/devnet.json, process alive and answering) > error (exit 2).
 */
import type { LocalAccount, PublicClient } from 'viem'
import { RpcError, UsageError } from '../errors.js'
import type { SignerOptionValues } from '../signer/resolveSigner.js'
import { registerUrlSecrets } from '../util/redact.js'
import type { Journal } from './journal.js'
import type { TxOptionValues, TxSettings } from './txSettings.js'

/** The rpc flags, with the signer and tx flags each declared once beside their parser. */
export interface ChainOptionValues extends SignerOptionValues, TxOptionValues {
  rpcUrl?: string
  chainId?: string
  deployment?: string
}

export interface ChainContext {
  /** Reads (fallback across every configured URL). */
  publicClient: PublicClient
  /** The first URL only: nonces, broadcasts, receipts of our sends. */
  sendClient: PublicClient
  chainId: number
  /** e.g. 'Sepolia', 'Anvil (local)', 'Hardhat Network (local)', or 'chain 12345' when viem does not know it. */
  chainName: string
  /** A local development node (anvil, Hardhat, Ganache by their client version): local defaults apply. */
  local: boolean
  /** e.g. 'https://sepolia.etherscan.io' (no trailing slash), when known. */
  explorerUrl?: string
  /** Native currency symbol ('ETH' when unknown). */
  nativeSymbol: string
  /** The first RPC URL (the one sends use). Print it with displayUrl(). */
  rpcUrl: string
  /** Every configured URL. */
  rpcUrls: string[]
  /** True when the URL came from a running `imo devnet`. */
  fromDevnet: boolean
  /** The signer, when connectChain was asked for one. */
  account?: LocalAccount
  tx: TxSettings
  /** The signer's journal, when there is a signer. */
  journal?: Journal
}

/** Development nodes, recognised by their `web3_clientVersion` (e.g. 'anvil/v1.7.1', 'HardhatNetwork/2.22.0/@ethereumjs/vm/…'). */
const LOCAL_CLIENTS: Array<{ pattern: RegExp; name: string }> = [
  { pattern: /^anvil\//i, name: 'Anvil' },
  { pattern: /^hardhat/i, name: 'Hardhat Network' },
  { pattern: /^ganache/i, name: 'Ganache' },
  { pattern: /^ethereumjs testrpc/i, name: 'Ganache' },
]

/**
 * Whether a node is a local development node, and its name, from its `web3_clientVersion`.
 * @param clientVersion - what the node answered (undefined when it did not).
 * @returns the client's name when it is a known development node.
 * @example
 * localNodeName('anvil/v1.7.1') // 'Anvil'
 * localNodeName('Geth/v1.14.0-stable/linux-amd64/go1.22.1') // undefined
 */
export function localNodeName(clientVersion: string | undefined): string | undefined {
  if (!clientVersion) return undefined
  return LOCAL_CLIENTS.find((client) => client.pattern.test(clientVersion.trim()))?.name
}

/**
 * Chain name, explorer and native symbol for a chain id, from viem's chain list (loaded only here);
 * a local development node (by its client version) is named after its client.
 * @param chainId - the id read from the node.
 * @param clientVersion - the node's `web3_clientVersion`, when known.
 * @returns name ('chain <id>' when unknown), explorer URL, symbol, and whether it is a local development node.
 * @example
 * await describeChain(11155111) // { name: 'Sepolia', explorerUrl: 'https://sepolia.etherscan.io', nativeSymbol: 'ETH', local: false }
 * await describeChain(31337, 'HardhatNetwork/2.22.0') // { name: 'Hardhat Network (local)', nativeSymbol: 'ETH', local: true }
 */
export async function describeChain(
  chainId: number,
  clientVersion?: string,
): Promise<{ name: string; explorerUrl?: string; nativeSymbol: string; local: boolean }> {
  const client = localNodeName(clientVersion)
  if (client)
    return { name: `${client} (local${chainId === 31337 ? '' : `, chain ${chainId}`})`, nativeSymbol: 'ETH', local: true }
  // Without a client version, the conventional development chain ids still count as local.
  if (clientVersion === undefined && (chainId === 31337 || chainId === 1337))
    return { name: 'local dev chain', nativeSymbol: 'ETH', local: true }
  const chains = (await import('viem/chains')) as unknown as Record<
    string,
    { id?: number; name?: string; blockExplorers?: { default?: { url?: string } }; nativeCurrency?: { symbol?: string } }
  >
  const known = Object.values(chains).find((chain) => chain && typeof chain === 'object' && chain.id === chainId)
  if (!known || chainId === 31337 || chainId === 1337) return { name: `chain ${chainId}`, nativeSymbol: 'ETH', local: false }
  const explorer = known.blockExplorers?.default?.url?.replace(/\/+$/, '')
  return {
    name: known.name ?? `chain ${chainId}`,
    ...(explorer ? { explorerUrl: explorer } : {}),
    nativeSymbol: known.nativeCurrency?.symbol ?? 'ETH',
    local: false,
  }
}

/**
 * The node's `web3_clientVersion`, or undefined when it does not answer it (some providers refuse it).
 * @example
 * await readClientVersion(ctx.publicClient) // 'anvil/v1.7.1'
 */
export async function readClientVersion(client: Pick<PublicClient, 'request'>): Promise<string | undefined> {
  try {
    const version = await client.request({ method: 'web3_clientVersion' } as never)
    return typeof version === 'string' ? version : undefined
  } catch {
    return undefined
  }
}

/**
 * Explorer link for an address or transaction, when the chain has a known explorer.
 * @example
 * explorerLink(ctx, 'address', '0x…') // 'https://sepolia.etherscan.io/address/0x…'
 */
export function explorerLink(ctx: Pick<ChainContext, 'explorerUrl'>, kind: 'address' | 'tx', value: string): string | undefined {
  return ctx.explorerUrl ? `${ctx.explorerUrl}/${kind}/${value}` : undefined
}

function splitUrls(text: string): string[] {
  const urls = text
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean)
  for (const url of urls) {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new UsageError('--rpc-url must be an http(s) or ws(s) URL (comma-separated for read fallbacks)')
    }
    if (!/^(https?|wss?):$/.test(parsed.protocol))
      throw new UsageError('--rpc-url must be an http(s) or ws(s) URL (comma-separated for read fallbacks)')
  }
  return urls
}

/**
 * Connects to the chain the flags name, optionally with a signer and its journal.
 * @param values - the rpc, signer and tx option values (commander opts()).
 * @param need - whether a signer is needed (sending commands).
 * @param sources - commander's getOptionValueSource, to warn about a key typed on the command line.
 * @returns the chain context every chain command uses.
 * @throws UsageError (2) without an RPC URL or signer; RpcError (6) unreachable or wrong chain.
 * @example
 * import { connectChain } from './connect.js'
 * const ctx = await connectChain(command.opts(), { signer: true }, (key) => command.getOptionValueSource(key))
 * ctx.chainId // 31337
 */
export async function connectChain(
  values: ChainOptionValues,
  need: { signer: boolean },
  sources?: (key: string) => string | undefined,
): Promise<ChainContext> {
  const { parseTxSettings } = await import('./txSettings.js')
  const tx = parseTxSettings(values)
  let fromDevnet = false
  let urlText = values.rpcUrl
  if (!urlText) {
    const { readDevnetFile } = await import('../devnet/devnetFile.js')
    const devnet = readDevnetFile()
    if (devnet) {
      urlText = devnet.rpcUrl
      fromDevnet = true
    }
  }
  if (!urlText)
    throw new UsageError('no RPC URL: pass --rpc-url, set IMO_RPC_URL, or start `imo devnet`', {
      hint: 'for a local chain: run `imo devnet` in another terminal',
    })
  const urls = splitUrls(urlText)
  if (urls.length === 0) throw new UsageError('--rpc-url is empty')
  for (const url of urls) registerUrlSecrets(url)
  const rpcUrl = urls[0]!
  const [{ createPublicClient, fallback, webSocket }, { httpTransport }, { withBackoff }] = await Promise.all([
    import('viem'),
    import('./httpTransport.js'),
    import('./withBackoff.js'),
  ])
  const { displayUrl, toImoError } = await import('./toImoError.js')
  // Rate limits and server errors are waited out for up to --timeout per request (withBackoff.ts), said once.
  let said = false
  const backoff = {
    budgetMs: tx.timeoutMs,
    onWait: (waitMs: number, kind: 'rate-limit' | 'server') => {
      if (said || waitMs < 1000) return
      said = true
      void import('../cli/ui.js').then(({ note }) =>
        note(
          `the RPC at ${displayUrl(rpcUrl)} is ${kind === 'rate-limit' ? 'rate-limiting requests' : 'answering with server errors'}: waiting and retrying (up to ${Math.round(tx.timeoutMs / 1000)} s a request, --timeout)`,
        ),
      )
    },
  }
  const transportFor = (url: string) =>
    url.startsWith('ws') ? webSocket(url) : httpTransport(url, { timeout: 15_000, retryCount: 0 })
  const sendClient = createPublicClient({ transport: withBackoff(transportFor(rpcUrl), backoff) }) as PublicClient
  const publicClient =
    urls.length === 1
      ? sendClient
      : (createPublicClient({
          transport: withBackoff(fallback(urls.map(transportFor), { retryCount: 0 }), backoff),
        }) as PublicClient)
  let chainId: number
  let clientVersion: string | undefined
  try {
    // Sending needs the first URL; a read-only command is content with any of them (fallback).
    const node = need.signer ? sendClient : publicClient
    ;[chainId, clientVersion] = await Promise.all([node.getChainId(), readClientVersion(node)])
  } catch (error) {
    const converted = toImoError(error, { rpcUrl })
    if (fromDevnet && converted instanceof RpcError)
      throw new RpcError(`the devnet in .imo/devnet.json (${displayUrl(rpcUrl)}) does not answer`, {
        cause: error,
        hint: 'restart `imo devnet`, or pass --rpc-url',
      })
    if (need.signer && urls.length > 1 && converted instanceof RpcError)
      throw new RpcError(converted.shortMessage, {
        cause: error,
        hint: 'transactions and nonces use the first --rpc-url only (the others are read fallbacks); put a reachable node first',
      })
    throw converted
  }
  if (values.chainId !== undefined) {
    if (!/^\d+$/.test(values.chainId.trim())) throw new UsageError(`--chain-id must be a whole number, not "${values.chainId}"`)
    if (Number(values.chainId) !== chainId)
      throw new RpcError(
        `wrong chain: the node at ${displayUrl(rpcUrl)} serves chain ${chainId}, not ${values.chainId} (--chain-id)`,
      )
  }
  const info = await describeChain(chainId, clientVersion)
  if (tx.pollingIntervalMs === 1000 && info.local) tx.pollingIntervalMs = 100
  const ctx: ChainContext = {
    publicClient,
    sendClient,
    chainId,
    chainName: info.name,
    local: info.local,
    nativeSymbol: info.nativeSymbol,
    rpcUrl,
    rpcUrls: urls,
    fromDevnet,
    tx,
    ...(info.explorerUrl ? { explorerUrl: info.explorerUrl } : {}),
  }
  if (need.signer) {
    const { resolveSigner } = await import('../signer/resolveSigner.js')
    const { isInteractive, note, warn } = await import('../cli/ui.js')
    // On a running `imo devnet`, the first dev account (public well-known key) is the default signer.
    let devAccount: LocalAccount | undefined
    if (fromDevnet && chainId === 31337) {
      const { privateKeyToAccount } = await import('viem/accounts')
      const { ANVIL_DEV_ACCOUNTS } = await import('../devnet/startAnvil.js')
      devAccount = privateKeyToAccount(ANVIL_DEV_ACCOUNTS[0].privateKey)
    }
    const { account, source } = await resolveSigner(values, {
      ...(sources ? { sources } : {}),
      warn,
      interactive: isInteractive(),
      fallback: () => devAccount,
    })
    if (source === 'fallback') note(`using the devnet's first development account ${account.address} (no signer configured)`)
    ctx.account = account
    if (!tx.dryRun) {
      const { openJournal } = await import('./openJournal.js')
      ctx.journal = openJournal(chainId, account.address, { confirmations: tx.confirmations })
    }
  }
  return ctx
}
