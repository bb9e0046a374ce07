/**
 * imo serve's own key. serve holds its signer's journal lock for as long as it runs, so `snapshot`,
 * `claim`, `revenue deposit` and every other sending command with the same key would wait for it
 * forever (exit 7). The set-up is a key for serve alone: an attester of the collection that also pays
 * the fulfilment gas, given to serve by the signer variables with `SERVE_` after `IMO_`
 * (`IMO_SERVE_KEYSTORE` + `IMO_SERVE_PASSWORD_FILE`, `IMO_SERVE_ACCOUNT`, `IMO_SERVE_PRIVATE_KEY_FILE`,
 * ...), in the environment or `.env` beside the operator's own `IMO_KEYSTORE`. `imo init` offers it.
 */
import type { Command } from 'commander'
import { signerOptions } from './options.js'

/** The variable of serve's own key for a signer option: IMO_KEYSTORE -> IMO_SERVE_KEYSTORE. */
export function serveVariable(operatorVariable: string): string {
  return operatorVariable.replace(/^IMO_/, 'IMO_SERVE_')
}

/**
 * serve's signer values from the `IMO_SERVE_*` variables, unless a signer flag was typed on serve's
 * command line (a flag wins, as everywhere).
 * @param cmd - the serve command (for where each signer value came from).
 * @param env - the environment (.env already loaded into it).
 * @returns the signer values to use instead of the operator's, or undefined when none is set.
 * @example
 * serveSignerValues(cmd, { IMO_SERVE_KEYSTORE: 'serve.json' }) // { keystore: 'serve.json' }
 */
export function serveSignerValues(
  cmd: Pick<Command, 'getOptionValueSource'>,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> | undefined {
  const keys = Object.keys(signerOptions) as Array<keyof typeof signerOptions>
  if (keys.some((key) => cmd.getOptionValueSource(key) === 'cli')) return undefined
  const values: Record<string, string> = {}
  for (const key of keys) {
    const value = env[serveVariable(signerOptions[key].envVar!)]
    if (value) values[key] = value
  }
  return Object.keys(values).length > 0 ? values : undefined
}
