/**
 * The human rendering of a claim in several currencies (`imo claim` on a token with ERC-20 revenue
 * currencies): one row per snapshot and currency, each amount in its currency's own units.
 */
import { renderTable } from '../cli/table.js'
import type { MultiClaimResult } from './claimCurrencies.js'
import { formatCurrency } from './resolveCurrency.js'
import type { WithdrawCreditsResult } from './withdrawCredits.js'

/**
 * Renders a multi-currency claim.
 * @param result - what claimCurrencies returned.
 * @param fee - formats a fee in wei (the native currency).
 * @returns the text, no trailing newline.
 * @example
 * renderCurrencyClaim(result, (wei) => formatNative(wei)) // 'Claimed by 0xf39F…\n snapshot  amount …'
 */
export function renderCurrencyClaim(result: MultiClaimResult, fee: (wei: bigint) => string): string {
  if (result.status === 'nothing') return `Nothing to claim: ${result.reason}`
  const rows = result.currencies.flatMap((c) => [
    ...c.snapshots.map((s) => [String(s.id), formatCurrency(s.amount, c.currency)]),
    ['total', formatCurrency(c.total, c.currency)],
  ])
  const table = renderTable(rows, { header: ['snapshot', 'amount'], align: ['right', 'right'] })
  const credited = result.currencies
    .filter((c) => c.credited > 0n)
    .map(
      (c) =>
        `  ${formatCurrency(c.credited, c.currency)} could not be transferred to ${result.holder} (the currency refused it): it is credited on the token and stays yours`,
    )
  if (result.status === 'dry-run')
    return `Dry run: ${result.holder} would claim\n${table}\n  gas ${result.gas}, at most ${fee(result.costWei ?? 0n)}; nothing was sent`
  return [
    `Claimed by ${result.holder}${result.status === 'sent' ? '' : ' (resumed)'}`,
    table,
    ...credited,
    `  transaction ${result.hash ?? '(ours was replaced; another transaction did it)'}${result.blockNumber !== undefined ? ` (block ${result.blockNumber}, fee ${fee(result.costWei ?? 0n)})` : ''}`,
  ].join('\n')
}

/**
 * Renders a withdrawal of credits (`imo claim --credits`): one line per currency.
 * @param result - what withdrawCredits returned.
 * @param fee - formats a fee in wei (the native currency).
 * @returns the text, no trailing newline.
 * @example
 * renderCreditWithdrawals(result, (wei) => formatNative(wei))
 * // 'Credits withdrawn by 0xf39F…\n  15 USDC  transaction 0x… (block 12, fee 0.0001 ETH)'
 */
export function renderCreditWithdrawals(result: WithdrawCreditsResult, fee: (wei: bigint) => string): string {
  if (result.status === 'nothing') return `Nothing to withdraw: ${result.reason}`
  const lines = result.withdrawals.map((w) => {
    const amount = formatCurrency(w.amountWei, w.currency)
    if (w.status === 'dry-run') return `  ${amount}  gas ${w.gas}, at most ${fee(w.costWei ?? 0n)}`
    const block = w.blockNumber !== undefined ? ` (block ${w.blockNumber}, fee ${fee(w.costWei ?? 0n)})` : ''
    return `  ${amount}  transaction ${w.txHash ?? '(ours was replaced; another transaction did it)'}${block}${w.status === 'sent' ? '' : ' (resumed)'}`
  })
  if (result.status === 'dry-run') return [`Dry run: ${result.holder} would withdraw`, ...lines, '  nothing was sent'].join('\n')
  return [`Credits withdrawn by ${result.holder}`, ...lines].join('\n')
}
