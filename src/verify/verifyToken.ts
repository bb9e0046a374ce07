import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Address, Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import { UsageError } from '../errors.js'
import { computeCommitment } from '../inference/commitment.js'
import { computeConfigHash, defaultInferenceConfig, type InferenceConfig } from '../inference/config.js'
import type { AigcMetadata } from '../mint/buildMetadata.js'
import { computeCid, IPFS_MAX_RAW_BLOCK, parseIpfsUri } from '../mint/computeCid.js'
import { decodeZkProof } from '../mint/encodeProof.js'
import { sha256Hex } from '../tensor/encodeTensors.js'
import { parseJson } from '../util/parseJson.js'
import { readRegularFile } from '../util/readRegularFile.js'
import { proofFromWords } from '../zk/proveZk.js'
import { checkAttestation, checkOnChainVerify } from './checkAttestation.js'
import { CheckList, errorLine, type VerifyReport } from './checks.js'
import { checkZkProof } from './checkZkProof.js'
import { PipelineNotTrustedError, pipelineTrust } from './pipelineTrust.js'

export interface VerifyTokenOptions {
  collection: Address
  tokenId: bigint
  /** The model folder to re-run; its hash must equal the collection's model hash. */
  modelPath: string
  /** Where to look for the files an ipfs:// token URI names (default `out`). */
  metadataDir?: string
  trustPipeline?: boolean
  /** First block to search for the AigcData event (default 0). */
  fromBlock?: bigint
}

/**
 * Verifies a minted token from the chain: prompt from `prompt(tokenId)`, the aigcData's keccak256
 * (topic) and the proof (data) from the `AigcData` event, the attestation (EIP-712 signer over the
 * proof's recipient, isAttester), the collection's verify() with the re-computed aigcData,
 * the metadata when its URI is reachable locally (data: URI, or an ipfs:// CID matching a file
 * under metadataDir), the model's hash against the collection's, and a re-execution of the model on
 * the prompt: outputs -> artifact -> aigcData, and the commitment recomputed from the hashes.
 * @param ctx - a read-only chain context.
 * @param options - collection, token id, model, metadata folder, pipeline trust.
 * @returns the report (`ok` false when a check failed).
 * @throws UsageError when the token does not exist, or a foreign pipeline would run without trust.
 * @example
 * import { verifyToken } from './verify/verifyToken.js'
 * const report = await verifyToken(ctx, { collection, tokenId, modelPath: 'models/cppn' })
 * report.ok // true
 */
export async function verifyToken(ctx: ChainContext, options: VerifyTokenOptions): Promise<VerifyReport> {
  const { keccak256, toHex, hexToBytes } = await import('viem')
  const { aigcCollectionAbi } = await import('../../contracts-abi/index.js')
  const { toImoError } = await import('../chain/toImoError.js')
  const { collection, tokenId } = options
  const tokenIdHex = toHex(tokenId, { size: 32 })
  const list = new CheckList()
  const extra: Record<string, unknown> = { collection, tokenId: tokenId.toString(), tokenIdHex, chainId: ctx.chainId }
  const report = (): VerifyReport => ({
    kind: 'token',
    subject: `${collection}#${tokenIdHex.slice(0, 12)}…`,
    ok: list.ok,
    status: list.status,
    checks: list.checks,
    ...extra,
  })
  const read = async <T>(functionName: string, args: readonly unknown[] = []): Promise<T> => {
    try {
      return (await ctx.publicClient.readContract({
        address: collection,
        abi: aigcCollectionAbi,
        functionName: functionName as never,
        args: args as never,
      })) as T
    } catch (error) {
      if (functionName === 'prompt' && /revert|ERC721NonexistentToken/i.test(String((error as Error)?.message)))
        throw new UsageError(`token ${tokenIdHex} does not exist on the collection ${collection} (chain ${ctx.chainId})`)
      throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: `reading ${functionName} of ${collection}` })
    }
  }
  const code = await ctx.publicClient.getCode({ address: collection }).catch((error: unknown) => {
    throw toImoError(error, { rpcUrl: ctx.rpcUrl })
  })
  if (!code || code === '0x') throw new UsageError(`no contract at ${collection} on chain ${ctx.chainId}`)
  const modelHash = await read<Hex>('modelHash')
  const promptHex = await read<Hex>('prompt', [tokenId])
  const promptBytes = hexToBytes(promptHex)
  const dataHashOnChain = await read<Hex>('aigcDataHash', [tokenId])
  const tokenUri = await read<string>('tokenURI', [tokenId])
  extra.modelHash = modelHash
  extra.tokenUri = tokenUri

  // The AigcData event (final ERC-7007): topics hold keccak256 of the prompt and of the aigcData, the
  // data holds the proof. The aigcData bytes themselves are re-computed by re-execution below.
  const { findLatestLogs } = await import('../chain/findLatestLogs.js')
  const logs = await ctx.publicClient
    .getBlockNumber({ cacheTime: 0 }) // the head now: viem caches it for a polling interval
    .then((head) =>
      findLatestLogs(
        (range) =>
          ctx.publicClient.getContractEvents({
            address: collection,
            abi: aigcCollectionAbi,
            eventName: 'AigcData',
            args: { tokenId } as never,
            ...range,
          }),
        { fromBlock: options.fromBlock ?? 0n, toBlock: head },
      ),
    )
    .catch((error: unknown) => {
      throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: 'reading AigcData logs' })
    })
  const log = logs.at(-1) as { args: { aigcData: Hex; proof: Hex; prompt: Hex }; transactionHash: Hex } | undefined
  if (!log) {
    list.add('AigcData event', false, '', `no AigcData event for token ${tokenIdHex}: the token has no AIGC data`)
    return report()
  }
  const aigcDataTopic = log.args.aigcData
  const proof = log.args.proof
  extra.mintTxHash = log.transactionHash
  extra.aigcDataHash = aigcDataTopic
  list.add(
    'AigcData event',
    aigcDataTopic === dataHashOnChain && log.args.prompt === keccak256(promptBytes),
    `tx ${log.transactionHash}: its aigcData topic is the collection's aigcDataHash, its prompt topic keccak256(prompt(tokenId))`,
    "the event's aigcData or prompt topic does not match the collection's storage",
  )
  // A zk collection's proof (abi.encode(to, uint256[24])) is checked against the model's verifier
  // below, once the re-execution gave the aigcData; an attestation is checked now.
  const zkProof = decodeZkProof(proof)
  if (zkProof) list.add('proof format', true, `PLONK: abi.encode(to ${zkProof.to}, uint256[24])`)
  const { decoded } = zkProof
    ? { decoded: undefined }
    : await checkAttestation(list, {
        chainId: ctx.chainId,
        collection,
        modelHash,
        promptBytes,
        aigcDataHash: aigcDataTopic,
        proof,
        ctx,
      })

  // Metadata, when reachable locally.
  const metadataDir = resolve(options.metadataDir ?? 'out')
  let metadata: AigcMetadata | undefined
  let metadataFolder: string | undefined
  const cid = parseIpfsUri(tokenUri)
  if (tokenUri.startsWith('data:')) {
    const match = /^data:application\/json(?:;charset=[^;,]+)?(;base64)?,(.*)$/s.exec(tokenUri)
    try {
      const text = match?.[1] ? Buffer.from(match[2]!, 'base64').toString('utf8') : decodeURIComponent(match?.[2] ?? '')
      metadata = parseJson(text, 'the data: token URI') as AigcMetadata
    } catch {
      list.add('metadata', false, '', 'the data: token URI is not JSON metadata')
    }
  } else if (cid) {
    const found = findByCid(metadataDir, cid)
    if (found) {
      metadataFolder = found.folder
      try {
        metadata = parseJson(readRegularFile(found.path, 'file').toString('utf8'), found.path) as AigcMetadata
      } catch {
        list.add('metadata', false, '', `${found.path} (CID ${cid}) is not JSON`)
      }
    } else
      list.push({
        name: 'metadata',
        status: 'info',
        detail: `${tokenUri} is not under ${metadataDir} (pass --metadata-dir): informational, not checked`,
      })
  } else
    list.push({
      name: 'metadata',
      status: 'info',
      detail: tokenUri ? `token URI ${tokenUri} is not reachable locally: informational, not checked` : 'the token has no URI',
    })
  if (metadata) {
    const imo = metadata.imo
    const problems: string[] = []
    if (decoded && metadata.commitment !== decoded.commitment) problems.push('commitment differs from the proof')
    if (metadata.model_hash?.toLowerCase() !== modelHash.toLowerCase()) problems.push('model_hash differs from the collection')
    const promptText = imo?.prompt_encoding === 'utf8' ? Buffer.from(promptBytes).toString('utf8') : undefined
    if (promptText !== undefined && metadata.prompt !== promptText) problems.push('prompt differs from prompt(tokenId)')
    if (imo?.artifact && metadataFolder && imo.artifact.cid) {
      try {
        const artifactBytes = new Uint8Array(readRegularFile(join(metadataFolder, imo.artifact.file), 'file'))
        if (computeCid(artifactBytes) !== imo.artifact.cid) problems.push(`the artifact file's CID is not ${imo.artifact.cid}`)
      } catch {
        // the artifact is not beside the metadata: its CID is checked by the re-execution below
      }
    }
    list.add(
      'metadata',
      problems.length === 0,
      `${tokenUri.startsWith('data:') ? 'data: URI' : tokenUri} matches the token (prompt, model hash, commitment)`,
      problems.join('; '),
    )
  }

  // The model and its re-execution on the prompt.
  const ort = await import('onnxruntime-node')
  const ourVersion = ort.env.versions.common ?? 'unknown'
  const recorded: InferenceConfig | undefined = metadata?.imo?.config
  const config = recorded ?? defaultInferenceConfig(ourVersion)
  list.push(
    !recorded
      ? {
          name: 'runtime',
          status: 'warn',
          detail: `no metadata with the recorded settings: assuming imo's defaults on onnxruntime ${ourVersion}`,
        }
      : recorded.onnxruntimeVersion === ourVersion
        ? { name: 'runtime', status: 'pass', detail: `onnxruntime ${ourVersion}, as recorded` }
        : {
            name: 'runtime',
            status: 'warn',
            detail: `recorded with onnxruntime ${recorded.onnxruntimeVersion}, this imo runs ${ourVersion}: output bits may differ`,
          },
  )
  const { loadModel } = await import('../inference/loadModel.js')
  const { runModel } = await import('../inference/runModel.js')
  const { decodeTensors } = await import('../tensor/decodeTensors.js')
  const { encodeTensors } = await import('../tensor/encodeTensors.js')
  extra.modelPath = resolve(options.modelPath)
  // The model not being on this machine says nothing about the token: the check cannot run (unverified),
  // it did not fail.
  if (!existsSync(options.modelPath)) {
    list.add(
      're-execution',
      null,
      `the model ${options.modelPath} is not on this machine: the re-execution needs it (pass --model PATH)`,
    )
    list.add('on-chain verify', null, 'needs the aigcData bytes, which only the re-execution gives')
    return report()
  }
  try {
    const model = await loadModel(options.modelPath, { config })
    if (
      !list.add(
        'model hash',
        model.modelHash === modelHash,
        `${options.modelPath} hashes to the collection's ${modelHash}`,
        `${options.modelPath} hashes to ${model.modelHash}, the collection is bound to ${modelHash}`,
      )
    )
      return report()
    // A causal-lm model re-generates with imo's own loop and the settings the metadata commits.
    const { regenerateFromPrompt } = await import('../generate/regenerateFromPrompt.js')
    const generated = await regenerateFromPrompt(model, promptBytes, config)
    // Otherwise a pipeline is loaded only now that the model hash matched, from the bytes that hash
    // covers; trust is decided on them.
    const { loadZkPipeline } = await import('../zk/loadZkPipeline.js')
    const zk = generated ? undefined : await loadZkPipeline(model)
    const pipeline =
      zk ??
      (!generated && model.pipelinePath
        ? await model.pipeline((sha256, path) => pipelineTrust(sha256, path, Boolean(options.trustPipeline)))
        : undefined)
    const inputs = generated
      ? generated.inputs
      : pipeline
        ? await pipeline.encode(Buffer.from(promptBytes).toString('utf8'))
        : decodeTensors(promptBytes, 'the prompt')
    const inputHash = sha256Hex(encodeTensors(inputs))
    const outputs = generated ? generated.outputs : await runModel(model, inputs)
    const outputEncoding = encodeTensors(outputs)
    const outputHash = sha256Hex(outputEncoding)
    const artifact = generated ? generated.artifact.bytes : pipeline ? (await pipeline.decode(outputs)).bytes : outputEncoding
    const digest = hexToBytes(sha256Hex(artifact))
    // The on-chain aigcData is known by its keccak256 only: the re-computed bytes must hash to it.
    const mode = keccak256(digest) === aigcDataTopic ? 'digest' : keccak256(artifact) === aigcDataTopic ? 'inline' : undefined
    let difference = ''
    if (!mode && metadata?.imo && outputHash !== metadata.imo.output_hash)
      difference = `; outputs differ from the recorded output hash ${metadata.imo.output_hash}`
    if (!mode && metadataFolder) difference += await largestDifference(metadataFolder, outputs)
    // Settings assumed (no metadata recorded them): another text says only that other settings were
    // used, so the check could not run; it is not evidence against the token.
    const assumed = generated?.assumedSettings === true
    if (!mode && assumed)
      list.add(
        're-execution',
        null,
        `re-generating with the model's own settings (${JSON.stringify(generated.settings)}) gives another text (sha256 ${sha256Hex(artifact)}); the token's metadata, which records the settings it was generated with, is not available${options.metadataDir ? ` under ${metadataDir}` : ' (pass --metadata-dir with the folder that holds it)'}`,
      )
    else
      list.add(
        're-execution',
        mode !== undefined,
        `re-running the model on the prompt gives the on-chain aigcData (${mode}, artifact sha256 ${sha256Hex(artifact)})${assumed ? `, with the model's own settings (${JSON.stringify(generated.settings)})` : ''}`,
        `re-running the model on the prompt gives another artifact (sha256 ${sha256Hex(artifact)})${difference}`,
      )
    if (mode)
      await checkOnChainVerify(list, { collection, promptBytes, aigcData: mode === 'digest' ? digest : artifact, proof, ctx })
    else list.add('on-chain verify', null, 'needs the aigcData bytes, which the re-execution did not reproduce')
    if (zkProof && mode === 'inline')
      await checkZkProof(list, {
        name: 'zk proof',
        modelHash,
        modelPath: options.modelPath,
        promptBytes,
        aigcData: artifact,
        recipient: zkProof.to,
        proof: proofFromWords(zkProof.words),
      })
    else if (zkProof) list.add('zk proof', null, 'needs the aigcData bytes, which the re-execution did not reproduce')
    if (decoded && !mode && assumed)
      list.add('commitment', null, 'needs the settings the token was generated with, which the re-generation did not find')
    else if (decoded) {
      const configHash = computeConfigHash(assumed ? { ...config, generation: generated.settings } : config)
      const commitment = computeCommitment({ modelHash: model.modelHash, inputHash, outputHash, configHash })
      // With assumed settings the same text can come from settings that differ where it did not
      // matter (a larger --max-new-tokens than the text needed): the configuration hash is then unknown.
      list.add(
        'commitment',
        commitment === decoded.commitment ? true : assumed ? null : false,
        commitment === decoded.commitment
          ? `keccak256(tag, model, input, output, config hashes) = the proof's ${commitment}`
          : `the text matches, but with the model's own settings the commitment is ${commitment}, not the proof's ${decoded.commitment}: the settings it was generated with are in its metadata, which is not available`,
        `recomputed ${commitment}, the proof commits to ${decoded.commitment}`,
      )
    }
  } catch (error) {
    if (error instanceof PipelineNotTrustedError) throw error
    list.add('re-execution', false, '', `could not re-run ${options.modelPath}: ${errorLine(error)}`)
  }
  return report()
}

/** Finds a file whose raw CID is `cid` under `root` (depth 3, files up to one IPFS block). */
function findByCid(root: string, cid: string): { path: string; folder: string } | undefined {
  const walk = (folder: string, depth: number): { path: string; folder: string } | undefined => {
    let entries: string[]
    try {
      entries = readdirSync(folder)
    } catch {
      return undefined
    }
    for (const name of entries.sort()) {
      if (name.startsWith('.')) continue
      const path = join(folder, name)
      const stat = statSync(path, { throwIfNoEntry: false })
      if (!stat) continue
      if (stat.isDirectory() && depth > 0) {
        const found = walk(path, depth - 1)
        if (found) return found
      } else if (stat.isFile() && stat.size <= IPFS_MAX_RAW_BLOCK && name.endsWith('.json')) {
        if (computeCid(new Uint8Array(readRegularFile(path, 'file'))) === cid) return { path, folder }
      }
    }
    return undefined
  }
  return walk(root, 3)
}

/** ", largest difference X" from the outputs recorded beside the metadata, when there are some. */
async function largestDifference(folder: string, outputs: import('../tensor/dtypes.js').TensorSet): Promise<string> {
  try {
    const { compareTensorSets } = await import('../inference/compareTensors.js')
    const { decodeTensors } = await import('../tensor/decodeTensors.js')
    const recorded = decodeTensors(new Uint8Array(readRegularFile(join(folder, 'outputs.imt'), 'file')), 'outputs.imt')
    const comparison = compareTensorSets(recorded, outputs)
    return comparison.maxAbsDiff !== undefined ? `; largest difference from the recorded outputs ${comparison.maxAbsDiff}` : ''
  } catch {
    return ''
  }
}
