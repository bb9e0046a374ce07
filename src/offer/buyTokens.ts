/**
 * `imo offer buy`: checks the purchase against the sale's state (window, price limit, what is left, the
 * buyer's cap and allowlist proof) and refuses in plain words before sending; then buys through the
 * journal, paying the cost at the price of the latest block (a descending price only falls, and the sale
 * returns any change).
 *
 * Step id `offer-buy:<sale>:<tokens:AMOUNT | spend:WEI>:<n>`, from what the buyer asked for, never from
 * what was computed from the chain (a falling price gives another token amount on a re-run: issue 21
 * item 25). An interrupted purchase (open in the journal) is resumed before anything else, as the very
 * transaction that was signed (src/chain/journalledStep.ts), never bought again.
 */
import type { Address, Hex } from 'viem'
import { imoOfferingAbi } from '../../contracts-abi/index.js'
import type { ChainContext } from '../chain/connect.js'
import type { TxStep } from '../chain/txStep.js'
import { ImoError, UsageError } from '../errors.js'
import type { OfferingState } from './readOffering.js'

export interface BuyParams {
  /** Tokens (base units), or undefined with spendWei. */
  amount?: bigint
  /** Spend at most this much; buys as many tokens as it pays for at the current price. */
  spendWei?: bigint
  maxPriceWei?: bigint
  /** Proofs file (required for an allowlisted sale unless recorded beside the offering). */
  proofFile?: string
  /** Skip the confirmation (required without a terminal). */
  yes?: boolean
}

export interface BuyResult {
  status: 'sent' | 'resumed' | 'already-confirmed' | 'dry-run' | 'cancelled'
  sale: Address
  buyer: Address
  symbol: string
  amount: bigint
  priceWei: bigint
  costWei: bigint
  delivered: boolean
  hash?: Hex
  blockNumber?: bigint
  gas: bigint
  feeWei?: bigint
}

/**
 * Refuses a purchase that the sale would refuse, in plain words (exit 2, nothing sent).
 * @param state - the sale's state with the buyer's purchase.
 * @param amount - tokens, base units.
 * @param cap - the cap that applies to the buyer (0 = none).
 * @param maxPriceWei - the buyer's price limit.
 * @throws UsageError naming the time, the price, or what is left.
 * @example
 * checkPurchase(state, 10n ** 20n, 0n) // throws 'the sale opens 2026-…(in 2 h); nothing was sent'
 */
export async function checkPurchase(state: OfferingState, amount: bigint, cap: bigint, maxPriceWei?: bigint): Promise<void> {
  const { formatWhen } = await import('../cli/time.js')
  const { formatNative } = await import('../chain/format.js')
  const tokens = (n: bigint) => formatNative(n, state.symbol)
  const eth = (n: bigint) => formatNative(n, 'ETH')
  const none = '; nothing was sent'
  if (state.phase === 'not funded') throw new UsageError(`the sale ${state.sale} has no tokens in it yet${none}`)
  if (state.phase === 'upcoming') throw new UsageError(`the sale opens ${formatWhen(state.startTime, state.now)}${none}`)
  if (state.phase === 'finalized' || state.now >= state.endTime)
    throw new UsageError(`the sale ended ${formatWhen(state.endTime, state.now)}${none}`)
  const left = state.amount - state.sold
  if (amount > left) throw new UsageError(`only ${tokens(left)} are left for sale, not ${tokens(amount)}${none}`)
  if (maxPriceWei !== undefined && state.priceWei > maxPriceWei)
    throw new UsageError(`the price is ${eth(state.priceWei)} per token, above --max-price ${eth(maxPriceWei)}${none}`)
  if (cap !== 0n) {
    const bought = state.account?.tokens ?? 0n
    const remaining = cap > bought ? cap - bought : 0n
    if (amount > remaining)
      throw new UsageError(
        `${state.account?.address} may buy ${tokens(remaining)} more (cap ${tokens(cap)}, bought ${tokens(bought)}), not ${tokens(amount)}${none}`,
      )
  }
}

/**
 * Buys tokens from the sale as the signer.
 * @param ctx - chain context with the buyer as signer.
 * @param sale - the sale contract.
 * @param params - amount or spend, price limit, proofs file.
 * @returns what was bought, at which price and cost.
 * @throws UsageError (2) for a purchase the sale would refuse; chain errors from sendStep.
 * @example
 * import { buyTokens } from './buyTokens.js'
 * const r = await buyTokens(ctx, sale, { amount: 100n * 10n ** 18n, maxPriceWei: 10n ** 16n })
 * r.costWei // 1000000000000000000n
 */
export async function buyTokens(ctx: ChainContext, sale: Address, params: BuyParams): Promise<BuyResult> {
  const account = ctx.account
  if (!account) throw new ImoError('buyTokens needs a signer')
  const { readOffering } = await import('./readOffering.js')
  const { parseEventLogs } = await import('viem')
  const { findOpenStep, listSteps } = await import('../revenue/journalSteps.js')
  const { journalledStep } = await import('../chain/journalledStep.js')
  const { sendStep } = await import('../chain/sendStep.js')
  const { formatNative } = await import('../chain/format.js')
  const state = await readOffering(ctx, sale, account.address)
  const salePrefix = `offer-buy:${sale.toLowerCase()}:`
  const open = ctx.journal ? findOpenStep(ctx.journal, salePrefix) : undefined
  const journalled = open && ctx.journal ? await journalledStep(ctx.journal, open.id) : undefined
  const purchase = journalled ? await decodePurchase(journalled) : await planPurchase(ctx, sale, state, params)
  const { amount, costWei } = purchase
  const asked = params.spendWei !== undefined ? `spend:${params.spendWei}` : `tokens:${amount}`
  const prefix = `${salePrefix}${asked}:`
  const stepId =
    open?.id ?? (ctx.tx.dryRun ? `${prefix}dry-run` : `${prefix}${ctx.journal ? listSteps(ctx.journal, prefix).length + 1 : 0}`)
  const base = { sale, buyer: account.address, symbol: state.symbol, amount, priceWei: state.priceWei, costWei }
  const delivered = state.softCapWei === 0n
  if (open) {
    const { note } = await import('../cli/ui.js')
    note(
      `resuming the interrupted purchase of ${formatNative(amount, state.symbol)} recorded in the journal${open.hash ? ` (${open.hash})` : ''}`,
    )
  } else if (!ctx.tx.dryRun) {
    const { confirmAction } = await import('../revenue/confirmAction.js')
    const what = `buying ${formatNative(amount, state.symbol)} for ${formatNative(costWei, ctx.nativeSymbol)}`
    const question = `Buy ${formatNative(amount, state.symbol)} at ${formatNative(state.priceWei, ctx.nativeSymbol)} per token for ${formatNative(costWei, ctx.nativeSymbol)}${state.kind === 'descending' ? ' (or less: the price is falling)' : ''}?`
    if (!(await confirmAction(question, { skip: Boolean(params.yes), flag: '--yes', what })))
      return { status: 'cancelled', ...base, delivered, gas: 0n }
  }
  const outcome = await sendStep(ctx, {
    id: stepId,
    label: journalled?.label ?? `buy ${formatNative(amount, state.symbol)}`,
    to: sale,
    data: purchase.data,
    value: costWei,
    abi: imoOfferingAbi,
  })
  const result: BuyResult = {
    status: outcome.status,
    ...base,
    delivered,
    gas: outcome.gas,
    ...(outcome.hash ? { hash: outcome.hash } : {}),
    ...(outcome.blockNumber !== undefined ? { blockNumber: outcome.blockNumber } : {}),
    ...(outcome.costWei !== undefined ? { feeWei: outcome.costWei } : {}),
  }
  if (outcome.receipt) {
    const [bought] = parseEventLogs({ abi: imoOfferingAbi, logs: outcome.receipt.logs, eventName: 'Purchased' })
    if (bought) {
      result.priceWei = bought.args.price
      result.costWei = bought.args.cost
    }
  }
  return result
}

interface Purchase {
  amount: bigint
  costWei: bigint
  data: Hex
}

/** A new purchase: the amount (from --spend at the current price), the allowlist proof, the checks, the call. */
async function planPurchase(ctx: ChainContext, sale: Address, state: OfferingState, params: BuyParams): Promise<Purchase> {
  const account = ctx.account!
  const { encodeFunctionData } = await import('viem')
  let amount = params.amount ?? 0n
  if (params.spendWei !== undefined) {
    amount = (params.spendWei * state.unit) / state.priceWei
    if (amount === 0n) throw new UsageError('--spend does not pay for the smallest unit of a token at the current price')
    const left = state.amount - state.sold
    if (amount > left) amount = left
  }
  if (amount <= 0n) throw new UsageError('TOKENS must be greater than zero')

  let leafCap = 0n
  let proof: Hex[] | undefined
  if (BigInt(state.merkleRoot) !== 0n) {
    const file = params.proofFile
    if (!file) throw new UsageError('the sale has an allowlist: pass --proof-file FILE (the proofs file from the seller)')
    const { readAllowlistFile } = await import('./offerFile.js')
    const allowlist = readAllowlistFile(file)
    if (allowlist.root.toLowerCase() !== state.merkleRoot.toLowerCase())
      throw new UsageError(`${file} is for another allowlist (root ${allowlist.root}, the sale's is ${state.merkleRoot})`)
    const entry = allowlist.entries[account.address]
    if (!entry) throw new UsageError(`${account.address} is not on the sale's allowlist (${file}); nothing was sent`)
    leafCap = BigInt(entry.cap)
    proof = entry.proof
  }
  const { toImoError } = await import('../chain/toImoError.js')
  const cap = await ctx.publicClient
    .readContract({ address: sale, abi: imoOfferingAbi, functionName: 'capFor', args: [leafCap] })
    .catch((error: unknown) => {
      throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: "reading the sale's cap" })
    })
  await checkPurchase(state, amount, cap, params.maxPriceWei)
  const costWei = (amount * state.priceWei + state.unit - 1n) / state.unit
  const maxPrice = params.maxPriceWei ?? state.priceWei
  const data = proof
    ? encodeFunctionData({ abi: imoOfferingAbi, functionName: 'buyAllowlisted', args: [amount, maxPrice, leafCap, proof] })
    : encodeFunctionData({ abi: imoOfferingAbi, functionName: 'buy', args: [amount, maxPrice] })
  return { amount, costWei, data }
}

/** A journalled purchase, read back from its calldata: what it buys and pays. */
async function decodePurchase(step: TxStep): Promise<Purchase> {
  const { decodeFunctionData } = await import('viem')
  const { args } = decodeFunctionData({ abi: imoOfferingAbi, data: step.data })
  return { amount: (args as readonly unknown[])[0] as bigint, costWei: step.value ?? 0n, data: step.data }
}
