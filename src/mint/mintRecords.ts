/**
 * Mints inference records as ERC-7007 tokens on a deployment's collection (docs/formats.md sections 4-6):
 * checks everything first (model hash, attester, existing tokens, the journal), writes each token's
 * metadata, artifact and mint.json, signs the EIP-712 attestations (AigcMint for a direct mint,
 * AigcFulfilment of the request for `imo serve`'s fulfilments), and sends every mint through
 * `sendSteps` (pipelined: consecutive journal-managed nonces, all broadcast, then all awaited).
 *
 * Idempotence: a token id is `uint256(keccak256(prompt))` and a step id is
 * `mint:<collection>:<tokenId hex>`. A prompt already minted with the same aigcData is reported as
 * `existing` (nothing sent, exit 0); with other aigcData it is a MintConflictError (exit 3, nothing
 * sent: the chain would revert with PromptAlreadyMinted). An interrupted run resumes from the journal:
 * the calldata is deterministic (metadata has no timestamps, RFC 6979 signatures), so the re-run
 * builds the very transaction the journal holds.
 */

import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type Abi, type Address, getAddress, type Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import { journalledSuccess } from '../chain/journalledSuccess.js'
import type { ReportedOutcome, StepOutcome, TxStep } from '../chain/sendStep.js'
import { quoteText } from '../cli/escapeControl.js'
import type { Deployment } from '../deployment/deploymentFile.js'
import { ExitCode, ImoError, NonceConflictError, UsageError } from '../errors.js'
import type { InferenceRecord } from '../inference/record.js'
import { mapConcurrent } from '../util/mapConcurrent.js'
import { writeFileAtomic } from '../util/writeFileAtomic.js'
import { proofWords, type ZkProofFile } from '../zk/proveZk.js'
import { buildMetadata, metadataDataUri, metadataJson } from './buildMetadata.js'
import { computeCid, IPFS_MAX_RAW_BLOCK } from './computeCid.js'
import { encodeProof, encodeZkProof, type ProofScheme } from './encodeProof.js'
import { METADATA_FILE, MINT_FILE, MINT_FORMAT, type MintFile, readMintFile, writeMintFile } from './mintFile.js'
import type { ProofBinding } from './proofKinds.js'
import { signAttestation } from './signAttestation.js'

/** A prompt minted before with other aigcData (exit 3: the chain would revert, nothing was sent). */
export class MintConflictError extends ImoError {
  override name = 'MintConflictError'
  constructor(message: string, options: { hint?: string; details?: string } = {}) {
    super(message, { ...options, exitCode: ExitCode.SimulationReverted })
  }
}

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
  phases: { checksMs: number; prepareMs: number; writeMs: number; sendMs: number }
}

/**
 * Mints records on the deployment's collection, pipelined.
 * @param ctx - chain context with a signer (the attester key).
 * @param items - records with their bytes (from readCheckedRecord or runInference): the bytes signed and sent.
 * @param options - deployment, recipient, token URI mode, ERC-1271 attester, progress.
 * @returns one outcome per item, in order, plus the fee and the attester.
 * @throws UsageError (2) for a record of another model, a signer that is not an attester, duplicate
 *   prompts; MintConflictError (3) for a prompt minted with other data; chain errors from sendSteps.
 * @example
 * import { mintRecords } from './mint/mintRecords.js'
 * import { readCheckedRecord } from './mint/readCheckedRecord.js'
 * const payload = await readCheckedRecord('out/3fa2b4c1d9e0', deployment.modelHash)
 * const result = await mintRecords(ctx, [{ ...payload, outDir: payload.dir }], { deployment })
 * result.outcomes[0].status // 'minted'
 */
export async function mintRecords(ctx: ChainContext, items: MintItem[], options: MintOptions): Promise<MintResult> {
  const account = ctx.account
  if (!account) throw new ImoError('mintRecords needs a chain context with a signer')
  const { encodeFunctionData, getAddress, keccak256, toHex, zeroAddress } = await import('viem')
  const { parseAddress } = await import('../util/parseAddress.js')
  const { aigcCollectionAbi, zkAigcCollectionAbi } = await import('../../contracts-abi/index.js')
  const { sendSteps } = await import('../chain/sendStep.js')
  const { callsTo, readMany } = await import('../revenue/readMany.js')
  const progress = options.onProgress ?? (() => {})
  const collection = getAddress(options.deployment.aigcCollection.address)
  if (options.tokenUri !== undefined && items.length !== 1)
    throw new UsageError('--token-uri applies to one mint only, not to --prompts')
  // A zk collection checks a PLONK proof itself: nobody attests, anyone may mint (the signer only pays).
  const zk = options.deployment.proofScheme === 'zk'
  if (zk && options.attesterContract) throw new UsageError('--attester-contract does not apply to a zk collection')
  const to = options.to ? await parseAddress(options.to, '--to') : account.address
  const attester = zk
    ? zeroAddress
    : options.attesterContract
      ? await parseAddress(options.attesterContract, '--attester-contract')
      : account.address
  const proofScheme: ProofScheme = zk ? 'plonk' : options.attesterContract ? 'erc1271' : 'ecdsa'
  const notes: string[] = []

  const phases = { checksMs: 0, prepareMs: 0, writeMs: 0, sendMs: 0 }
  let mark = performance.now()
  const lap = (phase: keyof typeof phases) => {
    const now = performance.now()
    phases[phase] += now - mark
    mark = now
  }
  // 1. The collection: model, fee, IMO token, attester, in one eth_call (serve mints a batch of one
  // per result, so four round trips per fulfilment were a fifth of its RPC traffic).
  progress('reading the collection')
  const read = callsTo(collection, aigcCollectionAbi as Abi)
  const [modelHash, mintFeeWei, imoToken, isAttester] = (await readMany(ctx, [
    read('modelHash'),
    read('mintFee'),
    read('imoToken'),
    ...(zk ? [] : [read('isAttester', [attester])]),
  ])) as [Hex, bigint, Address, boolean | undefined]
  for (const item of items)
    if (item.record.modelHash.toLowerCase() !== modelHash.toLowerCase())
      throw new UsageError(
        `the inference ${item.record.commitment.slice(0, 14)} was made with model ${item.record.modelHash}, but the collection ${collection} is bound to ${modelHash}`,
        { hint: "run the inference with the deployment's model (imo infer-and-mint uses it)" },
      )
  for (const item of items) zkRecipient(zk, item, options.to ? to : undefined)
  if (!zk && !isAttester)
    throw new UsageError(`${attester} is not an attester of the collection ${collection}: its proofs would not verify`, {
      hint: `the collection's owner can add it with addAttester(${attester}); or sign with an attester key`,
    })

  // 2. Each token: duplicates, existing tokens, conflicts.
  const tokenIds = items.map((item) => BigInt(keccak256(item.promptBytes)))
  const seen = new Map<bigint, number>()
  for (const [index, id] of tokenIds.entries()) {
    const first = seen.get(id)
    if (first !== undefined)
      throw new UsageError(
        `prompts ${first + 1} and ${index + 1} are the same (${describe(items[index]!.record)}): each prompt mints one token`,
      )
    seen.set(id, index)
  }
  progress('checking for minted prompts')
  // A request's fulfilment is not looked up: serve has just read the request open and its prompt not
  // minted (isRefundable, in the same eth_call), and a token minted since makes the simulation revert,
  // which serve re-checks (one eth_call per fulfilment saved).
  const existing = await mapConcurrent(tokenIds, 8, async (id, index) =>
    items[index]!.request ? undefined : tokenState(ctx, collection, aigcCollectionAbi, id),
  )
  const conflicts = items
    .map((item, index) => ({ item, index, state: existing[index] }))
    .filter(({ item, state }) => state && state.dataHash.toLowerCase() !== keccak256(item.aigcData).toLowerCase())
  if (conflicts.length > 0) {
    const { item, index, state } = conflicts[0]!
    throw new MintConflictError(
      `${describe(item.record)} is already minted as token ${toHex(tokenIds[index]!, { size: 32 })} with other aigcData (on chain ${state!.dataHash}, this inference ${keccak256(item.aigcData)}); nothing was sent`,
      {
        hint: 'a prompt mints one token: change the prompt, or verify the existing token with `imo verify --token`',
        ...(conflicts.length > 1 ? { details: `${conflicts.length} prompts conflict` } : {}),
      },
    )
  }

  // 3. Metadata, proof and calldata for each; files written before sending.
  lap('checksMs')
  const built = []
  for (const [index, item] of items.entries()) {
    const { record } = item
    const tokenId = tokenIds[index]!
    const tokenIdHex = toHex(tokenId, { size: 32 })
    const artifactCid = computeCid(item.artifactBytes)
    if (!artifactCid && index === 0)
      notes.push(
        `the artifact (${item.artifactBytes.byteLength} bytes) is larger than one IPFS block (${IPFS_MAX_RAW_BLOCK} bytes): its CID is not computed locally, so the metadata has no ipfs:// link to it; pin it yourself and pass --token-uri`,
      )
    const metadata = buildMetadata({
      record,
      promptBytes: item.promptBytes,
      ...(artifactCid ? { artifactCid } : {}),
      attester,
      proofScheme,
    })
    const metadataBytes = metadataJson(metadata)
    const metadataCid = computeCid(metadataBytes)
    let tokenUri: string
    if (options.tokenUri !== undefined) tokenUri = options.tokenUri
    else if ((options.tokenUriMode ?? 'ipfs') === 'data') tokenUri = metadataDataUri(metadataBytes)
    else if (metadataCid) tokenUri = `ipfs://${metadataCid}`
    else
      throw new UsageError(
        `the metadata of ${describe(record)} is larger than one IPFS block (${IPFS_MAX_RAW_BLOCK} bytes): pin it yourself and pass --token-uri, or use --token-uri-mode data`,
      )
    const itemTo = item.request ? getAddress(item.request.recipient) : (zkRecipient(zk, item, options.to ? to : undefined) ?? to)
    // A request's proof is an AigcFulfilment of that request: valid in its fulfill only, never in a
    // direct mint (where it would skip the request's fee).
    const binding: ProofBinding = item.request ? { kind: 'fulfilment', requestId: item.request.id } : { kind: 'mint' }
    const proof = zk
      ? encodeZkProof(itemTo, proofWords(item.zkProof!.proof))
      : encodeProof({
          ...binding,
          commitment: record.commitment,
          to: itemTo,
          signature: await signAttestation(account, {
            ...binding,
            chainId: ctx.chainId,
            collection,
            modelHash,
            promptHash: keccak256(item.promptBytes),
            aigcDataHash: keccak256(item.aigcData),
            commitment: record.commitment,
            to: itemTo,
          }),
          ...(options.attesterContract ? { contractSigner: attester } : {}),
        })
    const data = item.request
      ? encodeFunctionData({
          abi: aigcCollectionAbi,
          functionName: 'fulfill',
          args: [item.request.id, toHex(item.aigcData), proof, tokenUri],
        })
      : encodeFunctionData({
          abi: aigcCollectionAbi,
          functionName: 'mint',
          args: [itemTo, toHex(item.promptBytes), toHex(item.aigcData), tokenUri, proof],
        })
    const itemFeeWei = item.request ? 0n : mintFeeWei
    const mintFile: MintFile = {
      format: MINT_FORMAT,
      chainId: ctx.chainId,
      collection,
      tokenId: tokenId.toString(),
      tokenIdHex,
      to: itemTo,
      modelHash,
      commitment: record.commitment,
      promptHash: keccak256(item.promptBytes),
      aigcDataHash: keccak256(item.aigcData),
      aigcDataMode: record.aigcDataMode,
      proof,
      proofScheme,
      signer: account.address,
      attester,
      tokenUri,
      metadata: { file: METADATA_FILE, ...(metadataCid ? { cid: metadataCid } : {}) },
      artifact: { file: record.artifact.file, ...(artifactCid ? { cid: artifactCid } : {}) },
      mintFeeWei: itemFeeWei.toString(),
      status: existing[index] ? 'existing' : 'pending',
    }
    lap('prepareMs')
    if (item.outDir !== undefined && !ctx.tx.dryRun) {
      item.writeInference?.()
      writeOutputs(item, metadataBytes, mintFile)
    }
    lap('writeMs')
    const step: TxStep = {
      id: item.request ? item.request.stepId : `mint:${collection.toLowerCase()}:${tokenIdHex}`,
      label: item.request ? `fulfil request #${item.request.id} ${describe(record)}` : `mint ${describe(record)}`,
      to: collection,
      data,
      value: itemFeeWei,
      abi: (zk ? zkAigcCollectionAbi : aigcCollectionAbi) as never,
      // Replaced by another transaction: done if the token exists anyway.
      effect: async () => (await tokenState(ctx, collection, aigcCollectionAbi, tokenId)) !== undefined,
    }
    built.push({ item, tokenId, tokenIdHex, tokenUri, metadataCid, artifactCid, proof, mintFile, step, itemTo, itemFeeWei })
  }

  // 4. The journal: an interrupted mint of the same prompt must be completed with the same inputs.
  const journal = ctx.journal
  if (journal) {
    journal.reload()
    for (const b of built) {
      const state = journal.state(b.step.id)
      if (state.signed && !state.receipt && state.intent && state.intent.dataHash !== keccak256(b.step.data))
        throw new UsageError(
          `an interrupted mint of ${describe(b.item.record)} (${state.signed.hash}) is pending with other inputs (recipient, token URI or aigc-data mode)`,
          { hint: 're-run it with the same flags to complete it' },
        )
    }
  }

  lap('checksMs')
  // 5. Send what is not minted yet, pipelined.
  const toSend = built.filter((_, index) => !existing[index])
  let outcomes: StepOutcome[] = []
  if (toSend.length > 0) {
    progress(`minting 0/${toSend.length}`)
    try {
      outcomes = await sendSteps(
        ctx,
        toSend.map((b) => b.step),
        { onProgress: (done, total) => progress(`minting ${done}/${total}`) },
      )
    } catch (error) {
      throw withMintOutcomes(error, built, existing)
    }
  }
  lap('sendMs')
  const byId = new Map(outcomes.map((o) => [o.id, o]))
  const results: MintOutcome[] = []
  for (const [index, b] of built.entries()) {
    const base = {
      prompt: b.item.record.prompt,
      tokenId: b.tokenId,
      tokenIdHex: b.tokenIdHex,
      tokenUri: b.tokenUri,
      ...(b.metadataCid ? { metadataCid: b.metadataCid } : {}),
      ...(b.artifactCid ? { artifactCid: b.artifactCid } : {}),
      commitment: b.item.record.commitment,
      proof: b.proof,
      ...(b.item.outDir !== undefined && !ctx.tx.dryRun ? { outDir: resolve(b.item.outDir) } : {}),
    }
    const state = existing[index]
    if (state) {
      // Ours when the journalled transaction succeeded; the hash is only reported, so a failed lookup omits it.
      const txHash = journal
        ? await journalledSuccess(ctx.publicClient, journal.state(b.step.id)).catch(() => undefined)
        : undefined
      results.push({ ...base, status: 'existing', feeWei: 0n, owner: state.owner, ...(txHash ? { txHash } : {}) })
      continue
    }
    const outcome = byId.get(b.step.id)!
    const status = outcome.status === 'already-confirmed' ? 'existing' : outcome.status === 'sent' ? 'minted' : outcome.status
    results.push({
      ...base,
      status,
      feeWei: outcome.status === 'dry-run' || outcome.status === 'already-confirmed' ? 0n : b.itemFeeWei,
      gas: outcome.gas,
      ...(outcome.costWei !== undefined ? { costWei: outcome.costWei } : {}),
      ...(outcome.txHash ? { txHash: outcome.txHash } : {}),
      ...(outcome.blockNumber !== undefined ? { blockNumber: outcome.blockNumber } : {}),
      ...(outcome.status !== 'dry-run' ? { owner: b.itemTo } : {}),
    })
    if (b.item.outDir !== undefined && outcome.status !== 'dry-run')
      writeMintFile(join(b.item.outDir, MINT_FILE), {
        ...b.mintFile,
        status: 'minted',
        ...(outcome.txHash ? { txHash: outcome.txHash } : {}),
        ...(outcome.blockNumber !== undefined ? { blockNumber: outcome.blockNumber.toString() } : {}),
      })
  }
  lap('writeMs')
  return {
    chainId: ctx.chainId,
    collection,
    imoToken,
    mintFeeWei,
    signer: account.address,
    attester,
    proofScheme,
    outcomes: results,
    notes,
    phases,
  }
}

/**
 * A replaced mint (exit 7) reported per prompt: sendSteps' error carries each step's outcome; the
 * --json error document then shows what was minted, what was replaced and what already existed.
 */
function withMintOutcomes(
  error: unknown,
  built: Array<{ item: MintItem; tokenIdHex: Hex; step: TxStep }>,
  existing: Array<unknown>,
): unknown {
  const reported = (error as ImoError)?.data as { outcomes?: ReportedOutcome[] } | undefined
  if (!(error instanceof NonceConflictError) || !Array.isArray(reported?.outcomes)) return error
  const byId = new Map(reported.outcomes.map((outcome) => [outcome.id, outcome]))
  const outcomes = built.map((b, index) => {
    const outcome = byId.get(b.step.id)
    const status = existing[index]
      ? 'existing'
      : outcome?.status === 'sent'
        ? 'minted'
        : outcome?.status === 'already-confirmed'
          ? 'existing'
          : (outcome?.status ?? 'not-sent')
    return {
      prompt: b.item.record.prompt,
      tokenIdHex: b.tokenIdHex,
      status,
      ...(outcome?.txHash ? { txHash: outcome.txHash } : {}),
      ...(outcome?.blockNumber !== undefined ? { blockNumber: outcome.blockNumber } : {}),
    }
  })
  return new NonceConflictError(error.shortMessage, {
    cause: error,
    ...(error.hint ? { hint: error.hint } : {}),
    data: { outcomes },
  })
}

/**
 * The recipient a zk item's proof binds: every item of a zk collection needs its proof.json, and a
 * --to other than the proof's recipient is refused here (the chain would revert).
 */
function zkRecipient(zk: boolean, item: MintItem, to: Address | undefined): Address | undefined {
  if (!zk) return undefined
  if (item.request) throw new UsageError('a zk collection has no paid requests')
  if (!item.zkProof)
    throw new UsageError(
      `${describe(item.record)} has no zk proof (proof.json): the collection accepts only tokens the chain can check`,
      {
        hint: 'make it with `imo infer --prove --to ADDRESS`, or use `imo infer-and-mint`, which proves',
      },
    )
  const bound = getAddress(item.zkProof.recipient)
  if (to !== undefined && getAddress(to) !== bound)
    throw new UsageError(
      `the zk proof of ${describe(item.record)} is bound to ${bound}, not to --to ${to}: the chain would reject it`,
    )
  return bound
}

function describe(record: InferenceRecord): string {
  if (record.prompt === null) return `the input ${record.inputHash.slice(0, 14)}`
  return quoteText(record.prompt, 40)
}

/** Owner and accepted aigcData hash of a token, or undefined when it is not minted. */
async function tokenState(
  ctx: ChainContext,
  collection: Address,
  abi: readonly unknown[],
  tokenId: bigint,
): Promise<{ owner: Address; dataHash: Hex } | undefined> {
  const { toImoError } = await import('../chain/toImoError.js')
  let owner: Address
  try {
    owner = (await ctx.publicClient.readContract({
      address: collection,
      abi: abi as never,
      functionName: 'ownerOf' as never,
      args: [tokenId] as never,
    })) as Address
  } catch (error) {
    if (isRevert(error)) return undefined
    throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: 'reading the token owner' })
  }
  const dataHash = (await ctx.publicClient
    .readContract({ address: collection, abi: abi as never, functionName: 'aigcDataHash' as never, args: [tokenId] as never })
    .catch((error: unknown) => {
      throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: 'reading the token data hash' })
    })) as Hex
  return { owner, dataHash }
}

function isRevert(error: unknown): boolean {
  let current: unknown = error
  for (let i = 0; current && i < 20; i++) {
    const name = (current as { name?: string }).name
    if (name === 'ContractFunctionRevertedError' || name === 'ExecutionRevertedError') return true
    current = (current as { cause?: unknown }).cause
  }
  return false
}

/** metadata.json, the artifact (when not there already) and mint.json (pending) into the item's folder. */
function writeOutputs(item: MintItem, metadataBytes: Uint8Array, mintFile: MintFile): void {
  const dir = item.outDir!
  const artifactPath = join(dir, item.record.artifact.file)
  const same = existsSync(artifactPath) && Buffer.from(readFileSync(artifactPath)).equals(Buffer.from(item.artifactBytes))
  if (!same) writeFileAtomic(artifactPath, item.artifactBytes)
  writeFileAtomic(join(dir, METADATA_FILE), metadataBytes)
  const previous = readMintFile(join(dir, MINT_FILE))
  // Keep a finished record's transaction details when re-run.
  if (
    previous &&
    previous.status !== 'pending' &&
    previous.tokenIdHex === mintFile.tokenIdHex &&
    previous.collection === mintFile.collection
  )
    writeMintFile(join(dir, MINT_FILE), {
      ...mintFile,
      status: previous.status,
      ...(previous.txHash ? { txHash: previous.txHash } : {}),
      ...(previous.blockNumber ? { blockNumber: previous.blockNumber } : {}),
    })
  else writeMintFile(join(dir, MINT_FILE), mintFile)
}
