/**
 * The commands, in the order --help shows them. Each module only defines its flags and help; the
 * capability it calls is imported inside its action, so listing them here stays cheap, and src/cli.ts
 * builds only the command a command line names.
 */
import type { Command } from 'commander'
import { askCommand } from './ask.js'
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
import { zkCommand } from './zk.js'

/** Each command's factory under the command's name (a test checks they agree), in --help order. */
export const commands: Readonly<Record<string, () => Command>> = {
  demo: demoCommand,
  init: initCommand,
  hash: hashCommand,
  deploy: deployCommand,
  infer: inferCommand,
  mint: mintCommand,
  'infer-and-mint': inferAndMintCommand,
  verify: verifyCommand,
  revenue: revenueCommand,
  snapshot: snapshotCommand,
  claimable: claimableCommand,
  claim: claimCommand,
  redeem: redeemCommand,
  request: requestCommand,
  requests: requestsCommand,
  refund: refundCommand,
  serve: serveCommand,
  ask: askCommand,
  offer: offerCommand,
  status: statusCommand,
  devnet: devnetCommand,
  worker: workerCommand,
  zk: zkCommand,
}
