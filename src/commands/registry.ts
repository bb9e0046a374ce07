/**
 * The list of commands, in the order --help shows them. Each module only defines its flags and
 * help; the capability it calls is imported inside its action, so listing them here stays cheap.
 */
import type { Command } from 'commander'

export const commands: Array<() => Command> = []
