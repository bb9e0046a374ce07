/**
 * The human screen of `imo status`: sections of aligned fields and tables, from a StatusReport.
 */
import { formatNative } from '../chain/format.js'
import { escapeControl } from '../cli/escapeControl.js'
import { renderFields, renderTable } from '../cli/table.js'
import { formatDuration, formatWhen } from '../cli/time.js'
import type { StatusReport } from './readStatus.js'
import { formatCurrency } from './resolveCurrency.js'

/**
 * Renders a status report for people.
 * @param status - the report from readStatus.
 * @returns the text (no trailing newline).
 * @example
 * import { renderStatus } from './renderStatus.js'
 * console.log(renderStatus(await readStatus(ctx, deployment)))
 */
export function renderStatus(status: StatusReport): string {
  const fmt = (wei: bigint) => formatNative(wei, status.chain.nativeSymbol)
  const tokens = (units: bigint) => formatNative(units, status.token.symbol)
  const when = (at: number) => formatWhen(at, status.now)
  const { token, pools, collection, account } = status
  const lines: string[] = [`${status.chain.name} (chain ${status.chain.id}), block ${status.blockNumber}`, '', 'Model']
  lines.push(
    renderFields([
      ['hash', status.model.modelHash],
      ['URI', status.model.uri || '(none)'],
      ['path', status.model.path],
    ]),
  )
  lines.push('', `Token ${escapeControl(token.name)} (${escapeControl(token.symbol)})  ${token.address}`)
  lines.push(
    renderFields([
      ['supply', tokens(token.totalSupplyWei)],
      ['holders', token.holders === null ? `unknown (${token.holdersNote})` : String(token.holders)],
      ['claimable share', `${token.percentClaimable} % of each snapshot's revenue (the rest backs redemption)`],
      ['snapshot interval', `${formatDuration(token.snapshotInterval)}; claim window ${token.claimWindow} snapshot(s)`],
      [
        'snapshots',
        token.currentSnapshotId === 0 ? 'none yet' : `${token.currentSnapshotId}, latest ${when(token.lastSnapshotAt)}`,
      ],
      [
        'next snapshot',
        token.nextSnapshotAt <= status.now ? `allowed now (since ${when(token.nextSnapshotAt)})` : when(token.nextSnapshotAt),
      ],
    ]),
  )
  lines.push('', 'Pools')
  lines.push(
    renderFields([
      ['pending revenue', `${fmt(pools.pendingRevenueWei)} (split at the next snapshot)`],
      ['redemption pool', fmt(pools.redemptionPoolWei)],
      ['unclaimed', `${fmt(pools.unclaimedWei)} in ${pools.snapshots.length} live snapshot(s)`],
      ['token balance', fmt(token.balanceWei)],
    ]),
  )
  if (pools.snapshots.length > 0)
    lines.push(
      renderTable(
        pools.snapshots.map((s) => [
          String(s.id),
          when(s.takenAt),
          fmt(s.claimPoolWei),
          fmt(s.remainingWei),
          `with snapshot ${s.expiresWithSnapshot}`,
        ]),
        {
          header: ['snapshot', 'taken', 'pool', 'left', 'expires'],
          align: ['right', 'left', 'right', 'right', 'left'],
          indent: '    ',
        },
      ),
    )
  for (const pool of status.currencyPools) {
    const units = (amount: bigint) => formatCurrency(amount, pool.currency)
    lines.push('', `Pools in ${escapeControl(pool.currency.symbol)}  ${pool.currency.address}`)
    lines.push(
      renderFields([
        ['pending revenue', `${units(pool.pendingRevenueWei)} (split at the next snapshot)`],
        ['redemption pool', units(pool.redemptionPoolWei)],
        ['unclaimed', units(pool.unclaimedWei)],
        ['token balance', units(pool.balanceWei)],
        ['credits', `${units(pool.creditsWei)} (payouts the currency refused, owed to holders)`],
        ...(pool.account
          ? ([
              ['your claimable', units(pool.account.claimableWei)],
              ['your redeemable', `${units(pool.account.redeemableWei)} for burning the whole balance`],
              ...(pool.account.creditWei > 0n
                ? [['your credit', `${units(pool.account.creditWei)} (imo claim --credits withdraws it)`]]
                : []),
            ] as Array<[string, string]>)
          : []),
      ]),
    )
  }
  lines.push('', `Collection ${escapeControl(collection.name)} (${escapeControl(collection.symbol)})  ${collection.address}`)
  lines.push(
    renderFields([
      ['minted', String(collection.totalMinted)],
      ['mint fee', fmt(collection.mintFeeWei)],
      ['royalty', `${collection.royaltyBps / 100} % to ${collection.royaltyReceiver}`],
      collection.proofScheme === 'zk'
        ? ['proofs', 'zk: the collection verifies each proof on chain (no attester)']
        : ['attesters', collection.attesters.length === 0 ? '(none)' : collection.attesters.join(', ')],
    ]),
  )
  lines.push('', renderRequests(status))
  if (account) {
    lines.push('', `Account ${account.address}`)
    lines.push(
      renderFields([
        ['balance', `${tokens(account.tokenBalanceWei)} (${account.sharePercent} % of the supply)`],
        ['native balance', fmt(account.nativeBalanceWei)],
        ['claimable', fmt(account.claimableWei)],
        ['redeemable', `${fmt(account.redeemableWei)} for burning the whole balance`],
      ]),
    )
    if (account.claimable.length > 0)
      lines.push(
        renderTable(
          account.claimable.map((c) => [
            String(c.id),
            fmt(c.amountWei),
            `with snapshot ${c.expiresWithSnapshot}, not before ${when(c.earliestExpiryAt)}`,
          ]),
          { header: ['snapshot', 'claimable', 'expires (rolls over)'], align: ['right', 'right', 'left'], indent: '    ' },
        ),
      )
  }
  return lines.join('\n')
}

/**
 * The "Requests" section: the request fee and timeout, and the open requests with their escrow.
 * @param status - the report from readStatus.
 * @returns the section's lines (heading included).
 * @example
 * renderRequests(status)
 * // 'Requests\n  fee       0.001 ETH per request, escrowed until fulfilled (then revenue) or refunded\n  …'
 */
export function renderRequests(status: StatusReport): string {
  const fmt = (wei: bigint) => formatNative(wei, status.chain.nativeSymbol)
  const r = status.requests
  if (r === null)
    return ['Requests', renderFields([['paid requests', 'none: a zk collection takes none; anyone mints with a proof']])].join(
      '\n',
    )
  const open =
    r.open === null
      ? `${fmt(r.openEscrowWei)} escrowed; ${r.note}`
      : r.open === 0
        ? 'none'
        : `${r.open} (${fmt(r.openEscrowWei)} escrowed)${r.expired ? `, ${r.expired} expired (refundable)` : ''}`
  return [
    'Requests',
    renderFields([
      ['fee', `${fmt(r.feeWei)} per request, escrowed until fulfilled (then revenue) or refunded`],
      ['timeout', `${formatDuration(r.timeoutSeconds)} (refundable after)`],
      ['open', open],
      [
        'oldest open',
        r.oldestOpen ? `request ${r.oldestOpen.id}, expires ${formatWhen(r.oldestOpen.expiresAt, status.now)}` : undefined,
      ],
      ['requests so far', String(r.total)],
    ]),
  ].join('\n')
}
