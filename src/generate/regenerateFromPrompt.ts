import type { InferenceConfig } from '../inference/config.js'
import type { LoadedModel } from '../inference/loadModel.js'
import { checkRecordedGeneration } from './generationSettings.js'
import { loadCausalLm } from './loadCausalLm.js'
import { type GenerationRun, runGeneration } from './runGeneration.js'

/** A re-generation, and whether its settings were assumed rather than read from the token's metadata. */
export interface Regeneration extends GenerationRun {
  /**
   * True when the metadata committed no settings (it is not reachable, or carries none) and the
   * model's own defaults were used, as `imo infer` uses them without flags: a different text then says
   * only that other settings were used, not that the token is false.
   */
  assumedSettings: boolean
}

/**
 * Re-generates a minted causal-lm output from the token's prompt bytes and the settings its metadata
 * commits (`imo verify --token`), or the model's own defaults when it commits none.
 * @param model - the loaded model.
 * @param promptBytes - the token's ERC-7007 prompt (the prompt's UTF-8).
 * @param config - the committed settings (from the token's metadata), or imo's defaults without metadata.
 * @returns the run, or undefined when the model is not a causal-lm folder.
 * @throws UsageError for recorded settings out of range, or a prompt the model cannot take.
 * @example
 * const run = await regenerateFromPrompt(model, promptBytes, metadata.imo.config)
 * run?.artifact.bytes // the text's UTF-8
 */
export async function regenerateFromPrompt(
  model: LoadedModel,
  promptBytes: Uint8Array,
  config: InferenceConfig,
): Promise<Regeneration | undefined> {
  const lm = await loadCausalLm(model)
  if (!lm) return undefined
  const prompt = Buffer.from(promptBytes).toString('utf8')
  if (!config.generation) return { ...(await runGeneration(lm, { prompt }, { flags: {} })), assumedSettings: true }
  return {
    ...(await runGeneration(lm, { prompt }, { recorded: checkRecordedGeneration(config.generation) })),
    assumedSettings: false,
  }
}
