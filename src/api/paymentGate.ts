/**
 * The x402 side of the paid API, built from the SDK (never re-implemented): the requirements every
 * paid route asks (scheme `exact`, network `eip155:<chainId>`, the currency with the EIP-712 name and
 * version read from the token contract, the price, payTo = the IMO token), a resource server over a
 * facilitator (serve's own, settling through imo's journal, or `--facilitator URL`), and the HTTP
 * resource server that turns a request into "402", "verified" or "settled".
 *
 * A facilitator that cannot be reached (or whose chain RPC fails) becomes a FacilitatorResponseError,
 * which the server answers with 503; the SDK alone would answer 402 and blame the payment.
 */
import type { Address, Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import { UsageError } from '../errors.js'
import type { ImoFacilitatorSigner } from './facilitatorSigner.js'

/** The paid routes, one price for each (the most one call can cost: up to max_tokens for text). */
export const PAID_ROUTES = ['POST /v1/completions', 'POST /v1/chat/completions', 'POST /v1/images/generations'] as const

/** The currency a call is paid in, as read from its contract. */
export interface Currency {
  address: Address
  /** EIP-712 domain name and version of its EIP-3009 authorizations (`name()`, `version()`). */
  name: string
  version: string
  symbol: string
  decimals: number
}

export interface PaymentGateOptions {
  ctx: ChainContext
  /** The IMO token: every payment goes to it. */
  payTo: Address
  currency: Currency
  /** Price per call in the currency's base units. */
  amount: bigint
  /** External facilitator; default: serve's own over `signer`. */
  facilitatorUrl?: string
  /** serve's signer adapter (required without facilitatorUrl). */
  signer?: ImoFacilitatorSigner
  /** Seconds an authorization must stay valid: covers queueing, inference and settlement. */
  maxTimeoutSeconds?: number
}

/** What the server uses of the SDK. */
export interface PaymentGate {
  http: import('@x402/core/http').x402HTTPResourceServer
  network: `eip155:${number}`
  /** The requirements as the 402 carries them (for logs and `imo ask`). */
  requirements: { scheme: 'exact'; network: string; asset: Address; amount: string; payTo: Address }
}

const CURRENCY_ABI = [
  { type: 'function', name: 'name', stateMutability: 'view', inputs: [], outputs: [{ type: 'string' }] },
  { type: 'function', name: 'version', stateMutability: 'view', inputs: [], outputs: [{ type: 'string' }] },
  { type: 'function', name: 'symbol', stateMutability: 'view', inputs: [], outputs: [{ type: 'string' }] },
  { type: 'function', name: 'decimals', stateMutability: 'view', inputs: [], outputs: [{ type: 'uint8' }] },
] as const

/**
 * Reads a currency's EIP-712 name and version, symbol and decimals from its contract.
 * @throws UsageError when the address has no ERC-20 with EIP-3009's `version()` (x402's exact scheme needs it).
 * @example
 * const usdc = await readCurrency(ctx, '0x5FbD…0aa3') // { name: 'USD Coin', version: '2', symbol: 'USDC', decimals: 6, address }
 */
export async function readCurrency(ctx: ChainContext, address: Address): Promise<Currency> {
  const read = (functionName: 'name' | 'version' | 'symbol' | 'decimals') =>
    ctx.publicClient.readContract({ address, abi: CURRENCY_ABI, functionName })
  try {
    const [name, version, symbol, decimals] = await Promise.all([read('name'), read('version'), read('symbol'), read('decimals')])
    return { address, name: name as string, version: version as string, symbol: symbol as string, decimals: Number(decimals) }
  } catch {
    throw new UsageError(
      `--currency ${address} is not an EIP-3009 token on chain ${ctx.chainId} (no name/version/symbol/decimals): x402's exact scheme needs one, like USDC`,
    )
  }
}

/**
 * Builds the gate and asks the facilitator what it supports (the one facilitator call at start-up).
 * @throws UsageError when the facilitator does not support exact payments on this chain, or cannot be reached.
 * @example
 * const gate = await createPaymentGate({ ctx, payTo: token, currency, amount: 10_000n, signer })
 */
export async function createPaymentGate(options: PaymentGateOptions): Promise<PaymentGate> {
  const { x402ResourceServer } = await import('@x402/core/server')
  const { x402HTTPResourceServer, FacilitatorResponseError } = await import('@x402/core/http')
  const { ExactEvmScheme } = await import('@x402/evm/exact/server')
  const network = `eip155:${options.ctx.chainId}` as const
  type Client = import('@x402/core/http').FacilitatorClient
  let client: Client
  if (options.facilitatorUrl) {
    const { HTTPFacilitatorClient } = await import('@x402/core/http')
    client = new HTTPFacilitatorClient({ url: options.facilitatorUrl })
  } else {
    if (!options.signer) throw new Error("createPaymentGate needs serve's signer for its own facilitator")
    const { x402Facilitator } = await import('@x402/core/facilitator')
    const { registerExactEvmScheme } = await import('@x402/evm/exact/facilitator')
    const facilitator = new x402Facilitator()
    registerExactEvmScheme(facilitator, { signer: options.signer as never, networks: network })
    client = {
      verify: (payload, requirements) => facilitator.verify(payload, requirements),
      settle: (payload, requirements) => facilitator.settle(payload, requirements),
      getSupported: async () => facilitator.getSupported() as never,
    }
  }
  const signer = options.signer
  // Transport failures (the facilitator's, or its chain RPC's through our signer) are not the payer's fault: 503.
  const guarded =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const before = signer?.rpcFailures ?? 0
      let result: R
      try {
        result = await call(...args)
      } catch (error) {
        throw new FacilitatorResponseError(`facilitator unavailable: ${(error as Error)?.name ?? 'error'}`)
      }
      if ((signer?.rpcFailures ?? 0) > before) throw new FacilitatorResponseError('facilitator unavailable: the chain RPC failed')
      return result
    }
  const facilitatorClient: Client = {
    verify: guarded((payload, requirements) => client.verify(payload, requirements)),
    settle: guarded((payload, requirements) => client.settle(payload, requirements)),
    getSupported: () => client.getSupported(),
  }
  const resourceServer = new x402ResourceServer(facilitatorClient)
  resourceServer.register(network, new ExactEvmScheme())
  const accepts = {
    scheme: 'exact',
    network,
    payTo: options.payTo,
    price: {
      amount: options.amount.toString(),
      asset: options.currency.address,
      extra: { name: options.currency.name, version: options.currency.version },
    },
    maxTimeoutSeconds: options.maxTimeoutSeconds ?? 300,
  }
  const routes = Object.fromEntries(
    PAID_ROUTES.map((route) => [route, { accepts, description: 'a model call of imo serve', mimeType: 'application/json' }]),
  )
  const http = new x402HTTPResourceServer(resourceServer, routes as never)
  try {
    await http.initialize()
  } catch (error) {
    throw new UsageError(
      `the x402 facilitator ${options.facilitatorUrl ? `at ${options.facilitatorUrl} ` : ''}does not support exact payments on ${network}: ${(error as Error).message}`,
    )
  }
  return {
    http,
    network,
    requirements: {
      scheme: 'exact',
      network,
      asset: options.currency.address,
      amount: options.amount.toString(),
      payTo: options.payTo,
    },
  }
}

/** The EIP-3009 authorization inside an exact payment payload (undefined for other payloads). */
export interface PaidAuthorization {
  from: Address
  nonce: Hex
  /** Seconds since the epoch. */
  validBefore: number
}

/**
 * The authorization a payment header carries, decoded without trusting it (the facilitator verifies).
 * @example
 * authorizationOf(req.headers['payment-signature']) // { from: '0x…', nonce: '0x…', validBefore: 1765000000 }
 */
export async function authorizationOf(header: string): Promise<PaidAuthorization | undefined> {
  const { decodePaymentSignatureHeader } = await import('@x402/core/http')
  try {
    const payload = decodePaymentSignatureHeader(header) as { payload?: { authorization?: Record<string, unknown> } }
    const a = payload.payload?.authorization
    if (!a || typeof a.from !== 'string' || typeof a.nonce !== 'string') return undefined
    if (!/^0x[0-9a-fA-F]{40}$/.test(a.from) || !/^0x[0-9a-fA-F]{64}$/.test(a.nonce)) return undefined
    return { from: a.from as Address, nonce: a.nonce.toLowerCase() as Hex, validBefore: Number(a.validBefore ?? 0) }
  } catch {
    return undefined
  }
}
