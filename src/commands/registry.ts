/**
 * The list of commands, in the order --help shows them. Each module only defines its flags and
 * help; the capability it calls is imported inside its action, so listing them here stays cheap.
 */
import type { Command } from 'commander'
import { claimCommand } from './claim.js'
import { claimableCommand } from './claimable.js'
import { demoCommand } from './demo.js'
import { deployCommand } from './deploy.js'
import { devnetCommand } from './devnet.js'
import { hashCommand } from './hash.js'
import { inferCommand } from './infer.js'
import { inferAndMintCommand } from './infer-and-mint.js'
import { initCommand } from './init.js'
import { mintCommand } from './mint.js'
import { offerCommand } from './offer.js'
import { redeemCommand } from './redeem.js'
import { refundCommand } from './refund.js'
import { requestCommand } from './request.js'
import { requestsCommand } from './requests.js'
import { revenueCommand } from './revenue.js'
import { serveCommand } from './serve.js'
import { snapshotCommand } from './snapshot.js'
import { statusCommand } from './status.js'
import { verifyCommand } from './verify.js'
import { workerCommand } from './worker.js'

export const commands: Array<() => Command> = [
  demoCommand,
  initCommand,
  hashCommand,
  deployCommand,
  inferCommand,
  mintCommand,
  inferAndMintCommand,
  verifyCommand,
  revenueCommand,
  snapshotCommand,
  claimableCommand,
  claimCommand,
  redeemCommand,
  requestCommand,
  requestsCommand,
  refundCommand,
  serveCommand,
  offerCommand,
  statusCommand,
  devnetCommand,
  workerCommand,
]
