/**
 * Whose balance and claimable revenue a read shows: the address given (ADDRESS or --address), else
 * the configured signer's address, else the devnet's first development account when the chain came
 * from a running `imo devnet`, else nobody.
 */
import type { Address } from 'viem'
import type { ChainContext, ChainOptionValues } from '../chain/connect.js'
import { parseAddress } from '../util/parseAddress.js'

/**
 * The holder a read is about.
 * @param ctx - chain context (fromDevnet, chainId).
 * @param values - the signer option values.
 * @param given - the address typed, if any.
 * @param options - name of the argument (for errors) and commander's getOptionValueSource.
 * @returns the address, or undefined when none is given and no signer is configured.
 * @throws UsageError (exit 2) for a malformed address or signer configuration.
 * @example
 * import { resolveHolder } from './resolveHolder.js'
 * await resolveHolder(ctx, cmd.opts(), args[0], { name: 'ADDRESS' }) // '0x7099…79C8'
 */
export async function resolveHolder(
  ctx: Pick<ChainContext, 'fromDevnet' | 'chainId'>,
  values: ChainOptionValues,
  given: string | undefined,
  options: { name: string; sources?: (key: string) => string | undefined },
): Promise<Address | undefined> {
  if (given !== undefined) return parseAddress(given, options.name)
  const configured = [values.privateKey, values.privateKeyFile, values.keystore, values.account, values.mnemonicFile].some(
    (value) => typeof value === 'string' && value.length > 0,
  )
  if (configured) {
    const { keystoreAddressOf, resolveSigner } = await import('../signer/resolveSigner.js')
    // A read only needs the address: a keystore that declares it is not decrypted (no password asked).
    const onlyKeystore = [values.privateKey, values.privateKeyFile, values.mnemonicFile].every((value) => !value)
    const declared = onlyKeystore && !(values.keystore && values.account) ? keystoreAddressOf(values) : undefined
    if (declared) return parseAddress(declared, values.keystore ? '--keystore address' : '--account address')
    const { isInteractive, warn } = await import('../cli/ui.js')
    const { account } = await resolveSigner(values, {
      ...(options.sources ? { sources: options.sources } : {}),
      warn,
      interactive: isInteractive(),
    })
    return account.address
  }
  if (ctx.fromDevnet && ctx.chainId === 31337) {
    const { ANVIL_DEV_ACCOUNTS } = await import('../devnet/startAnvil.js')
    return ANVIL_DEV_ACCOUNTS[0].address
  }
  return undefined
}
