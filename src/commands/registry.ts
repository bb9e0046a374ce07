/**
 * The list of commands, in the order --help shows them. Each module only defines its flags and
 * help; the capability it calls is imported inside its action, so listing them here stays cheap.
 */
import type { Command } from 'commander'
import { deployCommand } from './deploy.js'
import { devnetCommand } from './devnet.js'
import { hashCommand } from './hash.js'
import { inferCommand } from './infer.js'
import { inferAndMintCommand } from './infer-and-mint.js'
import { mintCommand } from './mint.js'
import { verifyCommand } from './verify.js'

export const commands: Array<() => Command> = [hashCommand, deployCommand, inferCommand, mintCommand, inferAndMintCommand, verifyCommand, devnetCommand]
