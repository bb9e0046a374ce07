import { Command, Option } from 'commander'
import type { ChainOptionValues } from '../chain/connect.js'
import { withExamples } from '../cli/help.js'
import {
  addOptionGroups,
  deploymentOptions,
  generationOptions,
  rpcOptions,
  signerOptions,
  txOptions,
  zkOptions,
} from '../cli/options.js'
import type { GenerationFlags } from '../generate/generationSettings.js'
import { type MintOptionValues, mintOptions, mintSettingsFrom } from '../mint/options.js'

/** `imo infer-and-mint PROMPT | --prompts FILE`: inference on the deployment's model, then mint (pipelined). */
export function inferAndMintCommand(): Command {
  const command = new Command('infer-and-mint')
    .description("run the deployment's model on a prompt (or every prompt of a file) and mint the results as ERC-7007 tokens")
    .argument('[PROMPT]', "text for the model's pipeline")
    .addOption(new Option('--prompts <FILE>', 'one prompt per line (blank lines and # comments skipped; duplicates rejected)'))
    .addOption(
      new Option(
        '--model <PATH>',
        "the model (default: the deployment's recorded model path); its hash must equal the deployment's",
      ),
    )
  addOptionGroups(command, mintOptions, generationOptions, zkOptions, rpcOptions, signerOptions, txOptions, deploymentOptions)
  command.action(async (prompt: string | undefined, _options: unknown, cmd: Command) => {
    const options = cmd.opts() as MintOptionValues &
      ChainOptionValues &
      GenerationFlags & { prompts?: string; model?: string; stream?: boolean; ptau?: string; insecurePtau?: boolean }
    const settings = await mintSettingsFrom(options) // malformed flags fail before any inference or RPC
    const { InputNeededError, UsageError } = await import('../errors.js')
    if (prompt !== undefined && options.prompts) throw new UsageError('give either PROMPT or --prompts FILE, not both')
    if (prompt === undefined && !options.prompts) throw new InputNeededError('PROMPT or --prompts FILE', 'prompt')
    const { readPromptsFile } = await import('../mint/readPromptsFile.js')
    const prompts = options.prompts ? readPromptsFile(options.prompts) : [prompt!]
    const { connectDeployment } = await import('../cli/connectDeployment.js')
    const { inferAndMint } = await import('../mint/inferAndMint.js')
    const { printMint } = await import('../mint/renderMint.js')
    const { uiSettings, withSpinner } = await import('../cli/ui.js')
    const { generationProgress } = await import('../generate/generationProgress.js')
    const { maxNewTokens, temperature, topK, topP, seed } = options
    const { ctx, deployment } = await connectDeployment(cmd, { signer: true })
    const modelPath = options.model ?? deployment.model?.path
    if (!modelPath) throw new InputNeededError('--model', 'model path (the deployment records none)')
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
    const result = await withSpinner(
      'loading the model',
      async (progress) => {
        const hooks = generationProgress(progress, { stream: Boolean(options.stream), json: uiSettings().json })
        const minted = await inferAndMint(ctx, {
          prompts,
          modelPath,
          deployment,
          batch: Boolean(options.prompts),
          ...(options.out !== undefined ? { out: options.out } : {}),
          ...(options.aigcData ? { aigcDataMode: options.aigcData } : {}),
          ...settings,
          generation: { maxNewTokens, temperature, topK, topP, seed },
          onToken: hooks.onToken,
          ...(hooks.onText ? { onText: hooks.onText } : {}),
          onProgress: (text) => progress.update(text),
          ...(options.ptau !== undefined ? { zk: { ptau: options.ptau, allowInsecurePtau: Boolean(options.insecurePtau) } } : {}),
        })
        hooks.finish()
        return minted
      },
      ({ timings: t }) =>
        `${prompts.length} done in ${seconds(t.totalMs)} (inference${t.proveMs !== undefined ? ` and proofs` : ''} ${seconds(t.inferenceMs)}, chain ${seconds(t.chainMs)})`,
    )
    if (result.peakRssBytes !== undefined) {
      const { formatBytes, note } = await import('../cli/ui.js')
      note(`proving took ${seconds(result.timings.proveMs ?? 0)}, peak memory ${formatBytes(result.peakRssBytes)}`)
    }
    printMint(result, ctx.nativeSymbol)
  })
  return withExamples(command, [
    'imo infer-and-mint "a red spiral"',
    'imo infer-and-mint --prompts prompts.txt --out out/batch1 --json',
    'imo infer-and-mint "a blue wave" --aigc-data inline --token-uri-mode data --dry-run',
    'imo infer-and-mint "a red spiral"   # a zk deployment (--proof-scheme zk): proves, then mints with the proof',
  ])
}
