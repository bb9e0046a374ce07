/**
 * The zk checks of `imo verify` (docs/formats.md section 11): a PLONK proof checked offline against the
 * model's verification key, with public signals recomputed from the bytes the proof claims (model
 * hash, prompt, the aigcData's pixels, recipient), never taken from the proof. Used for a record's
 * proof.json, for the proof a mint.json names, and for the proof of a token's AigcData event.
 */
import type { Address } from 'viem'
import { isZkModelFolder, readZkModel } from '../zk/readZkModel.js'
import { type CheckList, errorLine } from './checks.js'

export interface CheckZkProofParams {
  /** What the check is called in the report ('zk proof', 'zk proof (mint.json)', …). */
  name: string
  modelHash: `0x${string}`
  /** The zk model folder (its verification key comes from imo's cache). */
  modelPath: string
  promptBytes: Uint8Array
  aigcData: Uint8Array
  recipient: Address
  proof: import('snarkjs').PlonkProof
}

/**
 * Checks a zk proof offline and adds the result to `list`: pass, fail (the proof does not verify for
 * these bytes), or skip (no verification key here: unverified, never verified).
 * @example
 * await checkZkProof(list, { name: 'zk proof', modelHash, modelPath, promptBytes, aigcData, recipient, proof })
 */
export async function checkZkProof(list: CheckList, params: CheckZkProofParams): Promise<boolean | null> {
  if (!isZkModelFolder(params.modelPath)) {
    list.add(params.name, null, `${params.modelPath} is not a zk model folder: the verification key needs it (pass --model)`)
    return null
  }
  const { readFileSync } = await import('node:fs')
  const { ensureZkKeys } = await import('../zk/ensureZkKeys.js')
  const { verifyZkProof } = await import('../zk/verifyZkProof.js')
  let keys: Awaited<ReturnType<typeof ensureZkKeys>>
  let model: Awaited<ReturnType<typeof readZkModel>>
  try {
    model = await readZkModel(params.modelPath)
    if (model.modelHash !== params.modelHash) {
      list.add(params.name, false, '', `${params.modelPath} hashes to ${model.modelHash}, the proof is for ${params.modelHash}`)
      return false
    }
    keys = await ensureZkKeys(model)
  } catch (error) {
    list.add(params.name, null, `no verification key for the model here (${errorLine(error)})`)
    return null
  }
  if (
    params.aigcData.length !== model.prefix.length + model.payloadOrder.length ||
    !Buffer.from(params.aigcData.subarray(0, model.prefix.length)).equals(Buffer.from(model.prefix))
  ) {
    list.add(params.name, false, '', "the aigcData is not an image of the model's layout (prefix and size)")
    return false
  }
  const vk = JSON.parse(readFileSync(keys.paths.verificationKey, 'utf8'))
  const check = await verifyZkProof(vk, params.proof, {
    modelHash: params.modelHash,
    prompt: params.promptBytes,
    payload: params.aigcData.subarray(model.prefix.length),
    recipient: params.recipient,
  })
  const ok = list.add(
    params.name,
    check.ok,
    `the PLONK proof verifies against the model's verification key for this model, prompt, image and recipient ${params.recipient}${keys.setup.insecure ? ' (INSECURE test setup: whoever knows its secret can forge)' : ''}`,
    check.reason ?? 'the PLONK proof does not verify',
  )
  if (keys.setup.insecure)
    list.push({ name: 'zk setup', status: 'warn', detail: 'the verification key comes from an INSECURE test powers-of-tau file' })
  return ok
}
