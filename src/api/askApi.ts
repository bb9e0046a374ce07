/**
 * `imo ask PROMPT --api URL`: one paid call of an `imo serve --http` API (or any x402 API with the same
 * endpoints). It asks the price first (an unpaid call answers 402 with the requirements), refuses a
 * price above --max-price BEFORE anything is signed, then pays with @x402/fetch (an EIP-3009
 * authorization signed by the usual imo signer; no transaction is sent by the client), checks the
 * answer's attestation (signature, and the attester on chain), and saves the answer as JSON for
 * `imo verify`.
 */
import { join } from 'node:path'
import type { Address, Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import { ImoError, UsageError, VerificationFailedError } from '../errors.js'
import { writeFileAtomic } from '../util/writeFileAtomic.js'
import type { ApiResponseProof } from './apiResponses.js'

export interface AskOptions {
  api: string
  prompt: string
  /** The most one call may cost, in the currency's units (default 1). */
  maxPrice?: string
  maxTokens?: number
  /** Folder for the saved answer (default `answers`). */
  outDir?: string
}

export interface AskResult {
  text?: string
  image?: string
  /** The saved answer (for `imo verify`). */
  file: string
  /** The price paid, in the currency's smallest unit. */
  paidWei: bigint
  currency: { address: Address; symbol: string; decimals: number }
  /** The settlement transaction (sent by the API's facilitator). */
  txHash: Hex
  payer: Address
  commitment: Hex
  attester: Address
}

/**
 * Asks, pays and saves.
 * @param ctx - the chain (decimals of the currency, the attester check) with the payer's signer.
 * @throws UsageError (2) for a price above --max-price, an API that is not x402 on this chain;
 *   VerificationFailedError (9) for an answer whose attestation does not hold.
 * @example
 * const result = await askApi(ctx, { api: 'http://127.0.0.1:8402', prompt: 'Once', maxPrice: '0.01' })
 */
export async function askApi(ctx: ChainContext, options: AskOptions): Promise<AskResult> {
  const account = ctx.account
  if (!account) throw new ImoError('imo ask needs a signer')
  const base = options.api.replace(/\/+$/, '')
  const models = (await getJson(`${base}/v1/models`)) as { data?: Array<{ id: string; imo?: { kind?: string } }> }
  const model = models.data?.[0]
  if (!model) throw new UsageError(`${base}/v1/models lists no model`)
  const image = model.imo?.kind === 'image'
  const path = image ? '/v1/images/generations' : '/v1/completions'
  const body = JSON.stringify(
    image
      ? { model: model.id, prompt: options.prompt, response_format: 'b64_json' }
      : { model: model.id, prompt: options.prompt, ...(options.maxTokens ? { max_tokens: options.maxTokens } : {}) },
  )
  const { decodePaymentRequiredHeader, decodePaymentResponseHeader } = await import('@x402/core/http')
  const unpaid = await call(`${base}${path}`, body, fetch)
  if (unpaid.status !== 402)
    throw new UsageError(`${base}${path} answered ${unpaid.status} to an unpaid call: ${(await unpaid.text()).slice(0, 200)}`)
  const header = unpaid.headers.get('payment-required')
  if (!header) throw new UsageError(`${base} answered 402 without a PAYMENT-REQUIRED header: not an x402 API`)
  const network = `eip155:${ctx.chainId}`
  const accepts = decodePaymentRequiredHeader(header).accepts.find((a) => a.scheme === 'exact' && a.network === network)
  if (!accepts) throw new UsageError(`${base} takes no exact payment on ${network} (the chain imo is connected to)`)
  const asset = accepts.asset as Address
  const { readCurrency } = await import('./paymentGate.js')
  const currency = await readCurrency(ctx, asset)
  const { parseAmount } = await import('../chain/format.js')
  const { formatUnits } = await import('viem')
  const max = parseAmount(options.maxPrice ?? '1', { name: '--max-price', decimals: currency.decimals, allowZero: true })
  const price = BigInt(accepts.amount)
  if (price > max)
    throw new UsageError(
      `the API asks ${formatUnits(price, currency.decimals)} ${currency.symbol} per call, above --max-price ${formatUnits(max, currency.decimals)}: nothing was signed`,
    )
  const { wrapFetchWithPaymentFromConfig } = await import('@x402/fetch')
  const { ExactEvmScheme } = await import('@x402/evm/exact/client')
  const payFetch = wrapFetchWithPaymentFromConfig(fetch, {
    schemes: [{ network: network as `${string}:${string}`, client: new ExactEvmScheme(account) }],
    spendControls: { allowedAssets: [{ network: network as `${string}:${string}`, asset, maxAmountPerPayment: max.toString() }] },
  })
  const paid = await call(`${base}${path}`, body, payFetch)
  const text = await paid.text()
  if (paid.status !== 200) throw new UsageError(`the paid call failed with ${paid.status}: ${text.slice(0, 300)}`)
  const settlement = decodePaymentResponseHeader(paid.headers.get('payment-response') ?? '')
  const doc = JSON.parse(text) as Record<string, unknown> & { imo?: ApiResponseProof }
  const proof = doc.imo
  if (!proof?.attestation) throw new VerificationFailedError('the answer carries no imo attestation')
  await checkAnswer(ctx, proof, account.address)
  const outDir = options.outDir ?? 'answers'
  const file = join(outDir, `${proof.record.commitment.slice(2, 14)}-response.json`)
  writeFileAtomic(file, `${JSON.stringify(doc, null, 2)}\n`)
  let imageFile: string | undefined
  if (image) {
    imageFile = join(outDir, `${proof.record.commitment.slice(2, 14)}.png`)
    writeFileAtomic(imageFile, Buffer.from((doc.data as Array<{ b64_json: string }>)[0]!.b64_json, 'base64'))
  }
  const choice = (doc.choices as Array<{ text?: string }> | undefined)?.[0]
  return {
    ...(choice?.text !== undefined ? { text: choice.text } : {}),
    ...(imageFile ? { image: imageFile } : {}),
    file,
    paidWei: price,
    currency: { address: asset, symbol: currency.symbol, decimals: currency.decimals },
    txHash: settlement.transaction as Hex,
    payer: (settlement.payer ?? account.address) as Address,
    commitment: proof.record.commitment as Hex,
    attester: proof.attester,
  }
}

/** The attestation names this payer, is signed by its attester, and the attester is the collection's. */
async function checkAnswer(ctx: ChainContext, proof: ApiResponseProof, payer: Address): Promise<void> {
  const { isAddressEqual } = await import('viem')
  const { recoverApiResponseSigner } = await import('./attestResponse.js')
  if (!isAddressEqual(proof.attestation.payer, payer))
    throw new VerificationFailedError(`the answer is attested to the payer ${proof.attestation.payer}, not to ${payer}`)
  const signer = await recoverApiResponseSigner(proof.attestation, proof.signature)
  if (!signer || !isAddressEqual(signer, proof.attester))
    throw new VerificationFailedError("the answer's attestation signature does not match its attester")
  const { readCollection } = await import('../verify/checkAttestation.js')
  const read = await readCollection<boolean>({ collection: proof.attestation.collection, ctx }, 'isAttester', [proof.attester])
  if ('failed' in read || !read.value)
    throw new VerificationFailedError(`${proof.attester} is not an attester of the collection ${proof.attestation.collection}`)
}

async function call(url: string, body: string, fetcher: typeof fetch): Promise<Response> {
  try {
    return await fetcher(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  } catch (error) {
    throw new UsageError(`cannot reach ${url}: ${(error as Error).message}`)
  }
}

async function getJson(url: string): Promise<unknown> {
  let res: Response
  try {
    res = await fetch(url)
  } catch (error) {
    throw new UsageError(`cannot reach ${url}: ${(error as Error).message}`)
  }
  if (!res.ok) throw new UsageError(`${url} answered ${res.status}`)
  return res.json()
}
