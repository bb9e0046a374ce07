/**
 * Claims a holder's revenue in several currencies of an IMO token at once: every live snapshot with
 * something claimable in any of the currencies, in ONE `claimBatch(snapshotIds, currencies)`
 * transaction (the contract skips the pairs with nothing in them), or one `claim(id, currency)` when
 * there is a single pair. The native-only claim stays in claimRevenue.ts (EIP-7641's own functions).
 *
 * Step id: claimStep.ts (with the `#<currencies>` part). As for the native claim, an open step is
 * resumed before anything else (in the currencies it names, whatever `currencies` says), and a keyed
 * re-run reports the claim made under the key.
 *
 * A payout that the currency refuses (USDC's blacklist) does not revert the claim: the contract credits
 * it to the holder (`PayoutCredited`, withdrawable later), so the holder's other currencies are paid.
 */
import type { Address, Hex } from 'viem'
import { imoTokenAbi } from '../../contracts-abi/index.js'
import type { ChainContext } from '../chain/connect.js'
import { ImoError } from '../errors.js'
import type { ClaimableReport } from './readClaimable.js'
import { type Currency, currencyJson, NATIVE_CURRENCY } from './resolveCurrency.js'

export interface CurrencyClaim {
  currency: ReturnType<typeof currencyJson>
  /** Per snapshot, in the currency's smallest unit. */
  snapshots: Array<{ id: number; amount: bigint }>
  total: bigint
  /** Part of `total` the currency refused to transfer, credited to the holder on the token instead. */
  credited: bigint
}

export interface MultiClaimResult {
  status: 'sent' | 'resumed' | 'already-confirmed' | 'dry-run' | 'nothing'
  token: Address
  holder: Address
  currencies: CurrencyClaim[]
  reason?: string
  stepId?: string
  hash?: Hex
  blockNumber?: bigint
  gas?: bigint
  costWei?: bigint
}

/**
 * Claims what the signer can claim in `currencies` (or resumes the open claim step).
 * @param ctx - chain context with a signer.
 * @param token - the IMO token.
 * @param currencies - the currencies to claim (the token's; the native one is NATIVE_CURRENCY).
 * @param options - snapshot: only this id; wait / onWait: as claimRevenue.
 * @returns per currency what was claimed, or status 'nothing' with a reason.
 * @throws UsageError (2) for an unknown snapshot id; SimulationRevertedError (3) when claims are not open
 *   and `wait` is false; chain errors from sendStep.
 * @example
 * import { claimCurrencies } from './claimCurrencies.js'
 * const result = await claimCurrencies(ctx, token, await readRevenueCurrencies(ctx, token))
 * result.currencies.map((c) => [c.currency.symbol, c.total]) // [['ETH', 500000000000000000n], ['USDC', 1250000n]]
 */
export async function claimCurrencies(
  ctx: ChainContext,
  token: Address,
  currencies: Currency[],
  options: { snapshot?: number; wait?: boolean; onWait?: (text: string) => void } = {},
): Promise<MultiClaimResult> {
  const account = ctx.account
  if (!account) throw new ImoError('claimCurrencies needs a chain context with a signer')
  const holder = account.address
  const { claimStepId, claimStepPrefix, findClaimStep, noteClaimStep } = await import('./claimStep.js')
  const { sendStep, summarizeOutcome } = await import('../chain/sendStep.js')
  const { encodeFunctionData, parseEventLogs } = await import('viem')
  const prefix = claimStepPrefix(token, holder)
  const key = ctx.tx.key
  const found = findClaimStep(ctx.journal, prefix, key)
  if (found && !found.currencies)
    throw new ImoError(`the journalled claim ${found.step.id} is a native claim: claimRevenue resumes it`)
  const keyed = found?.keyed ? found.step : undefined
  const expected = new Map<string, bigint>() // `${currency}:${id}` -> amount
  let ids: number[]
  let chosen: Currency[]
  let stepId: string | undefined
  if (found) {
    stepId = found.step.id
    ids = found.ids
    // The step's own currencies, looked up in the token's whole list (`currencies` may be one --currency).
    const { readRevenueCurrencies } = await import('./resolveCurrency.js')
    const byAddress = new Map((await readRevenueCurrencies(ctx, token)).map((c) => [c.address.toLowerCase(), c]))
    chosen = found.currencies!.map((address) => {
      const currency = byAddress.get(address)
      if (!currency)
        throw new ImoError(`the journalled claim ${found.step.id} names ${address}, not a revenue currency of ${token}`)
      return currency
    })
    await noteClaimStep(
      found,
      key,
      chosen.map((c) => c.symbol),
    )
  } else {
    const reports = await readReports(ctx, token, holder, currencies, options)
    if (options.snapshot !== undefined) {
      const { checkSnapshotId } = await import('./claimRevenue.js')
      checkSnapshotId(options.snapshot, reports[0]!.report)
    }
    const wanted = (id: number) => options.snapshot === undefined || id === options.snapshot
    for (const { currency, report } of reports)
      for (const s of report.claimable)
        if (wanted(s.id)) expected.set(`${currency.address.toLowerCase()}:${s.id}`, s.claimableWei ?? 0n)
    chosen = reports
      .filter(({ currency }) => [...expected.keys()].some((k) => k.startsWith(`${currency.address.toLowerCase()}:`)))
      .map((r) => r.currency)
    ids = [...new Set([...expected.keys()].map((k) => Number(k.split(':')[1])))].sort((a, b) => a - b)
    if (ids.length === 0)
      return {
        status: 'nothing',
        token,
        holder,
        currencies: [],
        reason:
          reports[0]!.report.currentSnapshotId === 0
            ? 'the token has no snapshot yet'
            : options.snapshot !== undefined
              ? `${holder} has nothing to claim from snapshot ${options.snapshot} in ${currencies.map((c) => c.symbol).join(', ')}`
              : `${holder} has no revenue in ${currencies.map((c) => c.symbol).join(', ')} in the ${reports[0]!.report.live.length} live snapshot(s)`,
      }
  }

  const currencyArgs = chosen.map((c) => c.address)
  const single = ids.length === 1 && chosen.length === 1
  const data = single
    ? encodeFunctionData({ abi: imoTokenAbi, functionName: 'claim', args: [BigInt(ids[0]!), currencyArgs[0]!] })
    : encodeFunctionData({ abi: imoTokenAbi, functionName: 'claimBatch', args: [ids.map(BigInt), currencyArgs] })
  stepId ??= claimStepId(prefix, ids, currencyArgs, key)
  const pairs = [...expected.entries()].filter(([, amount]) => amount > 0n).map(([k]) => k.split(':'))
  const outcome = await sendStep(ctx, {
    id: stepId,
    label: `claim snapshot(s) ${ids.join(', ')} in ${chosen.map((c) => c.symbol).join(', ')}`,
    to: token,
    data,
    abi: imoTokenAbi,
    // Replaced by another transaction: done if every pair that had something is claimed anyway.
    effect: async () => {
      const { callsTo, readMany } = await import('./readMany.js')
      const read = callsTo(token, imoTokenAbi)
      const claimed = (await readMany(
        ctx,
        pairs.map(([currency, id]) => read('hasClaimed', [holder, BigInt(id!), currency])),
      )) as boolean[]
      return claimed.every(Boolean)
    },
  })
  const receipt =
    outcome.receipt ??
    (keyed && outcome.hash
      ? await ctx.publicClient.getTransactionReceipt({ hash: outcome.hash }).catch(() => undefined)
      : undefined)
  const credited = new Map<string, bigint>()
  if (receipt) {
    expected.clear()
    for (const log of parseEventLogs({ abi: imoTokenAbi, logs: receipt.logs }) as Array<{
      eventName: string
      args: Record<string, unknown>
    }>) {
      const args = log.args
      if (log.eventName === 'RevenueClaimed' && String(args.holder).toLowerCase() === holder.toLowerCase())
        expected.set(`${NATIVE_CURRENCY}:${args.snapshotId}`, args.amount as bigint)
      if (log.eventName === 'CurrencyRevenueClaimed' && String(args.holder).toLowerCase() === holder.toLowerCase())
        expected.set(`${String(args.currency).toLowerCase()}:${args.snapshotId}`, args.amount as bigint)
      if (log.eventName === 'PayoutCredited' && String(args.holder).toLowerCase() === holder.toLowerCase()) {
        const currency = String(args.currency).toLowerCase()
        credited.set(currency, (credited.get(currency) ?? 0n) + (args.amount as bigint))
      }
    }
  }
  const perCurrency = chosen.map((currency) => {
    const address = currency.address.toLowerCase()
    const snapshots = ids.map((id) => ({ id, amount: expected.get(`${address}:${id}`) ?? 0n })).filter((s) => s.amount > 0n)
    return {
      currency: currencyJson(currency),
      snapshots,
      total: snapshots.reduce((sum, s) => sum + s.amount, 0n),
      credited: credited.get(address) ?? 0n,
    }
  })
  return { ...summarizeOutcome(outcome), token, holder, currencies: perCurrency, stepId }
}

async function readReports(
  ctx: ChainContext,
  token: Address,
  holder: Address,
  currencies: Currency[],
  options: { snapshot?: number; wait?: boolean; onWait?: (text: string) => void },
): Promise<Array<{ currency: Currency; report: ClaimableReport }>> {
  const { readClaimable } = await import('./readClaimable.js')
  const { addOpeningClaims } = await import('./claimRevenue.js')
  const reports = await Promise.all(
    currencies.map(async (currency) => ({
      currency,
      report: await readClaimable(ctx, token, holder, currency.native ? {} : { currency: currency.address }),
    })),
  )
  // One wait serves every currency: the snapshots open at the same second.
  for (const { report } of reports) await addOpeningClaims(ctx, token, holder, report, options)
  return reports
}
