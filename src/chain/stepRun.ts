/**
 * A step's life in the transaction engine, as a small state machine:
 *
 *   planned -> simulated -> signed -> broadcast -> included -> confirmed
 *                              \            \           \-> reverted
 *                               \------------\-> replaced -> (effect on chain: confirmed | dropped -> planned)
 *
 * The journal (src/chain/journal.ts) is the only record of state that outlives a run: an intent and
 * a signed record mean `signed`, a receipt means `confirmed` or `reverted`, a `dropped` record ends a
 * transaction (reverted, or replaced by another one with its nonce) so the step is `planned` again.
 * `simulated`, `broadcast` and `included` are what this run observed of the chain; a re-run observes
 * them again (journalPhase() reads a step's journalled state, each transition module moves a run one
 * step: resumeStep, checkJournalled, recoverReplaced, signSteps, broadcastStep, pollReceipts,
 * confirmStep).
 */
import type { LocalAccount, PublicClient, TransactionReceipt } from 'viem'
import type { ImoError } from '../errors.js'
import type { ChainContext } from './connect.js'
import type { Journal, SignedRecord, StepState } from './journal.js'
import { toImoError } from './toImoError.js'
import type { StepOutcome, TxStep } from './txStep.js'

export type StepPhase =
  /** Asked for; nothing signed (or a signed transaction dropped). */
  | 'planned'
  /** Simulated this run: gas limit and cost known. */
  | 'simulated'
  /** Signed and journalled (raw transaction and hash, flushed) before any broadcast. */
  | 'signed'
  /** The node accepted it or knows it. */
  | 'broadcast'
  /** Mined, not yet as deep as --confirmations (or its block not re-checked yet). */
  | 'included'
  /** Mined deep enough and journalled, or found done (already-confirmed). */
  | 'confirmed'
  /** Mined deep enough but reverted (journalled). */
  | 'reverted'
  /** Another transaction took its nonce: it can never be mined. */
  | 'replaced'
  /** Its transaction no longer counts (journalled); the step is planned again. */
  | 'dropped'

/** One step as one sendSteps call carries it through its phases. */
export interface StepRun {
  step: TxStep
  phase: StepPhase
  /** 'resumed' when taken over from the journal, 'sent' when signed in this run (the outcome's status). */
  origin: 'sent' | 'resumed'
  /** Gas limit and cost bound from the simulation (phase simulated). */
  simulation?: { gas: bigint; costWei: bigint }
  /** The journalled transaction (phase signed and after). */
  signed?: SignedRecord
  /** The receipt seen (phase included), kept until it is deep enough. */
  receipt?: TransactionReceipt
  /** Set once the step is settled: confirmed, reverted, or found done. */
  outcome?: StepOutcome
  /** When it was last handed to the node (ms), for re-broadcasts. */
  lastBroadcast: number
  /** When the node first said it had neither this transaction nor its receipt while its nonce was used. */
  absentSince?: number
}

/** What every transition of one sendSteps call shares. */
export interface EngineRun {
  ctx: ChainContext
  journal: Journal
  /** The first RPC URL: nonces, broadcasts, receipts of our sends. */
  client: PublicClient
  account: LocalAccount
  /** The last RPC failure seen while waiting (named when the wait times out). */
  lastRpcError?: ImoError
  /** When a gap below the awaited nonces was last filled from the journal (ms). */
  lastRefill?: number
  /** An error handler that throws the RPC failure of `action` as imo's error. */
  rpc(action: string): (error: unknown) => never
  /** The signer's mined nonce ('latest'); RPC failures throw. */
  latestNonce(): Promise<number>
}

/**
 * The shared state of one sendSteps call.
 * @example
 * const engine = engineRun(ctx, ctx.journal!)
 * await engine.latestNonce() // 4
 */
export function engineRun(ctx: ChainContext, journal: Journal): EngineRun {
  const account = ctx.account!
  const client = ctx.sendClient
  const rpc = (action: string) => (error: unknown) => {
    throw toImoError(error, { rpcUrl: ctx.rpcUrl, action })
  }
  return {
    ctx,
    journal,
    client,
    account,
    rpc,
    latestNonce: () =>
      client.getTransactionCount({ address: account.address, blockTag: 'latest' }).catch(rpc('reading the nonce')),
  }
}

/**
 * A step's phase as its journal records it (nothing else outlives a run).
 * @param state - `journal.state(id)`.
 * @returns planned (nothing live signed), signed (no receipt yet), confirmed or reverted (a receipt).
 * @example
 * journalPhase(journal.state('snapshot:0xabc…:3')) // 'signed' after a crash before the receipt
 */
export function journalPhase(state: StepState): 'planned' | 'signed' | 'confirmed' | 'reverted' {
  if (!state.signed) return 'planned'
  if (!state.receipt) return 'signed'
  return state.receipt.status === 'success' ? 'confirmed' : 'reverted'
}

/** Runs still in flight (signed or broadcast, nothing mined seen): their nonces are taken. */
export function inFlight(run: StepRun): boolean {
  return run.phase === 'signed' || run.phase === 'broadcast'
}

/** Runs the wait loop watches: signed, broadcast or included. */
export function awaiting(run: StepRun): boolean {
  return inFlight(run) || run.phase === 'included'
}
