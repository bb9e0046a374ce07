import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { ChainContext } from '../chain/connect.js'
import { UsageError } from '../errors.js'
import { LM_PIPELINE_FILE } from '../generate/loadCausalLm.js'
import { computeCommitment } from '../inference/commitment.js'
import { computeConfigHash, defaultInferenceConfig } from '../inference/config.js'
import { aigcDataBytes, erc7007PromptBytes } from '../inference/erc7007.js'
import { type InferenceRecord, readRecord } from '../inference/record.js'
import { MINT_FILE, readMintFile } from '../mint/mintFile.js'
import { sha256Hex } from '../tensor/encodeTensors.js'
import { checkAttestation } from './checkAttestation.js'
import { CheckList, errorLine, type VerifyReport } from './checks.js'
import { pipelineTrust } from './pipelineTrust.js'

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
 * runs the pipeline to check prompt -> inputs and outputs -> artifact, and checks mint.json's proof
 * (EIP-712 signer, attester on the collection, the collection's verify()).
 * @param recordPath - record.json or its folder.
 * @param options - model override, pipeline trust, mint record, chain connection.
 * @returns the report; `ok` is false when a check failed (the command then exits 9).
 * @throws UsageError when the record does not exist, or a foreign pipeline would run without trust.
 * @example
 * import { verifyRecord } from './verify/verifyRecord.js'
 * const report = await verifyRecord('out/3fa2b4c1d9e0')
 * report.ok // true
 */
export async function verifyRecord(recordPath: string, options: VerifyRecordOptions = {}): Promise<VerifyReport> {
  const file = resolve(recordPath.endsWith('.json') ? recordPath : join(recordPath, 'record.json'))
  if (!existsSync(file)) throw new UsageError(`no inference record at ${recordPath} (expected record.json or its folder)`)
  const dir = dirname(file)
  const list = new CheckList()
  const report = (extra: Record<string, unknown> = {}): VerifyReport => ({
    kind: 'record',
    subject: file,
    ok: list.ok,
    checks: list.checks,
    ...extra,
  })
  let record: InferenceRecord
  try {
    record = readRecord(file)
  } catch (error) {
    list.add('record format', false, '', errorLine(error))
    return report()
  }
  const { keccak256 } = await import('viem')
  const ort = await import('onnxruntime-node')
  const ourVersion = ort.env.versions.common ?? 'unknown'

  // Said first: a different runtime or non-default settings.
  const defaults = defaultInferenceConfig(record.config.onnxruntimeVersion)
  const changed = (Object.keys(defaults) as Array<keyof typeof defaults>).filter((key) => defaults[key] !== record.config[key])
  const settings = changed.length
    ? `; recorded non-default settings, used for the re-run: ${changed.map((k) => `${k}=${record.config[k]}`).join(', ')}`
    : ''
  list.push(
    record.config.onnxruntimeVersion === ourVersion
      ? { name: 'runtime', status: 'pass', detail: `onnxruntime ${ourVersion}, as recorded${settings}` }
      : {
          name: 'runtime',
          status: 'warn',
          detail: `recorded with onnxruntime ${record.config.onnxruntimeVersion}, this imo runs ${ourVersion}: output bits may differ${settings}`,
        },
  )

  // Every hash, from the files.
  const readBytes = (name: string): Uint8Array | undefined => {
    try {
      return new Uint8Array(readFileSync(join(dir, name)))
    } catch {
      return undefined
    }
  }
  const inputs = readBytes(record.inputs.file)
  const outputs = readBytes(record.outputs.file)
  const artifact = readBytes(record.artifact.file)
  const hashCheck = (name: string, bytes: Uint8Array | undefined, file: string, expected: string) =>
    bytes === undefined
      ? list.add(name, false, '', `${file} is missing`)
      : list.add(
          name,
          sha256Hex(bytes) === expected,
          `sha256(${file}) = ${expected}`,
          `sha256(${file}) = ${sha256Hex(bytes)}, the record says ${expected}`,
        )
  hashCheck('input hash', inputs, record.inputs.file, record.inputHash)
  hashCheck('output hash', outputs, record.outputs.file, record.outputHash)
  hashCheck('artifact hash', artifact, record.artifact.file, record.artifact.sha256)
  const promptBytes = inputs ? erc7007PromptBytes({ prompt: record.prompt, inputEncoding: inputs }) : undefined
  if (promptBytes) {
    const h = keccak256(promptBytes)
    list.add(
      'prompt hash',
      h === record.promptHash,
      `keccak256(prompt) = ${h}`,
      `keccak256(prompt) = ${h}, the record says ${record.promptHash}`,
    )
  }
  if (artifact) {
    const h = keccak256(aigcDataBytes(artifact, record.aigcDataMode))
    list.add(
      'aigcData hash',
      h === record.aigcDataHash,
      `keccak256(aigcData, ${record.aigcDataMode}) = ${h}`,
      `keccak256(aigcData) = ${h}, the record says ${record.aigcDataHash}`,
    )
  }
  const configHash = computeConfigHash(record.config)
  list.add(
    'config hash',
    configHash === record.configHash,
    `keccak256(settings) = ${configHash}`,
    `keccak256(settings) = ${configHash}, the record says ${record.configHash}`,
  )
  const commitment = computeCommitment(record)
  list.add(
    'commitment',
    commitment === record.commitment,
    commitment,
    `recomputed ${commitment}, the record says ${record.commitment}`,
  )

  // The model and its re-execution.
  const modelPath = options.modelPath ?? (existsSync(record.model.absolutePath) ? record.model.absolutePath : record.model.path)
  const { findPipeline } = await import('../inference/loadPipeline.js')
  const pipelinePath = record.model.pipeline === null ? undefined : findPipeline(modelPath)
  const builtIn = record.model.pipeline === LM_PIPELINE_FILE
  const trust = builtIn ? 'built-in causal-lm' : pipelineTrust(pipelinePath, Boolean(options.trustPipeline))
  const { reexecute } = await import('../inference/reexecute.js')
  try {
    const rerun = await reexecute(record, { recordDir: dir, modelPath, trustPipeline: trust !== 'none' })
    list.add(
      'model hash',
      rerun.modelMatches,
      `${modelPath} hashes to ${rerun.modelHash}`,
      `${modelPath} hashes to ${rerun.modelHash}, the record says ${record.modelHash}`,
    )
    const where = rerun.firstMismatch
      ? `; first at ${rerun.firstMismatch.tensor}${rerun.firstMismatch.index !== undefined ? `[${rerun.firstMismatch.index}]` : ''}: recorded ${rerun.firstMismatch.expected}, re-run ${rerun.firstMismatch.actual}`
      : ''
    list.add(
      're-execution',
      rerun.matches,
      `outputs bit-identical (sha256 ${rerun.outputHash})`,
      `outputs differ: re-run sha256 ${rerun.outputHash}${rerun.maxAbsDiff !== undefined ? `, largest difference ${rerun.maxAbsDiff}` : ''}${where}`,
    )
    if (record.model.pipeline !== null) {
      if (record.prompt !== null)
        list.add(
          'prompt -> inputs',
          rerun.promptMatches,
          `the pipeline encodes the prompt into the committed inputs (${trust} pipeline)`,
          'the pipeline encodes the prompt into other inputs',
        )
      list.add(
        'outputs -> artifact',
        rerun.artifactMatches,
        `the pipeline decodes the outputs into the recorded artifact (${trust} pipeline)`,
        `the pipeline decodes the outputs into another artifact${rerun.artifactDifference ? ` (${rerun.artifactDifference})` : ''}`,
      )
    } else
      list.add(
        'outputs -> artifact',
        rerun.artifactMatches,
        "the artifact is the outputs' encoding",
        "the artifact is not the outputs' encoding",
      )
  } catch (error) {
    if (error instanceof UsageError && /trust-pipeline/.test(error.message)) throw error
    list.add('re-execution', false, '', `could not re-run ${modelPath}: ${errorLine(error)}`)
  }

  // The proof, when the record was minted.
  const mintPath = options.mintFile ? resolve(options.mintFile) : join(dir, MINT_FILE)
  let mint: ReturnType<typeof readMintFile>
  try {
    mint = readMintFile(mintPath)
  } catch (error) {
    list.add('mint record', false, '', errorLine(error))
  }
  if (mint === undefined) {
    if (options.mintFile) throw new UsageError(`no mint record at ${options.mintFile}`)
    if (list.checks.every((c) => c.name !== 'mint record'))
      list.add('attestation', null, `no ${MINT_FILE} beside the record: not minted, so only the inference was checked`)
    return report({ commitment: record.commitment, modelPath: resolve(modelPath), onnxruntimeVersion: ourVersion })
  }
  if (artifact && promptBytes) {
    const aigcData = aigcDataBytes(artifact, mint.aigcDataMode)
    const sameData =
      mint.promptHash === record.promptHash &&
      mint.commitment === record.commitment &&
      mint.aigcDataHash === keccak256(aigcData) &&
      mint.modelHash === record.modelHash
    list.add(
      'proof data',
      sameData,
      `${MINT_FILE} attests this record's prompt, aigcData and commitment`,
      `${MINT_FILE} attests other data than this record`,
    )
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
        `the token is on chain ${mint.chainId}, the RPC serves chain ${ctx.chainId}: on-chain checks skipped`,
      )
      ctx = undefined
    }
    const { decoded } = await checkAttestation(list, {
      chainId: mint.chainId,
      collection: mint.collection,
      modelHash: record.modelHash,
      promptBytes,
      aigcData,
      proof: mint.proof,
      ...(ctx ? { ctx } : {}),
    })
    if (decoded)
      list.add(
        'proof commitment',
        decoded.commitment === record.commitment,
        "the proof commits to the record's commitment",
        `the proof commits to ${decoded.commitment}`,
      )
    if (ctx) {
      const { aigcCollectionAbi } = await import('../../contracts-abi/index.js')
      const onChain = (await ctx.publicClient.readContract({
        address: mint.collection,
        abi: aigcCollectionAbi,
        functionName: 'aigcDataHash',
        args: [BigInt(mint.tokenId)],
      })) as string
      list.add(
        'token on chain',
        onChain === mint.aigcDataHash,
        `token ${mint.tokenIdHex.slice(0, 12)}… holds this aigcData`,
        /^0x0+$/.test(onChain)
          ? `token ${mint.tokenIdHex} has no aigcData on ${mint.collection} (not minted?)`
          : `token ${mint.tokenIdHex} holds other aigcData (${onChain})`,
      )
    }
  }
  return report({ commitment: record.commitment, modelPath: resolve(modelPath), onnxruntimeVersion: ourVersion, mint: mintPath })
}
