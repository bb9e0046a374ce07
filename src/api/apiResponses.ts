/**
 * The OpenAI-shaped answers of the paid API, each with its `imo` field: the inference record (without
 * the server's file paths), the attestation's values, the attester and its signature, and the payment's
 * settlement (docs/formats.md section 12). A saved answer is what `imo verify RESPONSE.json` re-checks.
 */
import { basename } from 'node:path'
import type { Address, Hex } from 'viem'
import type { InferenceResult } from '../inference/assembleInference.js'
import type { InferenceRecord } from '../inference/record.js'
import type { ApiCall } from './apiRequests.js'
import type { ApiResponseAttestation } from './attestResponse.js'

/** The format name of the `imo` field. */
export const API_RESPONSE_FORMAT = 'imo-api-response-v1'

/** The `imo` field of every paid answer. */
export interface ApiResponseProof {
  format: typeof API_RESPONSE_FORMAT
  record: InferenceRecord
  attestation: ApiResponseAttestation
  attester: Address
  signature: Hex
  /** The payment's settlement: `amountWei` is in the smallest unit of the currency `asset` (as every *Wei of docs/json.md). */
  settlement?: { txHash: Hex; network: string; payer: Address; asset: Address; amountWei: string }
}

/**
 * The record as a response shows it: the model's paths are the server's, so only the folder's name stays.
 * @example
 * publicRecord(result.record).model.absolutePath // 'tinylm'
 */
export function publicRecord(record: InferenceRecord): InferenceRecord {
  const name = basename(record.model.absolutePath)
  return { ...record, model: { ...record.model, path: name, absolutePath: name } }
}

/**
 * The JSON body of a non-streamed answer.
 * @param call - the checked request.
 * @param result - the inference.
 * @param proof - the `imo` field.
 * @example
 * responseBody(call, result, proof).choices[0].text
 */
export function responseBody(
  call: ApiCall,
  result: InferenceResult,
  proof: ApiResponseProof,
): Record<string, unknown> & { imo: ApiResponseProof } {
  const created = Math.floor(Date.parse(result.record.finishedAt) / 1000)
  const id = `${call.endpoint === 'chat' ? 'chatcmpl' : 'cmpl'}-${result.record.commitment.slice(2, 26)}`
  if (call.endpoint === 'images')
    return { created, data: [{ b64_json: Buffer.from(result.artifact.bytes).toString('base64') }], imo: proof }
  const text = Buffer.from(result.artifact.bytes).toString('utf8')
  const usage = usageOf(result)
  const finish = finishReason(result)
  if (call.endpoint === 'chat')
    return {
      id,
      object: 'chat.completion',
      created,
      model: call.model,
      choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: finish, logprobs: null }],
      usage,
      imo: proof,
    }
  return {
    id,
    object: 'text_completion',
    created,
    model: call.model,
    choices: [{ index: 0, text, finish_reason: finish, logprobs: null }],
    usage,
    imo: proof,
  }
}

/**
 * The server-sent events of a streamed chat or completion: one chunk per piece of text the model
 * produced (as it produced them), the last chunk with the finish reason and the `imo` field, then `[DONE]`.
 * @example
 * streamEvents(call, result, proof, ['Hel', 'lo']) // ['data: {…}\n\n', …, 'data: [DONE]\n\n']
 */
export function streamEvents(
  call: ApiCall,
  result: InferenceResult,
  proof: ApiResponseProof,
  pieces: readonly string[],
): string[] {
  const body = responseBody(call, result, proof)
  const base = {
    id: body.id,
    object: call.endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion',
    created: body.created,
    model: call.model,
  }
  const chunk = (content: string, finish: string | null, extra: Record<string, unknown> = {}) =>
    call.endpoint === 'chat'
      ? {
          ...base,
          choices: [
            {
              index: 0,
              delta: content === '' && finish === null ? { role: 'assistant', content: '' } : { content },
              finish_reason: finish,
            },
          ],
          ...extra,
        }
      : { ...base, choices: [{ index: 0, text: content, finish_reason: finish, logprobs: null }], ...extra }
  const events = [
    ...(call.endpoint === 'chat' ? [chunk('', null)] : []),
    ...pieces.filter((piece) => piece !== '').map((piece) => chunk(piece, null)),
    chunk('', finishReason(result), { usage: usageOf(result), imo: proof }),
  ]
  return [...events.map((event) => `data: ${JSON.stringify(event)}\n\n`), 'data: [DONE]\n\n']
}

/** Token counts of a generation (0 for models without one). */
function usageOf(result: InferenceResult): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const count = (name: string, set: InferenceResult['inputs']) => Number(set[name]?.dims.at(-1) ?? 0)
  const prompt = count('input_ids', result.inputs)
  const completion = count('generated_ids', result.outputs)
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion }
}

/** `stop` when the generation ended on a stop token, `length` when it used max_tokens. */
function finishReason(result: InferenceResult): 'stop' | 'length' {
  const generation = (result.record.config as { generation?: { maxNewTokens: number; stopIds: number[] } }).generation
  const ids = result.outputs.generated_ids
  if (!generation || !ids) return 'stop'
  const data = ids.data as BigInt64Array
  const last = data.length > 0 ? Number(data[data.length - 1]) : undefined
  return last !== undefined && generation.stopIds.includes(last)
    ? 'stop'
    : data.length >= generation.maxNewTokens
      ? 'length'
      : 'stop'
}
