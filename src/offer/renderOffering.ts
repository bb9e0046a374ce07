/**
 * The human text of `imo offer status` (and the offering section of `imo status`), from an OfferingState.
 */
import { formatNative } from '../chain/format.js'
import { renderFields } from '../cli/table.js'
import { formatDuration, formatWhen } from '../cli/time.js'
import type { BuyResult } from './buyTokens.js'
import type { CreateOfferingResult } from './createOffering.js'
import type { OfferingState } from './readOffering.js'
import { settleCommandName } from './settleAction.js'
import type { SettleResult } from './settleOffering.js'

/**
 * Renders an offering's state for people.
 * @param state - from readOffering.
 * @param nativeSymbol - the chain's currency symbol.
 * @returns aligned fields (no trailing newline).
 * @example
 * import { renderOffering } from './renderOffering.js'
 * console.log(renderOffering(await readOffering(ctx, sale), 'ETH'))
 */
export function renderOffering(state: OfferingState, nativeSymbol = 'ETH'): string {
  const eth = (wei: bigint) => formatNative(wei, nativeSymbol)
  const tokens = (units: bigint) => formatNative(units, state.symbol)
  const when = (at: number) => formatWhen(at, state.now)
  const percent = (part: bigint, whole: bigint) => (whole === 0n ? '0' : (Number((part * 10_000n) / whole) / 100).toString())
  const price =
    state.kind === 'fixed'
      ? `${eth(state.priceWei)} per token (fixed)`
      : `${eth(state.priceWei)} per token now, falling from ${eth(state.startPriceWei)} to ${eth(state.floorPriceWei)}`
  const timing =
    state.phase === 'upcoming'
      ? `opens ${when(state.startsAt)}, ends ${when(state.endsAt)}`
      : state.phase === 'open'
        ? `open, ends ${when(state.endsAt)} (${formatDuration(state.endsAt - state.now)} left)`
        : `${state.phase === 'finalized' ? 'finalized' : state.phase === 'not funded' ? 'not funded yet' : 'ended'}; ran ${when(state.startsAt)} to ${when(state.endsAt)}`
  const fields: Array<[string, string]> = [
    ['sale', state.sale],
    ['status', timing],
    ['price', price],
    ['sold', `${tokens(state.soldWei)} of ${tokens(state.amountWei)} (${percent(state.soldWei, state.amountWei)} %)`],
    ['raised', eth(state.raisedWei)],
  ]
  if (state.softCapWei > 0n)
    fields.push([
      'soft cap',
      `${eth(state.softCapWei)}: ${percent(state.raisedWei, state.softCapWei)} % ${state.softCapMet ? '(met)' : state.phase === 'ended' || state.phase === 'finalized' ? '(missed: buyers are refunded)' : ''}`.trimEnd(),
    ])
  fields.push(['delivery', state.softCapWei > 0n ? 'after finalize, if the soft cap is met (imo offer withdraw)' : 'at purchase'])
  if (state.maxPerAddressWei > 0n) fields.push(['cap per address', tokens(state.maxPerAddressWei)])
  if (BigInt(state.merkleRoot) !== 0n) fields.push(['allowlist', `root ${state.merkleRoot}`])
  fields.push(['seller', state.seller])
  if (state.revenueCollectedWei > 0n) fields.push(['revenue collected', `${eth(state.revenueCollectedWei)} (for the seller)`])
  if (state.pendingRevenueWei > 0n)
    fields.push([
      'revenue waiting',
      `${eth(state.pendingRevenueWei)} in the token for the sale's tokens: imo offer claim-revenue collects it (uncollected, a snapshot's share expires after the token's claim window)`,
    ])
  if (state.account) {
    const you = state.account
    if (you.isSeller) fields.push(['you (seller)', `can withdraw ${eth(state.withdrawableWei)}`])
    if (you.tokensWei > 0n || you.paidWei > 0n)
      fields.push([
        'you',
        `${tokens(you.tokensWei)} for ${eth(you.paidWei)}${state.softCapWei > 0n ? ' (not delivered yet)' : ''}`,
      ])
  }
  return renderFields(fields)
}

const txLine = (hash?: string, blockNumber?: bigint) =>
  hash ? `  transaction ${hash}${blockNumber !== undefined ? ` (block ${blockNumber})` : ''}` : undefined

/**
 * The result of `imo offer create`.
 * @example
 * renderCreated(result, 'ETH') // 'Offering created: sale 0x… selling 1000 PAT …'
 */
export function renderCreated(result: CreateOfferingResult, nativeSymbol = 'ETH'): string {
  const p = result.record.parameters
  const eth = (wei: string) => formatNative(BigInt(wei), nativeSymbol)
  const now = Math.floor(Date.now() / 1000)
  const price =
    p.startPriceWei === p.floorPriceWei
      ? `${eth(p.startPriceWei)} per token`
      : `${eth(p.startPriceWei)} falling to ${eth(p.floorPriceWei)} per token`
  const terms = `${formatNative(BigInt(p.amount), 'tokens')} at ${price}, ${formatWhen(p.startTime, now)} to ${formatWhen(p.endTime, now)}`
  if (result.status === 'cancelled') return 'Cancelled: nothing was sent'
  if (result.status === 'dry-run') {
    const deploy = result.steps[0]
    return `Dry run: deploying the sale (${terms}) would use ${deploy?.gas ?? 0n} gas (at most ${formatNative(deploy?.costWei ?? 0n, nativeSymbol)}); approving and moving the tokens in follow; nothing was sent`
  }
  const lines = [
    `${result.status === 'existing' ? 'Offering already created' : 'Offering created'}: sale ${result.record.sale}`,
    `  terms       ${terms}`,
  ]
  if (p.softCapWei !== '0') lines.push(`  soft cap    ${eth(p.softCapWei)}`)
  if (p.maxPerAddress !== '0') lines.push(`  cap         ${formatNative(BigInt(p.maxPerAddress), 'tokens')} per address`)
  if (result.allowlistPath) lines.push(`  allowlist   proofs for buyers in ${result.allowlistPath}`)
  lines.push(`  recorded in ${result.recordPath}`)
  if (result.archived) lines.push(`  the finalized sale ${result.archived.sale} stays recorded in ${result.archived.recordPath}`)
  return lines.join('\n')
}

/**
 * The result of `imo offer buy`.
 * @example
 * renderBought(result, 'ETH') // 'Bought 100 PAT at 0.01 ETH per token for 1 ETH'
 */
export function renderBought(r: BuyResult, nativeSymbol = 'ETH'): string {
  const eth = (wei: bigint) => formatNative(wei, nativeSymbol)
  const what = `${formatNative(r.amountWei, r.symbol)} at ${eth(r.priceWei)} per token for ${eth(r.costWei)}`
  if (r.status === 'cancelled') return 'Cancelled: nothing was sent'
  if (r.status === 'dry-run') return `Dry run: buying ${what} would use ${r.gas} gas; nothing was sent`
  return [
    `Bought${r.status === 'sent' ? '' : ' (resumed)'} ${what}${r.delivered ? '' : ' (delivered after the sale if its soft cap is met)'}`,
    txLine(r.txHash, r.blockNumber),
  ]
    .filter(Boolean)
    .join('\n')
}

/**
 * The result of `imo offer finalize`, `refund` or `withdraw`.
 * @example
 * renderSettled(result, 'ETH') // 'finalize: confirmed …'
 */
export function renderSettled(r: SettleResult, nativeSymbol = 'ETH'): string {
  const eth = (wei: bigint) => formatNative(wei, nativeSymbol)
  const lines: string[] = []
  for (const s of r.steps) {
    const verb =
      s.status === 'dry-run' ? 'would succeed (dry run; nothing was sent)' : `done${s.status === 'sent' ? '' : ` (${s.status})`}`
    lines.push(`${settleCommandName(s.action)}: ${verb}${s.txHash ? `  ${s.txHash}` : ''}`)
  }
  if (r.steps.length === 0) lines.push("nothing to collect: no revenue of the sale's tokens is waiting in the token")
  if (r.collectedWei > 0n) lines.push(`  ${eth(r.collectedWei)} of revenue collected into the sale (for the seller)`)
  if (r.returnedWei > 0n) lines.push(`  ${formatNative(r.returnedWei, r.symbol)} returned to the seller`)
  if (r.paidWei > 0n) lines.push(`  ${eth(r.paidWei)} paid to you`)
  if (r.tokensWei > 0n) lines.push(`  ${formatNative(r.tokensWei, r.symbol)} delivered to you`)
  lines.push('', renderOffering(r.state, nativeSymbol))
  return lines.join('\n')
}
