/**
 * The runtime settings an inference ran with, and their hash (docs/formats.md section 3):
 * `configHash = keccak256(compact UTF-8 JSON, keys sorted, of the settings)`.
 *
 * Graph optimisation level: `disabled`. Measured on real models, the level changes output bits (7 of
 * 9 models differ between `disabled` and `all`), so it is part of the commitment, and `disabled` is the
 * one level whose results do not depend on the machine or on this runtime's optimiser: `extended`
 * fuses nodes (MatMul+Add into Gemm, GELU, LayerNorm...) and `all` adds layout transforms whose block
 * size follows the CPU's vector width (AVX2 vs AVX-512), so the same model at `all` can give other bits
 * on another machine. With `disabled` the graph runs node for node as written, which an auditor can
 * reproduce with any onnxruntime (`GraphOptimizationLevel.ORT_DISABLE_ALL` in Python). The cost is
 * speed on large models; for the bundled model it is within noise.
 */
import { keccak256, toHex } from 'viem'
import type { GenerationSettings } from '../generate/generationSettings.js'
import type { Bytes32 } from '../tensor/encodeTensors.js'

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'layout' | 'all'

/** The settings that decide an inference's output bits, as recorded and hashed. */
export interface InferenceConfig {
  onnxruntimeVersion: string
  executionProvider: 'cpu'
  graphOptimizationLevel: GraphOptimizationLevel
  intraOpNumThreads: number
  interOpNumThreads: number
  executionMode: 'sequential' | 'parallel'
  /**
   * The ONNX file that ran, relative to the model folder, when the folder holds several (variants such
   * as `onnx/model.onnx` and `onnx/model_quantized.onnx`): committed because it decides the output bits.
   * Absent when the model has one ONNX file, which the model hash alone then names.
   */
  onnxFile?: string
  /** A causal-lm generation's settings (docs/formats.md section 10); absent for one-run models. */
  generation?: GenerationSettings
}

/** imo's default optimisation level (see the module comment for why). */
export const DEFAULT_GRAPH_OPTIMIZATION_LEVEL: GraphOptimizationLevel = 'disabled'

/** The optimisation levels onnxruntime-node accepts. */
export const GRAPH_OPTIMIZATION_LEVELS: readonly GraphOptimizationLevel[] = ['disabled', 'basic', 'extended', 'layout', 'all']

/**
 * The deterministic default settings for a given onnxruntime version: CPU, one thread each,
 * sequential, optimisation `disabled`.
 * @param onnxruntimeVersion - the version of the loaded runtime (`ort.env.versions.common`).
 * @example
 * import { defaultInferenceConfig } from './inference/config.js'
 * defaultInferenceConfig('1.30.0')
 * // { onnxruntimeVersion: '1.30.0', executionProvider: 'cpu', graphOptimizationLevel: 'disabled', intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' }
 */
export function defaultInferenceConfig(onnxruntimeVersion: string): InferenceConfig {
  return {
    onnxruntimeVersion,
    executionProvider: 'cpu',
    graphOptimizationLevel: DEFAULT_GRAPH_OPTIMIZATION_LEVEL,
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  }
}

/**
 * The canonical JSON of the settings: compact, keys sorted by code unit at every level, UTF-8.
 * @example
 * canonicalConfigJson(defaultInferenceConfig('1.30.0'))
 * // '{"executionMode":"sequential","executionProvider":"cpu","graphOptimizationLevel":"disabled","interOpNumThreads":1,"intraOpNumThreads":1,"onnxruntimeVersion":"1.30.0"}'
 */
export function canonicalConfigJson(config: InferenceConfig): string {
  return JSON.stringify(config, (_key, value: unknown) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value
    const sorted: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) sorted[key] = (value as Record<string, unknown>)[key]
    return sorted
  })
}

/**
 * configHash = keccak256 of the canonical JSON of the settings (docs/formats.md section 3).
 * @param config - the settings.
 * @returns a bytes32 as 0x-hex.
 * @example
 * import { computeConfigHash, defaultInferenceConfig } from './inference/config.js'
 * computeConfigHash(defaultInferenceConfig('1.30.0')) // '0x…' (golden value in config.test.ts)
 */
export function computeConfigHash(config: InferenceConfig): Bytes32 {
  return keccak256(toHex(canonicalConfigJson(config)))
}

/**
 * The onnxruntime session options for the settings (CPU execution provider only).
 * @example
 * sessionOptionsFor(defaultInferenceConfig('1.30.0')).graphOptimizationLevel // 'disabled'
 */
export function sessionOptionsFor(config: InferenceConfig) {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: config.graphOptimizationLevel,
    intraOpNumThreads: config.intraOpNumThreads,
    interOpNumThreads: config.interOpNumThreads,
    executionMode: config.executionMode,
  }
}
