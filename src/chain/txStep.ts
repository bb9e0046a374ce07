/**
 * What a caller hands the transaction engine (a step) and what it gets back (an outcome).
 * The engine itself: src/chain/sendSteps.ts; a step's states: src/chain/stepRun.ts.
 */
import type { Abi, Address, Hex, TransactionReceipt } from 'viem'

export interface TxStep {
  /** Stable id derived from the step's inputs (never its position), e.g. `deploy:ImoToken:<hash of args>`. */
  id: string
  /** For people: 'deploy ImoToken', 'mint "a red spiral"'. */
  label: string
  /** Target contract; undefined for a contract deployment (data = bytecode + constructor args). */
  to?: Address
  data: Hex
  value?: bigint
  /** ABI used to decode custom errors when the call reverts. */
  abi?: Abi
  /**
   * Whether the step's effect is on chain already (token minted, claim done, snapshot taken), asked
   * when its journalled transaction was replaced by another one with the same nonce: true settles
   * the step without sending; false (or absent) sends it once more with a fresh nonce.
   */
  effect?: () => Promise<boolean>
}

export interface StepOutcome {
  id: string
  label: string
  status: 'sent' | 'resumed' | 'already-confirmed' | 'dry-run'
  hash?: Hex
  receipt?: TransactionReceipt
  contractAddress?: Address
  /** Gas limit used (or estimated, for dry runs). */
  gas: bigint
  /** Upper bound of the fee (gas * max fee per gas); for confirmed steps, the fee actually paid. */
  costWei?: bigint
  blockNumber?: bigint
}

/**
 * One step's outcome as a NonceConflictError from sendSteps reports it (`error.data.outcomes`):
 * 'replaced' when another transaction took its nonce (a re-run recovers), else as StepOutcome.
 */
export type ReportedOutcome = Omit<StepOutcome, 'status' | 'receipt'> & { status: StepOutcome['status'] | 'replaced' }
