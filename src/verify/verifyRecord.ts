import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Address, Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import { UsageError } from '../errors.js'
import { aigcDataBytes } from '../inference/erc7007.js'
import { isPlainFileName, recordJsonPath } from '../inference/record.js'
import { computeCid } from '../mint/computeCid.js'
import { decodeZkProof } from '../mint/encodeProof.js'
import { MINT_FILE, type MintFile, readMintFile } from '../mint/mintFile.js'
import { readRegularFile } from '../util/readRegularFile.js'
import { readZkProof, ZK_PROOF_FILE } from '../zk/proveInference.js'
import { proofFromWords } from '../zk/proveZk.js'
import { checkAttestation, checkOnChainVerify, readCollection } from './checkAttestation.js'
import { type CheckedInference, checkInference } from './checkInference.js'
import { CheckList, errorLine, type VerifyReport } from './checks.js'
import { checkZkProof } from './checkZkProof.js'

export interface VerifyRecordOptions {
  /** The model to re-run; default the record's model.absolutePath, else model.path. */
  modelPath?: string
  /** Allow running a pipeline that is not imo's bundled one. */
  trustPipeline?: boolean
  /** The mint record; default mint.json beside the record. */
  mintFile?: string
  /** Connects to the chain when a mint record needs on-chain checks; undefined when none is configured. */
  connect?: () => Promise<ChainContext | undefined>
}

/**
 * Verifies an inference record (and, when it was minted, its proof): recomputes every hash from the
 * files, the config hash and the commitment, hashes the model, re-runs it on the committed inputs
 * with the recorded settings and compares the outputs bit for bit (largest difference on mismatch),
 * runs the pipeline to check prompt -> inputs and outputs -> artifact, and checks every field of
 * mint.json: the proof (the recovered signer is mint.json's signer and attester, the attester is one
 * of the collection's, the collection's verify()), the token id, and on the chain the token's data,
 * URI and mint transaction (recipient, fee, block). A check that needs the chain and has none is
 * skipped, which leaves the report "unverified".
 * @param recordPath - record.json or its folder.
 * @param options - model override, pipeline trust, mint record, chain connection.
 * @returns the report; status 'failed' (exit 9), 'unverified' (exit 10) or 'verified'.
 * @throws UsageError when the record does not exist, or a foreign pipeline would run without trust.
 * @example
 * import { verifyRecord } from './verify/verifyRecord.js'
 * const report = await verifyRecord('out/3fa2b4c1d9e0', { connect })
 * report.status // 'verified'
 */
export async function verifyRecord(recordPath: string, options: VerifyRecordOptions = {}): Promise<VerifyReport> {
  const file = recordJsonPath(recordPath)
  const list = new CheckList()
  const report = (extra: Record<string, unknown> = {}): VerifyReport => ({
    kind: 'record',
    subject: file,
    ok: list.ok,
    status: list.status,
    checks: list.checks,
    ...extra,
  })
  const checked = await checkInference(list, recordPath, options)
  const ort = await import('onnxruntime-node')
  const common = (): Record<string, unknown> =>
    checked
      ? {
          commitment: checked.record.commitment,
          modelPath: resolve(checked.modelPath),
          onnxruntimeVersion: ort.env.versions.common,
        }
      : {}

  // A zk record's proof.json (imo infer --prove): checked offline against the verification key.
  if (checked && existsSync(join(checked.dir, ZK_PROOF_FILE))) {
    let proofFile: ReturnType<typeof readZkProof> | undefined
    try {
      proofFile = readZkProof(join(checked.dir, ZK_PROOF_FILE))
    } catch (error) {
      list.add('zk proof', false, '', errorLine(error))
    }
    if (proofFile)
      await checkZkProof(list, {
        name: 'zk proof',
        modelHash: checked.record.modelHash,
        modelPath: checked.modelPath,
        promptBytes: checked.promptBytes,
        aigcData: checked.aigcData,
        recipient: proofFile.recipient,
        proof: proofFile.proof,
      })
  }

  // The proof, when the record was minted.
  const mintPath = options.mintFile ? resolve(options.mintFile) : join(checked?.dir ?? resolve(file, '..'), MINT_FILE)
  let mint: MintFile | undefined
  try {
    mint = readMintFile(mintPath)
  } catch (error) {
    list.add('mint record', false, '', errorLine(error))
    return report(common())
  }
  if (mint === undefined) {
    if (options.mintFile) throw new UsageError(`no mint record at ${options.mintFile}`)
    list.push({
      name: 'attestation',
      status: 'info',
      detail: `no ${MINT_FILE} beside the record: not minted, so only the inference was checked`,
    })
    return report(common())
  }
  if (checked) await checkMint(list, checked, mint, options)
  return report({ ...common(), mint: mintPath })
}

/** Every field of mint.json against the record, the proof and (when reachable) the chain. */
async function checkMint(
  list: CheckList,
  checked: CheckedInference,
  mint: MintFile,
  options: VerifyRecordOptions,
): Promise<void> {
  const { keccak256, toHex } = await import('viem')
  const { record, promptBytes, artifactBytes } = checked
  const aigcData = aigcDataBytes(artifactBytes, mint.aigcDataMode)
  list.add(
    'proof data',
    mint.promptHash === record.promptHash &&
      mint.commitment === record.commitment &&
      mint.aigcDataHash === keccak256(aigcData) &&
      mint.modelHash === record.modelHash,
    `${MINT_FILE} attests this record's model, prompt, aigcData (${mint.aigcDataMode}) and commitment`,
    `${MINT_FILE} attests other data than this record`,
  )
  const tokenId = BigInt(keccak256(promptBytes))
  list.add(
    'token id',
    mint.tokenId === tokenId.toString() && mint.tokenIdHex.toLowerCase() === toHex(tokenId, { size: 32 }),
    `tokenId = tokenIdHex = uint256(keccak256(prompt))`,
    `${MINT_FILE}'s tokenId/tokenIdHex is not uint256(keccak256(prompt)) = ${toHex(tokenId, { size: 32 })}`,
  )
  checkMetadataFile(list, checked, mint)

  let ctx: ChainContext | undefined
  try {
    ctx = await options.connect?.()
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
  }
  if (ctx && ctx.chainId !== mint.chainId) {
    list.add(
      'chain',
      null,
      `the token is on chain ${mint.chainId}, the RPC serves chain ${ctx.chainId}: its checks could not run`,
    )
    ctx = undefined
  }
  if (mint.proofScheme === 'plonk') return checkZkMint(list, checked, mint, aigcData, ctx)
  const { decoded } = await checkAttestation(list, {
    chainId: mint.chainId,
    collection: mint.collection,
    modelHash: record.modelHash,
    promptBytes,
    aigcDataHash: keccak256(aigcData),
    aigcData,
    proof: mint.proof,
    expected: { signer: mint.signer, attester: mint.attester, proofScheme: mint.proofScheme },
    ...(ctx ? { ctx } : {}),
  })
  if (decoded)
    list.add(
      'proof recipient',
      decoded.to.toLowerCase() === String(mint.to).toLowerCase(),
      `the proof binds the token to ${decoded.to}, the mint's recipient`,
      `the proof binds the token to ${decoded.to}, the mint record names ${mint.to}`,
    )
  if (decoded)
    list.add(
      'proof commitment',
      decoded.commitment === record.commitment,
      "the proof commits to the record's commitment",
      `the proof commits to ${decoded.commitment}`,
    )
  await checkTokenOnChain(list, mint, tokenId, ctx)
}

/** A zk mint.json: its proof is this record's, bound to its recipient, valid offline and (with a chain) on chain. */
async function checkZkMint(
  list: CheckList,
  checked: CheckedInference,
  mint: MintFile,
  aigcData: Uint8Array,
  ctx: ChainContext | undefined,
): Promise<void> {
  const { keccak256 } = await import('viem')
  const decoded = decodeZkProof(mint.proof)
  list.add(
    'proof format',
    Boolean(decoded),
    'PLONK: abi.encode(to, uint256[24])',
    `${MINT_FILE}'s proof is not abi.encode(address, uint256[24])`,
  )
  if (decoded) {
    list.add(
      'proof recipient',
      decoded.to.toLowerCase() === String(mint.to).toLowerCase(),
      `the proof binds the token to ${decoded.to}, the mint's recipient`,
      `the proof binds the token to ${decoded.to}, the mint record names ${mint.to}`,
    )
    await checkZkProof(list, {
      name: 'zk proof (mint)',
      modelHash: checked.record.modelHash,
      modelPath: checked.modelPath,
      promptBytes: checked.promptBytes,
      aigcData,
      recipient: decoded.to,
      proof: proofFromWords(decoded.words),
    })
  }
  const tokenId = BigInt(keccak256(checked.promptBytes))
  if (ctx)
    await checkOnChainVerify(list, {
      collection: mint.collection,
      promptBytes: checked.promptBytes,
      aigcData,
      proof: mint.proof,
      ctx,
    })
  else list.add('on-chain verify', null, `needs an RPC URL (--rpc-url) of chain ${mint.chainId}`)
  await checkTokenOnChain(list, mint, tokenId, ctx)
}

/** The token's data and URI on chain, and the recorded mint transaction. */
async function checkTokenOnChain(list: CheckList, mint: MintFile, tokenId: bigint, ctx: ChainContext | undefined): Promise<void> {
  const noChain = `needs an RPC URL (--rpc-url) of chain ${mint.chainId}`
  if (!ctx) {
    list.add('token on chain', null, noChain)
    list.add('token URI', null, noChain)
    if (mint.txHash) list.add('mint transaction', null, noChain)
    return
  }
  const onChainRead = await readCollection<Hex>({ collection: mint.collection, ctx }, 'aigcDataHash', [tokenId])
  if ('failed' in onChainRead) {
    list.add('token on chain', false, '', `${mint.collection} ${onChainRead.notCollection}`)
    return
  }
  const onChain = onChainRead.value
  list.add(
    'token on chain',
    onChain === mint.aigcDataHash,
    `token ${mint.tokenIdHex.slice(0, 12)}… holds this aigcData`,
    /^0x0*$/.test(onChain)
      ? `token ${mint.tokenIdHex} has no aigcData on ${mint.collection} (not minted?)`
      : `token ${mint.tokenIdHex} holds other aigcData (${onChain})`,
  )
  const uriRead = await readCollection<string>({ collection: mint.collection, ctx }, 'tokenURI', [tokenId])
  const uri = 'value' in uriRead ? uriRead.value : undefined // reverts for a token that does not exist
  list.add(
    'token URI',
    uri === mint.tokenUri,
    `tokenURI = ${MINT_FILE}'s tokenUri`,
    `tokenURI is ${JSON.stringify(uri)}, ${MINT_FILE} says ${JSON.stringify(mint.tokenUri)}`,
  )
  if (mint.txHash) await checkMintTransaction(list, ctx, mint, tokenId)
  else
    list.push({
      name: 'mint transaction',
      status: 'info',
      detail: `${MINT_FILE} records no transaction (status ${mint.status}): to and mintFeeWei are informational`,
    })
}

/** The recorded mint transaction: mined, successful, in blockNumber, to the collection, paying mintFeeWei, minting the token to `to`. */
async function checkMintTransaction(list: CheckList, ctx: ChainContext, mint: MintFile, tokenId: bigint): Promise<void> {
  const { parseEventLogs } = await import('viem')
  const { aigcCollectionAbi } = await import('../../contracts-abi/index.js')
  const { toImoError } = await import('../chain/toImoError.js')
  const hash = mint.txHash as Hex
  const [tx, receipt] = await Promise.all([
    ctx.publicClient.getTransaction({ hash }).catch(() => undefined),
    ctx.publicClient.getTransactionReceipt({ hash }).catch((error: unknown) => {
      if (/not be found|not found/i.test(String((error as Error)?.message))) return undefined
      throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: 'reading the mint transaction' })
    }),
  ])
  const problems: string[] = []
  if (!tx || !receipt) problems.push(`no mined transaction ${hash} on chain ${mint.chainId}`)
  else {
    if (receipt.status !== 'success') problems.push('it reverted')
    if (tx.to?.toLowerCase() !== mint.collection.toLowerCase()) problems.push(`it was sent to ${tx.to}, not the collection`)
    if (mint.blockNumber !== undefined && receipt.blockNumber.toString() !== mint.blockNumber)
      problems.push(`it is in block ${receipt.blockNumber}, ${MINT_FILE} says ${mint.blockNumber}`)
    if (tx.value.toString() !== mint.mintFeeWei)
      problems.push(`it paid ${tx.value} wei, ${MINT_FILE} says mintFeeWei ${mint.mintFeeWei}`)
    const transfers = parseEventLogs({
      abi: aigcCollectionAbi,
      logs: receipt.logs,
      eventName: 'Transfer' as never,
    }) as unknown as {
      address: Address
      args: { from: Address; to: Address; tokenId: bigint }
    }[]
    const minted = transfers.find(
      (log) =>
        log.address.toLowerCase() === mint.collection.toLowerCase() &&
        log.args.tokenId === tokenId &&
        /^0x0{40}$/.test(log.args.from),
    )
    if (!minted) problems.push(`it did not mint token ${mint.tokenIdHex}`)
    else if (minted.args.to.toLowerCase() !== mint.to.toLowerCase())
      problems.push(`it minted to ${minted.args.to}, ${MINT_FILE} says to ${mint.to}`)
  }
  list.add(
    'mint transaction',
    problems.length === 0,
    `${hash.slice(0, 12)}… in block ${mint.blockNumber ?? receipt?.blockNumber} minted the token to ${mint.to} for ${mint.mintFeeWei} wei`,
    `${hash.slice(0, 12)}…: ${problems.join('; ')}`,
  )
}

/**
 * metadata.json beside the record has the CID mint.json names and an ipfs:// token URI points at it;
 * mint.json's artifact is the record's artifact, with its CID.
 */
function checkMetadataFile(list: CheckList, checked: CheckedInference, mint: MintFile): void {
  const problems: string[] = []
  const artifactCid = computeCid(checked.artifactBytes)
  if (mint.artifact.file !== checked.record.artifact.file)
    problems.push(`artifact.file is ${mint.artifact.file}, the record's is ${checked.record.artifact.file}`)
  if (mint.artifact.cid !== undefined && mint.artifact.cid !== artifactCid)
    problems.push(`artifact.cid is ${mint.artifact.cid}, the artifact's is ${artifactCid ?? 'none (larger than one block)'}`)
  const path = join(checked.dir, mint.metadata.file)
  const beside = isPlainFileName(mint.metadata.file) && existsSync(path)
  if (beside) {
    const cid = computeCid(new Uint8Array(readRegularFile(path, 'file')))
    if (mint.metadata.cid !== undefined && mint.metadata.cid !== cid)
      problems.push(`${mint.metadata.file} has CID ${cid}, ${MINT_FILE} names ${mint.metadata.cid}`)
    if (mint.tokenUri.startsWith('ipfs://') && mint.tokenUri !== `ipfs://${cid}`)
      problems.push(`the token URI ${mint.tokenUri} is not ${mint.metadata.file} (ipfs://${cid})`)
  }
  list.add(
    'metadata',
    problems.length === 0,
    beside
      ? `${mint.metadata.file} and the artifact have the CIDs ${MINT_FILE} names${mint.tokenUri.startsWith('ipfs://') ? ', the token URI points at the metadata' : ''}`
      : `the artifact has the CID ${MINT_FILE} names (${mint.metadata.file} is not beside the record: its content is informational)`,
    problems.join('; '),
  )
}
