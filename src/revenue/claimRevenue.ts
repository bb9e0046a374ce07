/**
 * Claims the signer's revenue from an IMO token: every live snapshot with something claimable in one
 * `claimBatch` transaction (one `claim` when there is one), or the snapshot asked for. The contract
 * pays the holder (msg.sender), so there is no recipient to choose. A snapshot taken this second
 * (claims open a second later) is waited for, or, with `wait: false`, refused saying when it opens:
 * revenue the holder has is never reported as nothing to claim.
 *
 * Step id: claimStep.ts (no `#` part: the native claim). A claim cannot be repeated (the contract
 * refuses AlreadyClaimed), and an open claim step in the journal is resumed before anything else;
 * with `--key K` a re-run reports the claim made under K (exit 0). The caller routes an open
 * per-currency step to claimCurrencies (findClaimStep tells which kind it is).
 */
import type { Address, Hex } from 'viem'
import { imoTokenAbi } from '../../contracts-abi/index.js'
import type { ChainContext } from '../chain/connect.js'
import { ImoError, UsageError } from '../errors.js'
import type { ClaimableReport } from './readClaimable.js'

export interface ClaimResult {
  /** 'nothing': nothing to claim (exit 0), see `reason`. */
  status: 'sent' | 'resumed' | 'already-confirmed' | 'dry-run' | 'nothing'
  token: Address
  holder: Address
  /** The snapshots claimed (or to be claimed, for a dry run) and the amount of each. */
  snapshots: Array<{ id: number; amountWei: bigint }>
  totalWei: bigint
  /** Why nothing was claimed. */
  reason?: string
  stepId?: string
  hash?: Hex
  blockNumber?: bigint
  gas?: bigint
  costWei?: bigint
}

/**
 * Claims what the signer can claim.
 * @param ctx - chain context with a signer.
 * @param token - the IMO token.
 * @param options - snapshot: claim only this snapshot id; wait: wait for claims that open within the
 *   next blocks (default true); onWait: told when a wait begins.
 * @returns the claimed snapshots and amounts, or status 'nothing' with a reason.
 * @throws UsageError (2) for an unknown snapshot id; SimulationRevertedError (3) when claims are not
 *   open yet and `wait` is false (or they stay closed for a minute); chain errors from sendStep.
 * @example
 * import { claimRevenue } from './claimRevenue.js'
 * const result = await claimRevenue(ctx, deployment.imoToken.address)
 * result.snapshots // [{ id: 2, amountWei: 500000000000000000n }, { id: 3, amountWei: 1125000000000000000n }]
 */
export async function claimRevenue(
  ctx: ChainContext,
  token: Address,
  options: { snapshot?: number; wait?: boolean; onWait?: (text: string) => void } = {},
): Promise<ClaimResult> {
  const account = ctx.account
  if (!account) throw new ImoError('claimRevenue needs a chain context with a signer')
  const holder = account.address
  const { claimStepId, claimStepPrefix, findClaimStep, noteClaimStep } = await import('./claimStep.js')
  const { readClaimable } = await import('./readClaimable.js')
  const { sendStep, summarizeOutcome } = await import('../chain/sendStep.js')
  const { encodeFunctionData, parseEventLogs } = await import('viem')
  const prefix = claimStepPrefix(token, holder)
  const base = { token, holder }

  let ids: number[]
  let expected = new Map<number, bigint>()
  const key = ctx.tx.key
  const found = findClaimStep(ctx.journal, prefix, key)
  if (found?.currencies)
    throw new ImoError(`the journalled claim ${found.step.id} is a per-currency claim: claimCurrencies resumes it`)
  const keyed = found?.keyed ? found.step : undefined
  let stepId: string | undefined
  if (found) {
    stepId = found.step.id
    ids = found.ids
    await noteClaimStep(found, key, [ctx.nativeSymbol])
  } else {
    const report = await readClaimable(ctx, token, holder)
    await addOpeningClaims(ctx, token, holder, report, options)
    if (options.snapshot !== undefined) {
      const id = options.snapshot
      checkSnapshotId(id, report)
      const live = report.live.find((snapshot) => snapshot.id === id)
      let reason: string | undefined
      if (!live)
        reason = `snapshot ${id} expired when snapshot ${id + report.claimWindow} was taken; its unclaimed remainder rolled into that snapshot's pool`
      else if (live.claimed) reason = `${holder} already claimed snapshot ${id}`
      else if ((live.claimableWei ?? 0n) === 0n)
        reason = `${holder} has nothing to claim from snapshot ${id} (no balance at the snapshot, or an empty pool)`
      if (reason) return { ...base, status: 'nothing', snapshots: [], totalWei: 0n, reason }
      ids = [id]
    } else {
      ids = report.claimable.map((snapshot) => snapshot.id)
      if (ids.length === 0)
        return {
          ...base,
          status: 'nothing',
          snapshots: [],
          totalWei: 0n,
          reason:
            report.currentSnapshotId === 0
              ? 'the token has no snapshot yet'
              : `${holder} has no revenue in the ${report.live.length} live snapshot(s)`,
        }
    }
    expected = new Map(report.claimable.map((snapshot) => [snapshot.id, snapshot.claimableWei ?? 0n]))
  }

  const data =
    ids.length === 1
      ? encodeFunctionData({ abi: imoTokenAbi, functionName: 'claim', args: [BigInt(ids[0]!)] })
      : encodeFunctionData({ abi: imoTokenAbi, functionName: 'claimBatch', args: [ids.map(BigInt)] })
  stepId ??= claimStepId(prefix, ids, undefined, key)
  const outcome = await sendStep(ctx, {
    id: stepId,
    label: ids.length === 1 ? `claim snapshot ${ids[0]}` : `claim snapshots ${ids.join(', ')}`,
    to: token,
    data,
    abi: imoTokenAbi,
    // Replaced by another transaction: done if every snapshot is claimed anyway.
    effect: async () => {
      const { callsTo, readMany } = await import('./readMany.js')
      const read = callsTo(token, imoTokenAbi)
      const claimed = (await readMany(
        ctx,
        ids.map((id) => read('hasClaimed', [holder, BigInt(id)])),
      )) as boolean[]
      return claimed.every(Boolean)
    },
  })
  // A claim reported from the journal (--key re-run) has no receipt in hand: fetch it for the amounts.
  const receipt =
    outcome.receipt ??
    (keyed && outcome.hash
      ? await ctx.publicClient.getTransactionReceipt({ hash: outcome.hash }).catch(() => undefined)
      : undefined)
  if (receipt) {
    for (const log of parseEventLogs({ abi: imoTokenAbi, logs: receipt.logs, eventName: 'RevenueClaimed' }))
      expected.set(Number(log.args.snapshotId), log.args.amount)
  }
  const snapshots = ids.map((id) => ({ id, amountWei: expected.get(id) ?? 0n }))
  return {
    ...base,
    ...summarizeOutcome(outcome),
    snapshots,
    totalWei: snapshots.reduce((sum, snapshot) => sum + snapshot.amountWei, 0n),
    stepId,
  }
}

/**
 * Snapshots where the holder has a share that claims cannot take yet (`opensAt`, their second is still
 * the chain's pending one): waits for the opening (waitForClaimsOpen) and puts the amounts a claim
 * sent then gets into the report (in the report's currency), so they are claimed instead of reported as nothing.
 * @example
 * await addOpeningClaims(ctx, token, holder, report, { wait: true })
 */
export async function addOpeningClaims(
  ctx: ChainContext,
  token: Address,
  holder: Address,
  report: ClaimableReport,
  options: { snapshot?: number; wait?: boolean; onWait?: (text: string) => void },
): Promise<void> {
  const opening = report.live.filter(
    (s) => s.opensAt !== undefined && (options.snapshot === undefined || s.id === options.snapshot),
  )
  if (opening.length === 0) return
  const { waitForClaimsOpen } = await import('./waitForClaimsOpen.js')
  const { callsTo, readMany } = await import('./readMany.js')
  const read = callsTo(token, imoTokenAbi)
  const amounts = await waitForClaimsOpen(
    ctx,
    opening,
    async (ids) =>
      (await readMany(
        ctx,
        ids.map((id) => read('claimableRevenue', report.currency ? [holder, BigInt(id), report.currency] : [holder, BigInt(id)])),
        { blockTag: 'pending' },
      )) as bigint[],
    { wait: options.wait ?? true, ...(options.onWait ? { onWait: options.onWait } : {}) },
  )
  for (const snapshot of opening) snapshot.claimableWei = amounts.get(snapshot.id) ?? 0n
  report.claimable = report.live.filter((s) => (s.claimableWei ?? 0n) > 0n)
  report.totalWei = report.claimable.reduce((sum, s) => sum + (s.claimableWei ?? 0n), 0n)
}

/**
 * Refuses a snapshot id the token never had (exit 2), naming the range there is.
 * @example
 * checkSnapshotId(9, report) // UsageError 'unknown snapshot 9: snapshot ids run from 1 to 3'
 */
export function checkSnapshotId(id: number, report: Pick<ClaimableReport, 'currentSnapshotId'>): void {
  if (!Number.isSafeInteger(id) || id < 1 || id > report.currentSnapshotId)
    throw new UsageError(
      report.currentSnapshotId === 0
        ? `unknown snapshot ${id}: the token has no snapshot yet`
        : `unknown snapshot ${id}: snapshot ids run from 1 to ${report.currentSnapshotId}`,
    )
}
