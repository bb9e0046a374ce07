/**
 * The imo contracts use cancun opcodes (PUSH0 from shanghai; TSTORE and MCOPY from cancun, through
 * OpenZeppelin's transient reentrancy guard). On an older chain their deployment fails, in
 * simulation with an opaque node error or, worse, on chain after the gas is spent. A one-call probe
 * says so plainly before anything is signed.
 */
import type { ChainContext } from './connect.js'

/** Creation code running PUSH0 PUSH0 TSTORE, PUSH0 PUSH0 PUSH0 MCOPY, STOP: empty runtime on cancun. */
export const CANCUN_PROBE = '0x5f5f5d5f5f5f5e00' as const

/**
 * Checks that the chain executes cancun opcodes.
 * @param ctx - chain context.
 * @throws SimulationRevertedError (exit 3, nothing sent) when it does not; RpcError (6) when the node is unreachable.
 * @example
 * import { requireCancun } from './chain/requireCancun.js'
 * await requireCancun(ctx) // resolves on any chain past the cancun upgrade
 */
export async function requireCancun(ctx: Pick<ChainContext, 'publicClient' | 'chainId' | 'chainName' | 'rpcUrl'>): Promise<void> {
  try {
    await ctx.publicClient.call({ data: CANCUN_PROBE })
  } catch (error) {
    const { isConnectionError, toImoError } = await import('./toImoError.js')
    if (isConnectionError(error)) throw toImoError(error, { rpcUrl: ctx.rpcUrl })
    const { SimulationRevertedError } = await import('../errors.js')
    throw new SimulationRevertedError(
      `${ctx.chainName} (chain ${ctx.chainId}) does not run the cancun upgrade's opcodes (PUSH0, TSTORE, MCOPY), which the imo contracts need; nothing was sent`,
      { cause: error, hint: 'deploy on a chain past cancun (Ethereum since March 2024, and most L2s)' },
    )
  }
}
