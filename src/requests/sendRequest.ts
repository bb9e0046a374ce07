/**
 * `imo request`: pays the collection's request fee for the model's output on a prompt, to be minted to
 * a recipient (docs/formats.md "Paid requests"), through the journal.
 *
 * Step ids: `request:<collection>:<promptHash>:<recipient>#<n>`. Requesting the same prompt twice is
 * legitimate (the second becomes refundable once the first is fulfilled), so the id cannot be the
 * inputs alone; but a re-run after an interruption must not pay twice. So an open step with the same
 * prompt and recipient (intent journalled, no receipt) is RESUMED, a confirmed one whose request is
 * still Open on chain is reported as `existing` (nothing sent: the re-run of `--wait` waits for it), and
 * one that was fulfilled as `fulfilled` (nothing sent: `--wait` shows the token); otherwise the request
 * is new and gets the next number.
 *
 * Terms (issue 21 item 14): the request is sent as `requestWithTerms` with the timeout read just before
 * (or the caller's bound), and `msg.value` is the fee read; an owner who raises the timeout or changes
 * the fee in between makes it revert with no fee taken, which is reported as the terms having changed. A
 * resumed step re-sends the calldata it was signed with (the terms it was signed on).
 */

import type { Address, Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import { quoteText } from '../cli/escapeControl.js'
import { ImoError, InsufficientFundsError, SimulationRevertedError, TransactionRevertedError, UsageError } from '../errors.js'
import type { RequestTerms } from './readRequest.js'

/** At most this many prompt bytes (the collection's MAX_REQUEST_PROMPT_BYTES). */
export const MAX_REQUEST_PROMPT_BYTES = 4096
/** The callback gas limit `imo request` gives the recipient (the collection's DEFAULT_CALLBACK_GAS_LIMIT). */
export const REQUEST_CALLBACK_GAS_LIMIT = 100_000

export interface SendRequestParams {
  prompt: string
  /** Recipient of the token (default: the signer). */
  to?: Address
  /** The fee the caller agreed to pay (wei); refused when the collection asks another. */
  expectedFeeWei?: bigint
  /**
   * The longest request timeout the caller accepts (seconds: how long the fee may stay escrowed when
   * nobody fulfils it); default: the timeout read now. Refused before sending when longer; the chain
   * refuses it too (`RequestTimeoutAboveBound`) if the owner raises it before the request is mined.
   */
  maxTimeoutSeconds?: number
}

export interface SendRequestResult {
  /** `existing`: an earlier request of this prompt and recipient, still open; `fulfilled`: one that was fulfilled. */
  status: 'sent' | 'resumed' | 'existing' | 'fulfilled' | 'dry-run'
  collection: Address
  requester: Address
  recipient: Address
  prompt: string
  promptHash: Hex
  /** The token a fulfilment mints: uint256(promptHash). */
  tokenId: bigint
  feeWei: bigint
  /** Undefined for a dry run. */
  requestId?: bigint
  /** Unix seconds: fulfillable before, refundable from then on. */
  expiresAt?: number
  txHash?: Hex
  blockNumber?: bigint
  gas?: bigint
  costWei?: bigint
  stepId: string
}

/**
 * A request the chain refused because its terms changed after imo read them (the owner changed the fee
 * or raised the timeout, maybe in the same block, before it): the same error class and exit code, in
 * words that say what changed. Decided on the terms read now, since a revert caused by an earlier
 * transaction of the same block replays without a reason. Other errors pass unchanged.
 */
async function termsChanged(
  error: unknown,
  sent: { feeWei: bigint; timeoutSeconds: number },
  readTerms: () => Promise<RequestTerms>,
  fmt: (wei: bigint) => string,
): Promise<unknown> {
  if (!(error instanceof SimulationRevertedError || error instanceof TransactionRevertedError)) return error
  const now = await readTerms().catch(() => undefined)
  if (!now) return error
  const changes = [
    ...(now.feeWei !== sent.feeWei ? [`its fee is now ${fmt(now.feeWei)}, imo sent ${fmt(sent.feeWei)}`] : []),
    ...(now.timeoutSeconds > sent.timeoutSeconds
      ? [`its timeout is now ${now.timeoutSeconds} s, the request accepted at most ${sent.timeoutSeconds} s`]
      : []),
  ]
  if (changes.length === 0) return error
  const message = `the collection's request terms changed after imo read them (${changes.join('; ')}): the request was refused and no fee was taken`
  const options = { cause: error, hint: 're-run `imo request` to pay on the new terms (check them with `imo status`)' }
  return error instanceof SimulationRevertedError
    ? new SimulationRevertedError(message, options)
    : new TransactionRevertedError(message, options)
}

/**
 * Checks a prompt for a paid request: 1 to 4096 UTF-8 bytes.
 * @returns the prompt's bytes.
 * @throws UsageError (exit 2) for an empty or oversized prompt.
 * @example
 * checkRequestPrompt('a red spiral').length // 12
 */
export function checkRequestPrompt(prompt: string): Uint8Array {
  const bytes = new TextEncoder().encode(prompt)
  if (bytes.length === 0) throw new UsageError('PROMPT is empty: a request needs 1 to 4096 bytes of prompt')
  if (bytes.length > MAX_REQUEST_PROMPT_BYTES)
    throw new UsageError(`PROMPT is ${bytes.length} bytes; a request takes at most ${MAX_REQUEST_PROMPT_BYTES} bytes`)
  return bytes
}

/**
 * Pays the request fee for `prompt` (or resumes / reuses the same request, see the header).
 * @param ctx - chain context with the requester's signer.
 * @param collection - the AigcCollection.
 * @param params - prompt, recipient, the fee agreed to, the longest timeout accepted.
 * @returns the request: id, fee, expiry, transaction.
 * @throws UsageError (2) for a bad prompt, a wrong --fee (naming the collection's fee) or a timeout
 *   above the bound; SimulationRevertedError (3) / TransactionRevertedError (4) saying the terms changed
 *   when the chain refused them; other chain errors from sendStep (3 simulation, e.g.
 *   PromptAlreadyMinted; 8 funds; 5 not confirmed; ...).
 * @example
 * import { sendRequest } from './requests/sendRequest.js'
 * const r = await sendRequest(ctx, collection, { prompt: 'a red spiral' })
 * r.requestId // 1n
 */
export async function sendRequest(ctx: ChainContext, collection: Address, params: SendRequestParams): Promise<SendRequestResult> {
  const account = ctx.account
  if (!account) throw new ImoError('sendRequest needs a chain context with a signer')
  const promptBytes = checkRequestPrompt(params.prompt)
  const { encodeFunctionData, getAddress, keccak256, toHex } = await import('viem')
  const { aigcCollectionAbi } = await import('../../contracts-abi/index.js')
  const { formatNative } = await import('../chain/format.js')
  const { readRequest, readRequestTerms, decodeRequestedLogs } = await import('./readRequest.js')
  const { parseTransaction } = await import('viem')
  const { listSteps } = await import('../revenue/journalSteps.js')
  const { sendStep } = await import('../chain/sendStep.js')
  const recipient = getAddress(params.to ?? account.address)
  const promptHash = keccak256(promptBytes)
  const tokenId = BigInt(promptHash)
  const terms = await readRequestTerms(ctx, collection)
  const fmt = (wei: bigint) => formatNative(wei, ctx.nativeSymbol)
  if (params.expectedFeeWei !== undefined && params.expectedFeeWei !== terms.feeWei)
    throw new UsageError(
      `wrong fee: the collection's request fee is ${fmt(terms.feeWei)} (${terms.feeWei} wei), not ${fmt(params.expectedFeeWei)}; nothing was sent`,
      { hint: `pass --fee ${fmt(terms.feeWei).split(' ')[0]} or leave --fee out to pay the current fee` },
    )
  const maxTimeout = params.maxTimeoutSeconds ?? terms.timeoutSeconds
  if (terms.timeoutSeconds > maxTimeout)
    throw new UsageError(
      `the collection's request timeout is ${terms.timeoutSeconds} s, longer than the ${maxTimeout} s accepted: an unfulfilled fee would stay escrowed that long; nothing was sent`,
    )
  const base = {
    collection,
    requester: account.address,
    recipient,
    prompt: params.prompt,
    promptHash,
    tokenId,
    feeWei: terms.feeWei,
  }
  const prefix = `request:${collection.toLowerCase()}:${promptHash}:${recipient.toLowerCase()}#`
  const earlier = ctx.journal ? listSteps(ctx.journal, prefix) : []
  const open = earlier.find((step) => step.state === 'open')
  // A confirmed earlier request of the same prompt and recipient that is still open (reuse it) or was
  // fulfilled (its token exists: a new request would revert with PromptAlreadyMinted; `--wait` shows it).
  if (!open && !ctx.tx.dryRun) {
    for (const step of earlier.filter((s) => s.state === 'confirmed' && s.txHash).reverse()) {
      const receipt = await ctx.publicClient.getTransactionReceipt({ hash: step.txHash! }).catch(() => undefined)
      const [event] = receipt ? await decodeRequestedLogs(receipt.logs as never) : []
      if (!event) continue
      const onChain = await readRequest(ctx, collection, event.requestId)
      if ((onChain.status !== 'open' && onChain.status !== 'fulfilled') || onChain.promptHash !== promptHash) continue
      return {
        ...base,
        status: onChain.status === 'open' ? 'existing' : 'fulfilled',
        feeWei: event.fee,
        requestId: event.requestId,
        expiresAt: onChain.expiresAt,
        txHash: step.txHash!,
        ...(step.blockNumber !== undefined ? { blockNumber: step.blockNumber } : {}),
        stepId: step.id,
      }
    }
  }
  const stepId = open ? open.id : ctx.tx.dryRun ? `${prefix}dry-run` : `${prefix}${earlier.length + 1}`
  // A resumed step keeps the value and the calldata (the terms) it was signed with.
  const value = open ? open.value : terms.feeWei
  const signedRaw = open && ctx.journal?.state(open.id).signed?.raw
  const data = signedRaw
    ? parseTransaction(signedRaw).data!
    : encodeFunctionData({
        abi: aigcCollectionAbi,
        functionName: 'requestWithTerms',
        args: [toHex(promptBytes), recipient, REQUEST_CALLBACK_GAS_LIMIT, BigInt(maxTimeout)],
      })
  const outcome = await sendStep(ctx, {
    id: stepId,
    label: `request ${quoteText(params.prompt, 40)}`,
    to: collection,
    data,
    value,
    abi: aigcCollectionAbi as never,
  }).catch(async (error: unknown) => {
    // The node's words name no address: say which account needs funds, and how much it holds.
    if (error instanceof InsufficientFundsError) {
      const balance = await ctx.publicClient.getBalance({ address: account.address }).catch(() => undefined)
      throw new InsufficientFundsError(
        `${account.address} cannot pay the request fee of ${fmt(value)} plus gas${balance !== undefined ? `: it holds ${fmt(balance)}` : ''}; nothing was sent`,
        { hint: `fund ${account.address}, the signer, on chain ${ctx.chainId}`, cause: error },
      )
    }
    throw await termsChanged(error, { feeWei: value, timeoutSeconds: maxTimeout }, () => readRequestTerms(ctx, collection), fmt)
  })
  const result: SendRequestResult = {
    ...base,
    feeWei: value,
    status: outcome.status === 'already-confirmed' ? 'existing' : outcome.status,
    gas: outcome.gas,
    ...(outcome.txHash ? { txHash: outcome.txHash } : {}),
    ...(outcome.blockNumber !== undefined ? { blockNumber: outcome.blockNumber } : {}),
    ...(outcome.costWei !== undefined ? { costWei: outcome.costWei } : {}),
    stepId,
  }
  if (outcome.status === 'dry-run') return result
  const receipt = outcome.receipt ?? (await ctx.publicClient.getTransactionReceipt({ hash: outcome.txHash! }))
  const [event] = await decodeRequestedLogs(receipt.logs as never)
  if (!event) throw new ImoError(`the request transaction ${outcome.txHash} emitted no Requested event`)
  return { ...result, requestId: event.requestId, expiresAt: event.expiresAt }
}
