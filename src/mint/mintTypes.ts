/**
 * The shapes mintRecords takes and returns (src/mint/mintRecords.ts), shared by its stages and by the
 * callers (`imo mint`, infer-and-mint, serve's fulfil stage).
 */
import type { Address, Hex } from 'viem'
import type { Deployment } from '../deployment/deploymentFile.js'
import type { InferenceRecord } from '../inference/record.js'
import type { ZkProofFile } from '../zk/proveZk.js'
import type { ProofScheme } from './encodeProof.js'

/** One inference to mint: its record and the bytes the chain gets. */
export interface MintItem {
  record: InferenceRecord
  artifactBytes: Uint8Array
  promptBytes: Uint8Array
  aigcData: Uint8Array
  /** Where its metadata.json, artifact and mint.json go; undefined writes nothing (dry runs). */
  outDir?: string
  /** Writes the inference's own files into outDir; called after every check passed, before sending. */
  writeInference?: () => void
  /**
   * A paid request to fulfil instead of a direct mint (`imo serve`): the attestation and the token go
   * to the request's recipient, the call is `fulfill(id, …)` without a mint fee, and the journal step
   * id is `stepId` (serve's fulfilStepId: the request id with what decides the fulfilment, and the chain).
   */
  request?: { id: bigint; recipient: Address; stepId: string }
  /** A zk collection's item: the record's PLONK proof (proof.json), bound to its recipient. */
  zkProof?: ZkProofFile
}

export type TokenUriMode = 'ipfs' | 'data'

export interface MintOptions {
  deployment: Deployment
  /** Recipient; default the signer. */
  to?: Address
  /** `ipfs` (default): ipfs://<metadata CID>; `data`: the metadata inline as a data: URI. */
  tokenUriMode?: TokenUriMode
  /** Explicit token URI (one item only). */
  tokenUri?: string
  /** An ERC-1271 contract attester that accepts the signer's signatures. */
  attesterContract?: Address
  onProgress?(text: string): void
}

export interface MintOutcome {
  prompt: string | null
  tokenId: bigint
  tokenIdHex: Hex
  status: 'minted' | 'resumed' | 'existing' | 'dry-run'
  txHash?: Hex
  blockNumber?: bigint
  /** Fee sent with the mint, wei (0 for existing tokens). */
  feeWei: bigint
  gas?: bigint
  costWei?: bigint
  tokenUri: string
  metadataCid?: string
  artifactCid?: string
  commitment: Hex
  proof: Hex
  outDir?: string
  owner?: Address
}

export interface MintResult {
  chainId: number
  collection: Address
  imoToken: Address
  mintFeeWei: bigint
  signer: Address
  attester: Address
  proofScheme: ProofScheme
  outcomes: MintOutcome[]
  notes: string[]
  /** Milliseconds spent in each phase: chain checks, files + signatures, sending (sendSteps). */
  phases: MintPhases
}

/** Milliseconds per phase of a mintRecords run. */
export interface MintPhases {
  checksMs: number
  prepareMs: number
  writeMs: number
  sendMs: number
}
