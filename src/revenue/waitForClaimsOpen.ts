/**
 * Claims on a snapshot open one second after it was taken (its balances are those at the end of its
 * second), and `claimableRevenue` answers 0 until then. Right after `imo snapshot`, the latest block
 * is still the snapshot's own (a devnet makes no block until the next transaction), so a holder with
 * revenue there reads 0. This waits, bounded and saying so, until the block a claim would land in
 * (the node's pending block) is past the snapshot's second, and then reads what the holder can claim
 * in it. Reusable for every currency a token pays revenue in: the caller reads its own amounts.
 */
import type { ChainContext } from '../chain/connect.js'
import { SimulationRevertedError } from '../errors.js'

export interface OpeningSnapshot {
  id: number
  /** When the snapshot was taken (unix seconds); claims open at takenAt + 1. */
  takenAt: number
}

export interface WaitForClaimsOpenOptions {
  /** Wait for the opening (default), or refuse at once saying when it opens (`--no-wait`). */
  wait: boolean
  /** Longest wait (default 60 s: a few blocks of a slow chain). */
  maxWaitMs?: number
  /** How often the node is asked again (default 500 ms). */
  pollMs?: number
  /** Told once, when a wait begins: what is awaited and until when. */
  onWait?: (text: string) => void
}

/**
 * Waits until claims on every snapshot are open in the node's pending block, then reads the amounts.
 * @param ctx - chain context (reads the pending block; falls back to this machine's clock when the
 *   node does not serve one).
 * @param snapshots - snapshots whose claims may not be open yet.
 * @param readPending - reads what the holder can claim from each snapshot at the pending block.
 * @param options - wait or not, bounds, progress.
 * @returns the amount claimable now per snapshot id.
 * @throws SimulationRevertedError (exit 3: a claim now would revert ClaimNotOpen, nothing is sent)
 *   with `--no-wait`, or when the claims are still not open after the longest wait; naming when they open.
 * @example
 * import { waitForClaimsOpen } from './waitForClaimsOpen.js'
 * const amounts = await waitForClaimsOpen(ctx, [{ id: 3, takenAt: 1717243380 }], (ids) => readAtPending(ids), { wait: true, onWait: note })
 * amounts.get(3) // 500000000000000000n
 */
export async function waitForClaimsOpen(
  ctx: Pick<ChainContext, 'publicClient'>,
  snapshots: readonly OpeningSnapshot[],
  readPending: (ids: number[]) => Promise<bigint[]>,
  options: WaitForClaimsOpenOptions,
): Promise<Map<number, bigint>> {
  const ids = snapshots.map((snapshot) => snapshot.id)
  const opensAt = Math.max(...snapshots.map((snapshot) => snapshot.takenAt + 1))
  const maxWaitMs = options.maxWaitMs ?? 60_000
  const started = Date.now()
  let told = false
  const { pendingTimestamp } = await import('./chainNow.js')
  for (;;) {
    const pending = await pendingTimestamp(ctx)
    if (pending >= opensAt) {
      const amounts = await readPending(ids)
      return new Map(ids.map((id, index) => [id, amounts[index] ?? 0n]))
    }
    const { formatWhen } = await import('../cli/time.js')
    const what = `claims on snapshot${ids.length === 1 ? '' : 's'} ${ids.join(', ')} open at ${formatWhen(opensAt, pending)}`
    if (!options.wait)
      throw new SimulationRevertedError(`${what}: nothing was sent`, {
        hint: 'run imo claim again then, or without --no-wait to wait for it',
      })
    if (Date.now() - started >= maxWaitMs)
      throw new SimulationRevertedError(
        `${what}, and after ${Math.round(maxWaitMs / 1000)} s the chain's next block is still before that: nothing was sent`,
        { hint: 'run imo claim again once the chain has made a block after that time' },
      )
    if (!told) options.onWait?.(`${what}; waiting (--no-wait to stop instead)`)
    told = true
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500))
  }
}
