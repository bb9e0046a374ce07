/**
 * Withdraws the signer's credits on an IMO token (`imo claim --credits`): a payout that its ERC-20
 * refused (a blocklisted USDC holder, a paused token) is not lost but credited to the holder on the
 * token (`PayoutCredited`); `withdrawCredit(currency)` pays the whole credit of one currency once the
 * currency accepts the transfer again. One transaction per currency with a credit (the contract has no
 * batch); native payouts are never credited (a refused ether payout reverts the claim instead).
 *
 * Step id: `withdraw-credit:<token>:<holder>:<currency>:<n>[@key:<KEY>]` (lowercase addresses, n counts
 * the holder's withdrawals of that currency from 1). A withdrawal cannot be repeated by mistake: it
 * empties the credit, so a re-run finds nothing; an open step (interrupted run) is resumed before anything
 * else, and with `--key K` a re-run reports the withdrawal made under K.
 */
import type { Address, Hex } from 'viem'
import { imoTokenAbi } from '../../contracts-abi/index.js'
import type { ChainContext } from '../chain/connect.js'
import { ImoError, SimulationRevertedError, UsageError } from '../errors.js'
import { type Currency, currencyJson } from './resolveCurrency.js'

export interface CreditWithdrawal {
  currency: ReturnType<typeof currencyJson>
  /** The credit withdrawn (or to be, for a dry run), in the currency's smallest unit. */
  amountWei: bigint
  status: 'sent' | 'resumed' | 'already-confirmed' | 'dry-run'
  stepId: string
  txHash?: Hex
  blockNumber?: bigint
  gas: bigint
  costWei?: bigint
}

export interface WithdrawCreditsResult {
  /** 'nothing': no credit in the currencies asked (exit 0), see `reason`. */
  status: 'withdrawn' | 'dry-run' | 'nothing'
  token: Address
  holder: Address
  withdrawals: CreditWithdrawal[]
  reason?: string
}

/**
 * Withdraws the signer's credit in each of `currencies` that has one (resuming interrupted withdrawals).
 * @param ctx - chain context with a signer.
 * @param token - the IMO token.
 * @param currencies - the currencies to withdraw (the token's; the native one is skipped, or refused alone).
 * @returns one withdrawal per currency with a credit, or status 'nothing' with a reason.
 * @throws UsageError (2) when the only currency asked is the native one; SimulationRevertedError (3) when
 *   the currency still refuses the transfer (nothing is sent); chain errors from sendStep.
 * @example
 * import { withdrawCredits } from './withdrawCredits.js'
 * const result = await withdrawCredits(ctx, token, await readRevenueCurrencies(ctx, token))
 * result.withdrawals.map((w) => [w.currency.symbol, w.amountWei]) // [['USDC', 15000000n]]
 */
export async function withdrawCredits(ctx: ChainContext, token: Address, currencies: Currency[]): Promise<WithdrawCreditsResult> {
  const account = ctx.account
  if (!account) throw new ImoError('withdrawCredits needs a chain context with a signer')
  const holder = account.address
  const erc20s = currencies.filter((currency) => !currency.native)
  if (erc20s.length === 0)
    throw new UsageError(
      `${currencies[0]?.symbol ?? 'the native currency'} payouts are never credited (a refused ether payout reverts the claim): credits exist only in the token's ERC-20 revenue currencies`,
    )
  const { callsTo, readMany } = await import('./readMany.js')
  const read = callsTo(token, imoTokenAbi)
  const credits = (await readMany(
    ctx,
    erc20s.map((currency) => read('creditOf', [holder, currency.address])),
  )) as bigint[]
  const withdrawals: CreditWithdrawal[] = []
  for (const [index, currency] of erc20s.entries()) {
    const withdrawal = await withdrawOne(ctx, token, holder, currency, credits[index]!)
    if (withdrawal) withdrawals.push(withdrawal)
  }
  if (withdrawals.length === 0)
    return {
      status: 'nothing',
      token,
      holder,
      withdrawals,
      reason: `${holder} has no credit on the token in ${erc20s.map((c) => c.symbol).join(', ')}`,
    }
  return { status: ctx.tx.dryRun ? 'dry-run' : 'withdrawn', token, holder, withdrawals }
}

/** One currency: resumes its open (or keyed) step, else withdraws a non-zero credit; undefined when there is nothing. */
async function withdrawOne(
  ctx: ChainContext,
  token: Address,
  holder: Address,
  currency: Currency,
  credit: bigint,
): Promise<CreditWithdrawal | undefined> {
  const { findKeyedStep, findOpenStep, keySuffix, listSteps } = await import('./journalSteps.js')
  const { sendStep, summarizeOutcome } = await import('../chain/sendStep.js')
  const { encodeFunctionData, parseEventLogs } = await import('viem')
  const prefix = `withdraw-credit:${token.toLowerCase()}:${holder.toLowerCase()}:${currency.address.toLowerCase()}:`
  const key = ctx.tx.key
  const journalled = ctx.journal
    ? ((key ? findKeyedStep(ctx.journal, prefix, key) : undefined) ?? findOpenStep(ctx.journal, prefix))
    : undefined
  if (!journalled && credit === 0n) return undefined
  if (journalled) {
    const { note } = await import('../cli/ui.js')
    note(
      `${journalled.state === 'open' ? 'resuming the interrupted' : `--key ${key}: reporting the`} withdrawal of the ${currency.symbol} credit recorded in the journal${journalled.hash ? ` (${journalled.hash})` : ''}`,
    )
  }
  const stepId =
    journalled?.id ?? `${prefix}${(ctx.journal ? listSteps(ctx.journal, prefix).length : 0) + 1}${key ? keySuffix(key) : ''}`
  const outcome = await sendStep(ctx, {
    id: stepId,
    label: `withdraw the ${currency.symbol} credit`,
    to: token,
    data: encodeFunctionData({ abi: imoTokenAbi, functionName: 'withdrawCredit', args: [currency.address] }),
    abi: imoTokenAbi,
    // Replaced by another transaction: done if the credit is gone anyway.
    effect: async () =>
      (await ctx.publicClient.readContract({
        address: token,
        abi: imoTokenAbi,
        functionName: 'creditOf',
        args: [holder, currency.address],
      })) === 0n,
  }).catch((error: unknown) => {
    // The revert is the currency's own (its errors are not in the token's ABI): say what it means.
    if (error instanceof SimulationRevertedError)
      throw new SimulationRevertedError(error.shortMessage, {
        cause: error,
        hint: `${currency.symbol} (${currency.address}) still refuses the transfer to ${holder} (a blocklist, a pause); the credit stays yours on the token: run this again once it accepts`,
      })
    throw error
  })
  // A withdrawal reported from the journal (--key re-run) has no receipt in hand: fetch it for the amount.
  const receipt =
    outcome.receipt ??
    (outcome.hash && outcome.status === 'already-confirmed'
      ? await ctx.publicClient.getTransactionReceipt({ hash: outcome.hash }).catch(() => undefined)
      : undefined)
  const withdrawn = receipt
    ? parseEventLogs({ abi: imoTokenAbi, logs: receipt.logs, eventName: 'CreditWithdrawn' }).find(
        (log) => log.args.holder.toLowerCase() === holder.toLowerCase(),
      )?.args.amount
    : undefined
  const { hash, ...summary } = summarizeOutcome(outcome)
  return {
    currency: currencyJson(currency),
    amountWei: withdrawn ?? credit,
    ...summary,
    ...(hash ? { txHash: hash } : {}),
    stepId,
  }
}
