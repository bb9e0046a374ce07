/**
 * `imo verify RESPONSE.json`: re-checks an answer of the paid API (`imo serve --http`, saved by `imo
 * ask` or by any client) like a record: the output in the body against the record's artifact digest,
 * the attestation's fields against the record, the signature's signer, the attester on chain, the
 * model's hash, and a re-execution of the model on the prompt with the committed settings (same
 * commitment, same output bytes). Without a chain the attester check is skipped: "unverified".
 */
import { createHash } from 'node:crypto'
import type { Address, Hex } from 'viem'
import type { ApiResponseProof } from '../api/apiResponses.js'
import type { ChainContext } from '../chain/connect.js'
import { UsageError } from '../errors.js'
import { parseJson } from '../util/parseJson.js'
import { readRegularFile } from '../util/readRegularFile.js'
import { CheckList, errorLine, type VerifyReport } from './checks.js'

export interface VerifyResponseOptions {
  /** The model to re-run (required: a response names the model by its hash only). */
  modelPath?: string
  connect?: () => Promise<ChainContext | undefined>
}

/**
 * The parsed document when `path` is a saved API answer (it has an `imo` field of format
 * `imo-api-response-v1`), else undefined. Read once: the bytes checked are the bytes parsed.
 * @example
 * readApiResponse('answers/3fa2b4c1d9e0.json')?.imo.record.commitment
 */
export function readApiResponse(path: string): (Record<string, unknown> & { imo: ApiResponseProof }) | undefined {
  if (!path.endsWith('.json')) return undefined
  let doc: unknown
  try {
    doc = parseJson(readRegularFile(path, 'the answer', { maxBytes: 64 * 1024 * 1024 }).toString('utf8'), path)
  } catch {
    return undefined
  }
  const imo = (doc as { imo?: { format?: unknown } } | null)?.imo
  return imo?.format === 'imo-api-response-v1' ? (doc as Record<string, unknown> & { imo: ApiResponseProof }) : undefined
}

/**
 * Verifies a saved answer.
 * @returns the report ('failed' exit 9, 'unverified' exit 10, 'verified').
 * @throws UsageError without --model or for a file that is not an API answer.
 * @example
 * const report = await verifyResponse('answers/3fa2b4c1d9e0.json', { modelPath: 'models/tinylm', connect })
 */
export async function verifyResponse(path: string, options: VerifyResponseOptions): Promise<VerifyReport> {
  const doc = readApiResponse(path)
  if (!doc)
    throw new UsageError(`${path} is not a saved answer of imo serve --http (no "imo" field of format imo-api-response-v1)`)
  if (!options.modelPath) throw new UsageError('verifying an API answer re-runs the model: pass --model PATH')
  const { imo } = doc
  const { record, attestation } = imo
  const list = new CheckList()
  const report = (): VerifyReport => ({
    kind: 'record',
    subject: path,
    ok: list.ok,
    status: list.status,
    checks: list.checks,
    commitment: record.commitment,
    payer: attestation.payer,
  })
  const { keccak256, isAddressEqual } = await import('viem')
  const output = outputBytes(doc)
  const sha = `0x${createHash('sha256')
    .update(output ?? new Uint8Array())
    .digest('hex')}`
  list.add(
    'output',
    output !== undefined && sha === record.artifact.sha256,
    `the answer's output has the record's sha256 ${sha}`,
    output === undefined
      ? 'the answer has no output'
      : `the answer's output hashes to ${sha}, the record says ${record.artifact.sha256}`,
  )
  list.add(
    'output digest',
    record.aigcDataMode === 'digest' && keccak256(record.artifact.sha256 as Hex) === record.aigcDataHash,
    'aigcDataHash = keccak256(artifact sha256)',
    'aigcDataHash does not match the artifact digest',
  )
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()
  list.add(
    'attestation fields',
    same(attestation.modelHash, record.modelHash) &&
      same(attestation.promptHash, record.promptHash) &&
      same(attestation.aigcDataHash, record.aigcDataHash) &&
      same(attestation.commitment, record.commitment),
    "model, prompt, output digest and commitment are the record's",
    'the attestation signs other values than the record holds',
  )
  const { recoverApiResponseSigner } = await import('../api/attestResponse.js')
  const signer = await recoverApiResponseSigner(attestation, imo.signature)
  list.add(
    'signature',
    signer !== undefined && isAddressEqual(signer, imo.attester),
    `signed by ${imo.attester}`,
    `signed by ${signer ?? 'nobody (malformed)'}, not ${imo.attester}`,
  )
  await checkAttester(list, attestation.collection, attestation.chainId, imo.attester, options)
  try {
    await reexecute(list, doc, options.modelPath)
  } catch (error) {
    if (error instanceof UsageError) throw error
    list.add('re-execution', false, '', errorLine(error))
  }
  return report()
}

/** The output bytes the body carries: a completion's text, a chat message, an image. */
function outputBytes(doc: Record<string, unknown>): Uint8Array | undefined {
  const choice = (doc.choices as Array<Record<string, unknown>> | undefined)?.[0]
  if (typeof choice?.text === 'string') return Buffer.from(choice.text, 'utf8')
  const content = (choice?.message as { content?: unknown } | undefined)?.content
  if (typeof content === 'string') return Buffer.from(content, 'utf8')
  const image = (doc.data as Array<{ b64_json?: unknown }> | undefined)?.[0]?.b64_json
  if (typeof image === 'string') return Buffer.from(image, 'base64')
  return undefined
}

/** The attester is one of the collection's, on the chain the attestation names (skip without one). */
async function checkAttester(
  list: CheckList,
  collection: Address,
  chainId: number,
  attester: Address,
  options: VerifyResponseOptions,
): Promise<void> {
  let ctx: ChainContext | undefined
  try {
    ctx = await options.connect?.()
  } catch {
    ctx = undefined
  }
  if (!ctx || ctx.chainId !== chainId) {
    list.add(
      'attester',
      null,
      ctx ? `the answer is attested on chain ${chainId}, connected to ${ctx.chainId}` : 'no chain to ask the collection',
    )
    return
  }
  const { readCollection } = await import('./checkAttestation.js')
  const read = await readCollection<boolean>({ collection, ctx }, 'isAttester', [attester])
  if ('failed' in read) list.add('attester', false, '', `${collection} ${read.notCollection}`)
  else
    list.add(
      'attester',
      read.value,
      `${attester} is an attester of ${collection}`,
      `${attester} is not an attester of ${collection}`,
    )
}

/** Re-runs the model on the prompt with the committed generation settings: same model hash, commitment and output. */
async function reexecute(
  list: CheckList,
  doc: Record<string, unknown> & { imo: ApiResponseProof },
  modelPath: string,
): Promise<void> {
  const { record } = doc.imo
  const { loadModel } = await import('../inference/loadModel.js')
  const model = await loadModel(modelPath)
  if (
    !list.add(
      'model hash',
      model.modelHash === record.modelHash,
      `${modelPath} hashes to the record's ${record.modelHash}`,
      `${modelPath} hashes to ${model.modelHash}, the answer was made with ${record.modelHash}`,
    )
  )
    return
  if (record.prompt === null) {
    list.add('re-execution', false, '', 'the record has no prompt to re-run')
    return
  }
  const generation = (record.config as { generation?: Record<string, number> }).generation
  const { runInference } = await import('../inference/runInference.js')
  const again = await runInference({
    modelPath: model,
    prompt: record.prompt,
    ...(generation
      ? {
          generation: {
            maxNewTokens: generation.maxNewTokens,
            temperature: generation.temperature,
            topK: generation.topK,
            topP: generation.topP,
            seed: generation.seed,
          },
        }
      : {}),
  })
  list.add(
    're-execution',
    again.record.commitment === record.commitment && again.record.artifact.sha256 === record.artifact.sha256,
    `the model reproduces the commitment ${record.commitment} and the output`,
    `the model gives the commitment ${again.record.commitment} and output ${again.record.artifact.sha256}, the answer says ${record.commitment} and ${record.artifact.sha256}`,
  )
}
