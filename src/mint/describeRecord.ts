/**
 * How messages name an inference: its prompt (quoted, at most 40 characters) or, for a non-text input,
 * the start of its input hash.
 */
import { quoteText } from '../cli/escapeControl.js'
import type { InferenceRecord } from '../inference/record.js'

/**
 * @param record - the inference record.
 * @returns a short, terminal-safe name for it.
 * @example
 * describeRecord(record) // '"a red spiral"' or 'the input 0x3fa2b4c1d9e0'
 */
export function describeRecord(record: InferenceRecord): string {
  if (record.prompt === null) return `the input ${record.inputHash.slice(0, 14)}`
  return quoteText(record.prompt, 40)
}
