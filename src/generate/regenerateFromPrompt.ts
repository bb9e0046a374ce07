import { UsageError } from '../errors.js'
import type { InferenceConfig } from '../inference/config.js'
import type { LoadedModel } from '../inference/loadModel.js'
import { checkRecordedGeneration } from './generationSettings.js'
import { LM_PIPELINE_FILE, loadCausalLm } from './loadCausalLm.js'
import { type GenerationRun, runGeneration } from './runGeneration.js'

/**
 * Re-generates a minted causal-lm output from the token's prompt bytes and the settings its metadata
 * commits (`imo verify --token`).
 * @param model - the loaded model.
 * @param promptBytes - the token's ERC-7007 prompt (the prompt's UTF-8).
 * @param config - the committed settings (from the token's metadata).
 * @returns the run, or undefined when the model is not a causal-lm folder.
 * @throws UsageError when the settings lack `generation` (nothing says how to re-generate).
 * @example
 * const run = await regenerateFromPrompt(model, promptBytes, metadata.imo.config)
 * run?.artifact.bytes // the text's UTF-8
 */
export async function regenerateFromPrompt(
  model: LoadedModel,
  promptBytes: Uint8Array,
  config: InferenceConfig,
): Promise<GenerationRun | undefined> {
  const lm = await loadCausalLm(model)
  if (!lm) return undefined
  if (!config.generation)
    throw new UsageError(
      `the model is a causal-lm (${LM_PIPELINE_FILE}) but the token's metadata carries no generation settings to re-generate with`,
    )
  const prompt = Buffer.from(promptBytes).toString('utf8')
  return runGeneration(lm, { prompt }, { recorded: checkRecordedGeneration(config.generation) })
}
