import { basename } from 'node:path'
import type { Address, Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import type { Deployment } from '../deployment/deploymentFile.js'
import type { InferenceResult } from '../inference/assembleInference.js'
import type { ServeStages } from '../serve/serveStages.js'
import { DEFAULT_LIMITS } from './apiRequests.js'
import type { ApiEvent, ApiInference, PaidApi } from './startPaidApi.js'

export interface HttpApiOptions {
  port: number
  host?: string
  /** Price per call as typed (`0.01`), in the currency's units. */
  price: string
  /** The currency: its address, or its symbol among the token's revenue currencies. */
  currency: string
  facilitatorUrl?: string
  /** The model (its hash must be the deployment's). */
  modelPath: string
  /** serve's infer and check stages (its model runs, in-process or on --queue workers) and its metrics registry. */
  stages: ServeStages
  /** serve's `--queue` URL: the authorization claims are kept in its Redis, shared by every serve process on it. */
  claimsQueue?: string
  log(event: ApiEvent): void
}

/**
 * Starts the paid API.
 * @throws UsageError for a bad price or currency, a model that is not the collection's, a taken port,
 *   a facilitator that does not support the chain.
 * @example
 * const api = await startHttpApi(ctx, deployment, { port: 8402, price: '0.01', currency: usdc, modelPath: 'models/tinylm', log })
 * api.url // 'http://127.0.0.1:8402'
 */
export async function startHttpApi(ctx: ChainContext, deployment: Deployment, options: HttpApiOptions): Promise<PaidApi> {
  const { UsageError, ImoError } = await import('../errors.js')
  const { getAddress } = await import('viem')
  const account = ctx.account
  if (!account) throw new ImoError('the paid API needs a signer')
  const { loadModel } = await import('../inference/loadModel.js')
  const model = await loadModel(options.modelPath)
  if (model.modelHash.toLowerCase() !== deployment.modelHash.toLowerCase())
    throw new UsageError(
      `the model ${options.modelPath} hashes to ${model.modelHash}, but the collection is bound to ${deployment.modelHash}`,
    )
  const { loadCausalLm } = await import('../generate/loadCausalLm.js')
  const lm = await loadCausalLm(model)
  if (!lm && !model.pipelinePath)
    throw new UsageError(`the model ${options.modelPath} has no pipeline: the HTTP API serves text and image models`)
  const { readCurrency, createPaymentGate } = await import('./paymentGate.js')
  const { parseAmount } = await import('../chain/format.js')
  const token = getAddress(deployment.imoToken.address) as Address
  const currency = await readCurrency(ctx, await currencyAddress(ctx, token, options.currency))
  const amount = parseAmount(options.price, { name: '--price', decimals: currency.decimals })
  const { createApiMetrics } = await import('./apiMetrics.js')
  const registry = options.stages.metrics.registry
  const metrics = await createApiMetrics(registry)
  const { createFacilitatorSigner } = await import('./facilitatorSigner.js')
  const signer = options.facilitatorUrl
    ? undefined
    : createFacilitatorSigner(ctx, {
        onSettled: (gas, fee) => {
          metrics.settleGas.inc(Number(gas))
          metrics.settleFeeWei.inc(Number(fee))
        },
      })
  const gate = await createPaymentGate({
    ctx,
    payTo: token,
    currency,
    amount,
    ...(options.facilitatorUrl ? { facilitatorUrl: options.facilitatorUrl } : {}),
    ...(signer ? { signer } : {}),
  })
  const { createAuthorizationClaims } = await import('./authorizationClaims.js')
  const { signApiResponse } = await import('./attestResponse.js')
  const { API_RESPONSE_FORMAT, publicRecord } = await import('./apiResponses.js')
  const collection = getAddress(deployment.aigcCollection.address) as Address
  const { startPaidApi } = await import('./startPaidApi.js')
  const chatTemplate = lm ? await (await import('./chatTemplate.js')).loadChatTemplate(model.absolutePath) : undefined
  const api = await startPaidApi({
    host: options.host ?? '127.0.0.1',
    port: options.port,
    modelName: basename(model.absolutePath).replace(/\.onnx$/, ''),
    modelHash: model.modelHash,
    kind: lm ? 'causal-lm' : 'image',
    ...(chatTemplate ? { chatTemplate } : {}),
    limits: { ...DEFAULT_LIMITS, ...(lm?.contextSize ? { contextTokens: lm.contextSize } : {}) },
    infer: stagesInference(options.stages),
    gate,
    claims: createAuthorizationClaims(
      ctx,
      currency.address,
      options.claimsQueue ? await (await import('./redisClaimStore.js')).redisClaimStore(options.claimsQueue) : undefined,
    ),
    async attest(result: InferenceResult, payer: Address) {
      const attestation = {
        chainId: ctx.chainId,
        collection,
        modelHash: result.record.modelHash as Hex,
        promptHash: result.record.promptHash as Hex,
        aigcDataHash: result.record.aigcDataHash as Hex,
        commitment: result.record.commitment as Hex,
        payer: getAddress(payer) as Address,
      }
      return {
        format: API_RESPONSE_FORMAT,
        record: publicRecord(result.record),
        attestation,
        attester: account.address,
        signature: await signApiResponse(account, attestation),
      }
    },
    metrics,
    registry,
    log: options.log,
  })
  options.log({
    event: 'api',
    message: `paid API on ${api.url}: ${options.price} ${currency.symbol} per call to the token ${token} (${gate.network}, facilitator: ${options.facilitatorUrl ? 'external' : 'this serve'})`,
    url: api.url,
  })
  return api
}

/**
 * `--currency`: an address as given, or a symbol resolved against the token's revenue currencies
 * (resolveCurrency, as `imo revenue deposit --currency`).
 * @throws UsageError for a symbol the token does not list, lists twice, or the native currency.
 * @example
 * await currencyAddress(ctx, token, 'USDC') // '0x5FbD…0aa3'
 */
async function currencyAddress(ctx: ChainContext, token: Address, currency: string): Promise<Address> {
  const { getAddress } = await import('viem')
  if (currency.startsWith('0x')) return getAddress(currency)
  const { resolveCurrency } = await import('../revenue/resolveCurrency.js')
  const resolved = await resolveCurrency(ctx, token, currency)
  if (resolved.native) {
    const { UsageError } = await import('../errors.js')
    throw new UsageError(`--currency ${currency} is the native currency: x402 payments are in an EIP-3009 token (e.g. USDC)`)
  }
  return resolved.address
}

/**
 * The model runs of the API through serve's stages: the node's inference source (this process, one run
 * at a time, or the queue's workers, whose results serve re-derives and audits before infer() resolves),
 * then the check serve makes before it signs anything. The API attests only a result that passed both.
 * @example
 * const infer = stagesInference(serving.stages)
 * const result = await infer({ prompt: 'Once', generation: { maxNewTokens: 8 } })
 */
export function stagesInference(stages: ServeStages): ApiInference {
  return async (call) => {
    const { keccak256 } = await import('viem')
    const { offChainRequestId } = await import('../queue/inferenceJob.js')
    const { ImoError } = await import('../errors.js')
    const promptBytes = new TextEncoder().encode(call.prompt)
    const { item, result, inferenceMs } = await stages.source.infer({
      requestId: offChainRequestId(),
      prompt: call.prompt,
      promptHash: keccak256(promptBytes),
      ...(call.generation ? { generation: call.generation } : {}),
    })
    if (!result) throw new ImoError('the inference source gave no inference for an off-chain call')
    const wrong = stages.check(item, promptBytes)
    if (wrong) throw new ImoError(`serve's check refused the result, nothing signed: ${wrong}`)
    stages.metrics.inferenceSeconds.observe(inferenceMs / 1000)
    return result
  }
}
