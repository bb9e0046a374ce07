/**
 * The opening of every command that sends to a deployment: connect with the command's RPC, signer
 * and transaction flags, then load and check its deployment file. Loads viem only when called.
 */
import type { Command } from 'commander'
import type { ChainContext, ChainOptionValues } from '../chain/connect.js'
import type { Deployment } from '../deployment/deploymentFile.js'

/**
 * Connects to the chain from a command's options and loads the deployment (`--deployment`, or the
 * chain's default one).
 * @param cmd - the running command: its options, and where each came from (flag, env, default).
 * @param need - whether a signer is required.
 * @param signer - signer values that replace the command's (serve's own key, src/cli/serveSigner.ts),
 *   taken as coming from the environment.
 * @returns the chain context and the deployment.
 * @throws UsageError (bad flags, no deployment file), RpcError (the RPC does not answer), as connectChain and loadDeployment do.
 * @example
 * import { connectDeployment } from '../cli/connectDeployment.js'
 * const { ctx, deployment } = await connectDeployment(cmd, { signer: true })
 * deployment.imoToken.address // '0x5FbDB2315678afecb367f032d93F642f64180aa3'
 */
export async function connectDeployment(
  cmd: Command,
  need: { signer: boolean },
  signer?: Record<string, string>,
): Promise<{ ctx: ChainContext; deployment: Deployment }> {
  // A parent that defines the same flags (`imo requests --rpc-url U set-fee 1`, or the flag after the
  // subcommand, which commander gives to the parent) passes its values down: the subcommand's own win.
  let values = { ...cmd.parent?.opts(), ...definedOnly(cmd.opts()) } as ChainOptionValues & { deployment?: string }
  if (signer) {
    const { signerOptions } = await import('./options.js')
    const rest = Object.fromEntries(Object.entries(values).filter(([key]) => !Object.hasOwn(signerOptions, key)))
    values = { ...rest, ...signer } as typeof values
  }
  const { connectChain } = await import('../chain/connect.js')
  const { loadDeployment } = await import('../deployment/deploymentFile.js')
  const ctx = await connectChain(values, need, (key) =>
    signer && Object.hasOwn(signer, key) ? 'env' : (cmd.getOptionValueSource(key) ?? cmd.parent?.getOptionValueSource(key)),
  )
  return { ctx, deployment: await loadDeployment(ctx, values.deployment) }
}

function definedOnly(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined))
}
