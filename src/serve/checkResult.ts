/**
 * The "check" stage: before serve signs anything, a result is bound to what serve itself knows, whatever
 * source made it (this process, a queue worker, or later an off-chain caller's run): the deployment's
 * model hash, the prompt bytes as the chain (or the caller) gave them, the aigcData mode serve asked
 * for, and an aigcData that is the artifact's digest (or the artifact itself). A result that fails is
 * never signed. (A queue source checks more of a worker's result first: queueInference.ts.)
 */
import { createHash } from 'node:crypto'
import type { Hex } from 'viem'
import type { AigcDataMode } from '../inference/erc7007.js'
import type { MintItem } from '../mint/mintRecords.js'

/** What a result must match. */
export interface ResultExpectation {
  modelHash: Hex
  /** The prompt bytes, as the request states them. */
  prompt: Uint8Array
  aigcDataMode: AigcDataMode
}

/**
 * Why a result does not match what serve knows, or undefined when it does.
 * @param item - the result (record, artifact, prompt and aigcData bytes).
 * @param expected - model hash, prompt bytes and aigcData mode.
 * @returns a one-line reason, or undefined.
 * @example
 * checkResult(item, { modelHash: deployment.modelHash, prompt: promptBytes, aigcDataMode: 'digest' }) // undefined
 */
export function checkResult(item: MintItem, expected: ResultExpectation): string | undefined {
  const { record } = item
  const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b))
  if (record.modelHash.toLowerCase() !== expected.modelHash.toLowerCase())
    return `made with model ${record.modelHash}, not the deployment's ${expected.modelHash}`
  if (!same(item.promptBytes, expected.prompt)) return "its prompt bytes are not the request's"
  if (record.prompt !== null && !same(Buffer.from(record.prompt, 'utf8'), expected.prompt))
    return "its record's prompt is not the request's"
  if (record.aigcDataMode !== expected.aigcDataMode) return `aigcData mode ${record.aigcDataMode}, not ${expected.aigcDataMode}`
  const digest = createHash('sha256').update(item.artifactBytes).digest()
  if (`0x${digest.toString('hex')}` !== record.artifact.sha256.toLowerCase())
    return "its artifact does not hash to its record's sha256"
  const aigcData = expected.aigcDataMode === 'digest' ? digest : item.artifactBytes
  if (!same(item.aigcData, aigcData))
    return `its aigcData is not the artifact's ${expected.aigcDataMode === 'digest' ? 'digest' : 'bytes'}`
  return undefined
}
