/**
 * Takes a snapshot of an IMO token: splits the pending revenue between the new snapshot's claim pool
 * and the redemption pool, and expires the snapshot that leaves the claim window (its remainder rolls
 * into the new pool). Refused before the interval allows it, with the date and the time left.
 *
 * Step id: `snapshot:<token>:<new snapshot id>[@key:<KEY>]`. An open snapshot step in the journal
 * (interrupted before its receipt was recorded) is resumed instead of sending another; with `--key K`
 * a re-run reports the snapshot taken under K (exit 0) instead of refusing it as too early.
 */
import type { Address, Hex } from 'viem'
import { imoTokenAbi } from '../../contracts-abi/index.js'
import type { ChainContext } from '../chain/connect.js'
import { ExitCode, ImoError, SimulationRevertedError } from '../errors.js'

/** The interval does not allow a snapshot yet; nothing was sent (exit 3, like a refused simulation). */
export class SnapshotTooEarlyError extends ImoError {
  override name = 'SnapshotTooEarlyError'
  readonly nextSnapshotTimestamp: number
  constructor(message: string, nextSnapshotTimestamp: number) {
    super(message, {
      exitCode: ExitCode.SimulationReverted,
      hint: 'the token allows one snapshot per interval; re-run after that time',
    })
    this.nextSnapshotTimestamp = nextSnapshotTimestamp
  }
}

export interface SnapshotPlan {
  token: Address
  /** The id the new snapshot gets. */
  snapshotId: number
  pendingRevenueWei: bigint
  toClaimPoolWei: bigint
  toRedemptionWei: bigint
  /** Unclaimed remainder of the snapshot this one expires (rolls into the new pool). */
  rolledOverWei: bigint
  /** The snapshot this one expires, if any. */
  expiresSnapshot?: number
  nextSnapshotAt: number
  now: number
}

export interface SnapshotResult extends SnapshotPlan {
  status: 'sent' | 'resumed' | 'already-confirmed' | 'dry-run' | 'cancelled'
  stepId: string
  txHash?: Hex
  blockNumber?: bigint
  gas: bigint
  costWei?: bigint
  /** The new snapshot's claim pool as recorded on chain (after sending). */
  claimPoolWei?: bigint
  /** When the snapshot after this one is allowed (after sending). */
  followingSnapshotAt?: number
}

/**
 * Reads what a snapshot taken now would do, and whether the interval allows it.
 * @param ctx - chain context.
 * @param token - the IMO token.
 * @returns the plan; `now >= nextSnapshotTimestamp` when allowed.
 * @example
 * import { planSnapshot } from './takeSnapshot.js'
 * const plan = await planSnapshot(ctx, token)
 * plan.snapshotId // 1
 */
export async function planSnapshot(ctx: Pick<ChainContext, 'publicClient' | 'rpcUrl'>, token: Address): Promise<SnapshotPlan> {
  const { callsTo, readMany } = await import('./readMany.js')
  const { chainNow } = await import('./chainNow.js')
  const read = callsTo(token, imoTokenAbi)
  const [[currentId, next, pending, [toClaimPoolWei, toRedemptionWei], claimWindow], now] = await Promise.all([
    readMany(ctx, [
      read('currentSnapshotId'),
      read('nextSnapshotTimestamp'),
      read('pendingRevenue'),
      read('pendingSplit'),
      read('claimWindow'),
    ]) as Promise<[bigint, bigint, bigint, readonly [bigint, bigint], number]>,
    chainNow(ctx),
  ])
  const snapshotId = Number(currentId) + 1
  const expiresSnapshot = snapshotId > claimWindow ? snapshotId - claimWindow : undefined
  let rolledOverWei = 0n
  if (expiresSnapshot !== undefined) {
    const [[claimPool, claimed]] = (await readMany(ctx, [read('snapshotInfo', [BigInt(expiresSnapshot)])])) as [
      [bigint, bigint, bigint, bigint, boolean],
    ]
    rolledOverWei = claimPool - claimed
  }
  return {
    token,
    snapshotId,
    pendingRevenueWei: pending,
    toClaimPoolWei,
    toRedemptionWei,
    rolledOverWei,
    ...(expiresSnapshot !== undefined ? { expiresSnapshot } : {}),
    nextSnapshotAt: Number(next),
    now,
  }
}

/**
 * Takes the next snapshot (after a confirmation), or resumes an interrupted one.
 * @param ctx - chain context with a signer.
 * @param token - the IMO token.
 * @param options - yes: skip the confirmation (required without a terminal).
 * @returns the plan and the outcome.
 * @throws SnapshotTooEarlyError (3) before the interval allows it; InputNeededError (2) without --yes and no
 *   terminal; chain errors from sendStep.
 * @example
 * import { takeSnapshot } from './takeSnapshot.js'
 * const result = await takeSnapshot(ctx, token, { yes: true })
 * result.snapshotId // 1
 */
export async function takeSnapshot(ctx: ChainContext, token: Address, options: { yes?: boolean } = {}): Promise<SnapshotResult> {
  if (!ctx.account) throw new ImoError('takeSnapshot needs a chain context with a signer')
  const { formatNative } = await import('../chain/format.js')
  const { formatWhen } = await import('../cli/time.js')
  const { findKeyedStep, findOpenStep, keySuffix } = await import('./journalSteps.js')
  const { sendStep, summarizeOutcome } = await import('../chain/sendStep.js')
  const { callsTo, readMany } = await import('./readMany.js')
  const tokenKey = token.toLowerCase()
  const fmt = (wei: bigint) => formatNative(wei, ctx.nativeSymbol)
  const plan = await planSnapshot(ctx, token)
  let stepId: string
  const prefix = `snapshot:${tokenKey}:`
  const key = ctx.tx.key
  const keyed = ctx.journal && key ? findKeyedStep(ctx.journal, prefix, key) : undefined
  const open = keyed ?? (ctx.journal ? findOpenStep(ctx.journal, prefix) : undefined)
  if (open) {
    stepId = open.id
    plan.snapshotId = Number(open.id.slice(prefix.length).split('@')[0])
    const { note } = await import('../cli/ui.js')
    note(
      keyed
        ? `--key ${key}: snapshot ${plan.snapshotId}, taken under this key, is reported; nothing new is sent`
        : `resuming the interrupted snapshot ${plan.snapshotId} recorded in the journal${open.txHash ? ` (${open.txHash})` : ''}`,
    )
  } else {
    if (plan.now < plan.nextSnapshotAt)
      throw new SnapshotTooEarlyError(
        `too early for snapshot ${plan.snapshotId}: the interval allows it from ${formatWhen(plan.nextSnapshotAt, plan.now)}; nothing was sent`,
        plan.nextSnapshotAt,
      )
    stepId = `${prefix}${plan.snapshotId}${key ? keySuffix(key) : ''}`
    if (!ctx.tx.dryRun) {
      const { confirmAction } = await import('./confirmAction.js')
      const rolled =
        plan.rolledOverWei > 0n ? ` plus ${fmt(plan.rolledOverWei)} rolled over from snapshot ${plan.expiresSnapshot}` : ''
      const ok = await confirmAction(
        `Take snapshot ${plan.snapshotId} now? It splits ${fmt(plan.pendingRevenueWei)} of pending revenue: ${fmt(plan.toClaimPoolWei)} to holders${rolled}, ${fmt(plan.toRedemptionWei)} to the redemption pool. It cannot be undone.`,
        { skip: Boolean(options.yes), flag: '--yes', what: `snapshot ${plan.snapshotId}` },
      )
      if (!ok) return { ...plan, status: 'cancelled', stepId, gas: 0n }
    }
  }
  let outcome: Awaited<ReturnType<typeof sendStep>>
  try {
    outcome = await sendStep(ctx, {
      id: stepId,
      label: `snapshot ${plan.snapshotId}`,
      to: token,
      data: (await import('viem')).encodeFunctionData({ abi: imoTokenAbi, functionName: 'snapshot' }),
      abi: imoTokenAbi,
      // Replaced by another transaction: done if the snapshot exists anyway (anyone may take it).
      effect: async () =>
        (((await readMany(ctx, [callsTo(token, imoTokenAbi)('currentSnapshotId')])) as [bigint])[0] ?? 0n) >=
        BigInt(plan.snapshotId),
    })
  } catch (error) {
    // The interval has passed by the clock, but the node simulates at its latest block, which is older
    // (an idle anvil mines no block until a transaction arrives).
    if (error instanceof SimulationRevertedError && /SnapshotTooEarly/.test(error.shortMessage))
      throw new SimulationRevertedError(error.shortMessage, {
        cause: error,
        hint: `the node evaluates the call at its latest block, older than ${formatWhen(plan.nextSnapshotAt, plan.now)}; re-run once a newer block is mined`,
      })
    throw error
  }
  const result: SnapshotResult = {
    ...plan,
    ...summarizeOutcome(outcome),
    stepId,
  }
  const { parseEventLogs } = await import('viem')
  const [taken] = outcome.receipt
    ? parseEventLogs({ abi: imoTokenAbi, logs: outcome.receipt.logs, eventName: 'SnapshotTaken' })
    : []
  if (taken) {
    // What the mined transaction did (a resumed snapshot may differ from the plan made now).
    result.snapshotId = Number(taken.args.id)
    result.toRedemptionWei = taken.args.toRedemption
    result.rolledOverWei = taken.args.rolledOver
    result.toClaimPoolWei = taken.args.claimPool - taken.args.rolledOver
    result.pendingRevenueWei = result.toClaimPoolWei + taken.args.toRedemption
  }
  if (outcome.status !== 'dry-run') {
    const read = callsTo(token, imoTokenAbi)
    const [[claimPool], following] = (await readMany(ctx, [
      read('snapshotInfo', [BigInt(plan.snapshotId)]),
      read('nextSnapshotTimestamp'),
    ])) as [[bigint], bigint]
    result.claimPoolWei = claimPool
    result.followingSnapshotAt = Number(following)
  }
  return result
}
