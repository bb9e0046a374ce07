/**
 * The shapes `imo demo` passes between its stages: its options, the run every stage works in (the
 * chain, the three accounts, the folders, the step runner), and the report it prints and writes to
 * `<out>/demo.json`.
 */
import type { Address, Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import type { Deployment } from '../deployment/deploymentFile.js'
import type { DemoModel } from './demoSettings.js'
import type { DemoStep } from './demoStep.js'

export interface DemoOptions {
  /** Output folder (default `imo-demo` in the working folder). */
  out?: string
  /** Leave the devnet running with the state, recorded in the working folder. */
  keep?: boolean
  cwd?: string
  /** The bundled model: `cppn` (images, default) or `tinylm` (text). */
  model?: DemoModel
}

/** What every stage works in. */
export interface DemoRun {
  cwd: string
  outDir: string
  /** The demo's `.imo/` (journal, and without --keep the deployment file), under outDir. */
  stateRoot: string
  keep: boolean
  model: DemoModel | undefined
  modelPath: string
  step: DemoStep
  chain: { rpcUrl: string; pid: number }
  /** Read-only context (no signer). */
  base: ChainContext
  /** anvil dev account 0: deploys, mints, serves, sells. */
  deployer: ChainContext
  /** anvil dev account 1: buys 30% in the sale. */
  holder: ChainContext
  /** anvil dev account 2: a model user who pays for a request and for an API call. */
  user: ChainContext
}

/** The devnet's test USDC as the stages use it (a revenue currency of the demo's token). */
export interface DemoUsdc {
  address: Address
  symbol: string
  decimals: number
  native: false
}

/** The demo's deployment, once made. */
export interface DemoDeployment {
  deployment: Deployment
  deploymentFile: string
  token: Address
  collection: Address
}

export interface DemoReport {
  ok: boolean
  durationMs: number
  outDir: string
  reportFile: string
  chain: { rpcUrl: string; chainId: number; pid: number; running: boolean }
  model: { path: string; modelHash: Hex }
  imoToken: Address
  aigcCollection: Address
  deploymentFile?: string
  mintFeeWei: bigint
  /** `image` is the artifact's path (the PNG, or text.txt for tinylm, whose text is in `text`). */
  mints: Array<{ prompt: string; tokenId: Hex; txHash?: Hex; feeWei: bigint; image: string; record: string; text?: string }>
  /** Native currency the token received from the three mint fees. */
  feesToTokenWei: bigint
  /**
   * The paid request: a model user's fee, fulfilled by the in-process `imo serve`; the fee is in the
   * snapshot. Absent for `zk` (a zk collection takes no paid requests: anyone mints with a proof).
   */
  request?: {
    prompt: string
    requester: Address
    recipient: Address
    requestId: bigint
    feeWei: bigint
    requestTx?: Hex
    tokenId: Hex
    fulfilTx?: Hex
    /** The artifact's path (PNG, or text.txt for tinylm, whose text is in `text`). */
    image: string
    text?: string
    /** From paying the fee to the fulfilment's receipt (serve's start-up included). */
    servedMs: number
  }
  /**
   * The paid API call: the model user asks serve's HTTP API (`imo serve --http`) through `imo ask`'s
   * client and pays with x402 in test USDC, settled straight into the token; the payment is in the
   * snapshot. Absent for `zk` (serve's API signs answers as an attester; a zk collection has none).
   */
  apiCall?: {
    url: string
    prompt: string
    payer: Address
    /** The currency paid in (the test USDC) and the price, in its smallest unit (6 decimals). */
    currency: Address
    paidWei: bigint
    /** What the token's balance of the currency grew by across the call (the price, exactly). */
    tokenReceivedWei: bigint
    settlementTxHash: Hex
    /** The answer as saved for `imo verify`, and the image (cppn) or the text (tinylm). */
    file: string
    image?: string
    text?: string
    commitment: Hex
    attester: Address
    /** From starting serve's API to the settled answer. */
    servedMs: number
  }
  revenue: { depositWei: bigint; snapshotId: number; claimPoolWei: bigint; toRedemptionWei: bigint }
  /** The devnet's test USDC, a revenue currency of the token: its address and the revenue deposited in it (6 decimals). */
  usdc: { address: Address; symbol: string; decimals: number; deposit: bigint }
  holders: Array<{
    role: 'deployer' | 'second holder'
    address: Address
    balanceWei: bigint
    claimedWei: bigint
    /** USDC claimed (smallest unit, 6 decimals). */
    claimedUsdc: bigint
    claimTx?: Hex
  }>
  verification: { tokenId: Hex; ok: boolean; checks: Array<{ name: string; status: string; detail: string }> }
  timings: Record<string, number>
  next?: string[]
}
