/**
 * ERC-721 metadata of a minted inference, with the ERC-7007 fields (`prompt`, `aigc_type`,
 * `aigc_data`, `proof_type`) and imo's own block. Deterministic: the same record, attester and
 * artifact give the same bytes (no timestamps), so its CID, the token URI and the mint calldata are
 * stable across re-runs, which the journal's resume relies on.
 *
 * `proof_type` is "fraud": the proof is an attester's signature over the commitment, and anyone can
 * re-execute the committed model on the committed input (`imo verify`) to expose a false claim,
 * which is ERC-7007's optimistic (opML) kind, not a validity (zk) proof.
 */
import type { Address, Hex } from 'viem'
import type { InferenceConfig } from '../inference/config.js'
import type { InferenceRecord } from '../inference/record.js'
import type { ProofScheme } from './encodeProof.js'

/** Format tag of imo's block inside the metadata. */
export const METADATA_FORMAT = 'imo-metadata-v1'

export interface ImoMetadataBlock {
  format: typeof METADATA_FORMAT
  model_hash: Hex
  commitment: Hex
  input_hash: Hex
  output_hash: Hex
  config_hash: Hex
  config: InferenceConfig
  aigc_data_mode: 'digest' | 'inline'
  prompt_encoding: 'utf8' | 'imo-tensor-v1'
  artifact: { mime: string; sha256: Hex; size: number; file: string; cid?: string }
  attester: Address
  proof_scheme: ProofScheme
}

export interface AigcMetadata {
  name: string
  description: string
  image?: string
  animation_url?: string
  prompt: string
  aigc_type: string
  aigc_data?: string
  /** ERC-7007: `validity` for a zk proof the collection checks, `fraud` for an attested (re-executable) one. */
  proof_type: 'fraud' | 'validity'
  model_hash: Hex
  commitment: Hex
  imo: ImoMetadataBlock
}

export interface BuildMetadataParams {
  record: InferenceRecord
  /** ERC-7007 prompt bytes (for tensor prompts, shown as 0x-hex). */
  promptBytes: Uint8Array
  /** The artifact's IPFS CID, when computable (see computeCid). */
  artifactCid?: string
  attester: Address
  proofScheme: ProofScheme
}

/**
 * Builds the metadata object of a token.
 * @param params - the inference record, the prompt bytes, the artifact's CID and the attester.
 * @returns the metadata (serialise with metadataJson for stable bytes).
 * @example
 * import { buildMetadata } from './mint/buildMetadata.js'
 * buildMetadata({ record, promptBytes, artifactCid: 'bafkrei…', attester, proofScheme: 'ecdsa' }).image
 * // 'ipfs://bafkrei…'
 */
export function buildMetadata(params: BuildMetadataParams): AigcMetadata {
  const { record, artifactCid } = params
  const mime = record.artifact.mime
  const kind = mime.split('/')[0] ?? ''
  const uri = artifactCid ? `ipfs://${artifactCid}` : undefined
  const isImage = kind === 'image'
  const isAnimation = kind === 'audio' || kind === 'video' || kind === 'model' || mime === 'text/html'
  const prompt = record.prompt ?? `0x${Buffer.from(params.promptBytes).toString('hex')}`
  const shortPrompt = record.prompt === null ? `inputs ${record.inputHash.slice(0, 10)}` : truncate(record.prompt, 80)
  return {
    name: shortPrompt,
    description:
      `Output of the model ${record.modelHash} (imo) on ${record.prompt === null ? 'the committed input tensors' : 'this prompt'}, ` +
      `committed as ${record.commitment} and ${params.proofScheme === 'plonk' ? 'proved by a PLONK proof the collection checked' : `attested by ${params.attester}`}. Check it with \`imo verify --token <id>\`.`,
    ...(isImage && uri ? { image: uri } : {}),
    ...(isAnimation && uri ? { animation_url: uri } : {}),
    prompt,
    aigc_type: ['image', 'video', 'audio', 'text'].includes(kind) ? kind : mime,
    ...(uri ? { aigc_data: uri } : {}),
    proof_type: params.proofScheme === 'plonk' ? 'validity' : 'fraud',
    model_hash: record.modelHash,
    commitment: record.commitment,
    imo: {
      format: METADATA_FORMAT,
      model_hash: record.modelHash,
      commitment: record.commitment,
      input_hash: record.inputHash,
      output_hash: record.outputHash,
      config_hash: record.configHash,
      config: { ...record.config },
      aigc_data_mode: record.aigcDataMode,
      prompt_encoding: record.prompt === null ? 'imo-tensor-v1' : 'utf8',
      artifact: {
        mime,
        sha256: record.artifact.sha256,
        size: record.artifact.size,
        file: record.artifact.file,
        ...(artifactCid ? { cid: artifactCid } : {}),
      },
      attester: params.attester,
      proof_scheme: params.proofScheme,
    },
  }
}

/**
 * The metadata file's exact bytes: pretty JSON (2 spaces) and a trailing newline, UTF-8.
 * @example
 * metadataJson(metadata) // Uint8Array of '{\n  "name": …}\n'
 */
export function metadataJson(metadata: AigcMetadata): Uint8Array {
  return new Uint8Array(Buffer.from(`${JSON.stringify(metadata, null, 2)}\n`, 'utf8'))
}

/**
 * A `data:` URI holding the metadata (for `--token-uri-mode data`).
 * @example
 * metadataDataUri(bytes) // 'data:application/json;base64,eyJ…'
 */
export function metadataDataUri(bytes: Uint8Array): string {
  return `data:application/json;base64,${Buffer.from(bytes).toString('base64')}`
}

function truncate(text: string, max: number): string {
  const chars = [...text.replace(/\s+/g, ' ').trim()]
  return chars.length <= max ? chars.join('') : `${chars.slice(0, max - 1).join('')}…`
}
