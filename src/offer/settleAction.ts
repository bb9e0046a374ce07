/**
 * The ways an offering is settled, and the `imo offer` subcommand of each. Its own module, free of
 * viem and the ABIs, so the command definitions can name their subcommands without loading them.
 */

export type SettleAction = 'finalize' | 'refund' | 'withdraw' | 'deliver' | 'claimRevenue'

/**
 * The subcommand that runs an action, as typed on the command line.
 * @example
 * settleCommandName('claimRevenue') // 'claim-revenue'
 */
export function settleCommandName(action: SettleAction): string {
  return action === 'claimRevenue' ? 'claim-revenue' : action
}
