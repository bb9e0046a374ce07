/**
 * The bytes an inference contributes to an ERC-7007 token (docs/formats.md section 5): `prompt` is the prompt's
 * UTF-8 text when a pipeline made the inputs, else the input tensors' imo-tensor-v1 encoding;
 * `aigcData` is the 32-byte SHA-256 of the output artifact (`digest`, the default) or the artifact's
 * bytes themselves (`inline`).
 */
import { createHash } from 'node:crypto'
import { UsageError } from '../errors.js'

/** How the output artifact goes on-chain as `aigcData`. */
export type AigcDataMode = 'digest' | 'inline'

/** The accepted values of `--aigc-data`. */
export const AIGC_DATA_MODES: readonly AigcDataMode[] = ['digest', 'inline']

/**
 * The ERC-7007 `prompt` bytes of an inference.
 * @param source - the prompt text when a pipeline was used (else null), and the inputs' encoding.
 * @returns the prompt bytes.
 * @example
 * import { erc7007PromptBytes } from './inference/erc7007.js'
 * erc7007PromptBytes({ prompt: 'a red spiral', inputEncoding }) // UTF-8 of 'a red spiral'
 * erc7007PromptBytes({ prompt: null, inputEncoding }) // inputEncoding
 */
export function erc7007PromptBytes(source: { prompt: string | null; inputEncoding: Uint8Array }): Uint8Array {
  return source.prompt === null ? source.inputEncoding : new Uint8Array(Buffer.from(source.prompt, 'utf8'))
}

/**
 * The ERC-7007 `aigcData` bytes for an output artifact.
 * @param artifact - the artifact's bytes (a PNG, or the outputs' encoding without a pipeline).
 * @param mode - `digest` (32-byte SHA-256, default) or `inline` (the bytes themselves).
 * @example
 * import { aigcDataBytes } from './inference/erc7007.js'
 * aigcDataBytes(png, 'digest').length // 32
 */
export function aigcDataBytes(artifact: Uint8Array, mode: AigcDataMode = 'digest'): Uint8Array {
  if (mode === 'inline') return artifact
  if (mode === 'digest') return new Uint8Array(createHash('sha256').update(artifact).digest())
  throw new UsageError(`unknown aigcData mode ${JSON.stringify(mode)}: use digest or inline`)
}
