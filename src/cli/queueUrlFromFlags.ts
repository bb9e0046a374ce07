/**
 * The `--queue` URL of the command that runs (worker, serve, requests, status, requests retry), from
 * its own flags or its parent's (`imo requests retry 3 --queue U` gives --queue to `requests`).
 */
import type { Command } from 'commander'

/**
 * Resolves `--queue` / `IMO_QUEUE` with `--queue-password-file`: parsed first (credentials hidden in
 * every message), with a warning when a password was typed on the command line.
 * @param cmd - the running command.
 * @returns the URL to hand on, or undefined when no queue is given.
 * @throws UsageError (exit 2) for a bad URL or password file.
 * @example
 * import { queueUrlFromFlags } from '../cli/queueUrlFromFlags.js'
 * const queue = await queueUrlFromFlags(cmd) // 'redis://:…@10.0.0.5:6379/0' or undefined
 */
export async function queueUrlFromFlags(cmd: Command): Promise<string | undefined> {
  const values = cmd.optsWithGlobals() as { queue?: string; queuePasswordFile?: string }
  let source: string | undefined
  for (let at: Command | null = cmd; at && source === undefined; at = at.parent) source = at.getOptionValueSource('queue')
  const { resolveQueueUrl } = await import('../queue/connectRedis.js')
  const { warn } = await import('./ui.js')
  return resolveQueueUrl(values, { source, warn })
}
