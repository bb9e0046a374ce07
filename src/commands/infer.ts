import { Command, Option } from 'commander'
import { withExamples } from '../cli/help.js'
import { addOptionGroups, generationOptions, variantOptions, zkOptions } from '../cli/options.js'
import type { GenerationFlags } from '../generate/generationSettings.js'

interface InferOptions extends GenerationFlags {
  stream?: boolean
  model?: string
  input?: string[]
  prompt?: string
  out?: string
  variant?: string
  aigcData: 'digest' | 'inline'
  prove?: boolean
  to?: string
  ptau?: string
  insecurePtau?: boolean
}

/** `imo infer`: runs the model locally and writes its outputs and inference record. */
export function inferCommand(): Command {
  const command = new Command('infer')
    .description(
      'run a model locally with onnxruntime (deterministic settings) and write its outputs, artifact and inference record',
    )
    .addOption(
      new Option(
        '--model <PATH>',
        'a .onnx file, or a model folder (with imo.pipeline.mjs or imo.pipeline.json for --prompt)',
      ).env('IMO_MODEL'),
    )
    .addOption(
      new Option(
        '--input <FILE...>',
        'inputs: FILE.json ({"name": {"type", "dims", "data"}}), NAME=FILE.npy, or FILE.imt; repeatable',
      ),
    )
    .addOption(
      new Option(
        '--prompt <TEXT>',
        "text for the model's pipeline (imo.pipeline.mjs, or the built-in causal-lm of imo.pipeline.json)",
      ),
    )
    .addOption(
      new Option('--out <DIR>', 'output folder, created whole or not at all (default: out/<first 12 hex of the commitment>)'),
    )
    .addOption(
      new Option(
        '--aigc-data <MODE>',
        'ERC-7007 aigcData: digest (32-byte SHA-256 of the artifact) or inline (the artifact bytes)',
      )
        .choices(['digest', 'inline'])
        .default('digest'),
    )
    .addOption(
      new Option(
        '--prove',
        'zk models: also write the PLONK proof (proof.json) that the chain checks, bound to --to; takes about 30 s of CPU',
      ),
    )
    .addOption(new Option('--to <ADDRESS>', 'with --prove: the recipient of the token the proof may mint'))
  addOptionGroups(command, variantOptions, generationOptions, zkOptions)
  command.action(async (options: InferOptions) => {
    const { InputNeededError } = await import('../errors.js')
    const { formatBytes, printResult, uiSettings, withSpinner } = await import('../cli/ui.js')
    const { generationProgress } = await import('../generate/generationProgress.js')
    const { runInference } = await import('../inference/runInference.js')
    const { writeInferenceOutputs } = await import('../inference/writeInferenceOutputs.js')
    const { join, relative } = await import('node:path')
    const modelPath = options.model
    if (!modelPath) throw new InputNeededError('--model', 'model path', 'IMO_MODEL')
    const { UsageError } = await import('../errors.js')
    const recipient =
      options.to === undefined ? undefined : await (await import('../util/parseAddress.js')).parseAddress(options.to, '--to')
    if (options.prove && !recipient) throw new InputNeededError('--to', 'recipient the proof is bound to')
    if (!options.prove && (recipient || options.ptau || options.insecurePtau))
      throw new UsageError('--to, --ptau and --insecure-ptau apply to --prove only')
    const keyOptions = options.ptau !== undefined ? { ptau: options.ptau, allowInsecurePtau: Boolean(options.insecurePtau) } : {}
    // The proving keys first (made from --ptau, or found in the cache): a refusal writes nothing.
    if (options.prove) await (await import('../zk/ensureZkKeys.js')).ensureZkKeysForFolder(modelPath, '--prove', keyOptions)
    const { result, outDir } = await withSpinner(
      'loading the model',
      async (progress) => {
        const hooks = generationProgress(progress, { stream: Boolean(options.stream), json: uiSettings().json })
        const { maxNewTokens, temperature, topK, topP, seed } = options
        const inference = await runInference({
          generation: { maxNewTokens, temperature, topK, topP, seed },
          onToken: hooks.onToken,
          ...(hooks.onText ? { onText: hooks.onText } : {}),
          modelPath,
          ...(options.variant !== undefined ? { variant: options.variant } : {}),
          ...(options.prompt !== undefined ? { prompt: options.prompt } : {}),
          ...(options.input ? { inputFiles: options.input } : {}),
          aigcDataMode: options.aigcData,
          ...(options.out !== undefined ? { outDir: options.out } : {}),
          onProgress: (stage) => progress.update(stage),
        })
        hooks.finish()
        const written =
          inference.outDir ??
          writeInferenceOutputs(inference, join('out', inference.record.commitment.slice(2, 14)), { replace: true })
        return { result: inference, outDir: written }
      },
      ({ result }) => `inference done in ${result.record.durationMs} ms`,
    )
    const proved =
      options.prove && result.zk && recipient
        ? (
            await (
              await import('../cli/proveAndWrite.js')
            ).proveAndWrite(result, result.zk, outDir, {
              recipient,
              ...(options.ptau !== undefined ? { ptau: options.ptau, allowInsecurePtau: Boolean(options.insecurePtau) } : {}),
            })
          ).summary
        : undefined
    const { record, artifact } = result
    const fromHere = relative(process.cwd(), outDir)
    const shown = fromHere.startsWith('..') ? outDir : fromHere || '.'
    // A text model's output is the text: show it (unless --stream already did), and give it in --json.
    const text = artifact.mime.startsWith('text/plain') ? Buffer.from(artifact.bytes).toString('utf8') : undefined
    printResult({ ...record, outDir, ...(text !== undefined ? { text } : {}), ...(proved ? { proof: proved } : {}) }, (r) =>
      [
        ...(text !== undefined && !options.stream ? [text, ''] : []),
        `commitment  ${r.commitment}`,
        `model hash  ${r.modelHash}`,
        `input hash  ${r.inputHash}`,
        `output hash ${r.outputHash}`,
        `artifact    ${join(shown, r.artifact.file)} (${r.artifact.mime}, ${formatBytes(r.artifact.size)})`,
        `record      ${join(shown, 'record.json')}`,
        ...(proved
          ? [
              `proof       ${join(shown, 'proof.json')} (PLONK, for ${proved.recipient}${proved.insecure ? ', INSECURE setup' : ''})`,
            ]
          : []),
      ].join('\n'),
    )
  })
  return withExamples(command, [
    'imo infer --model ./models/cppn --prompt "a red spiral"',
    'imo infer --model ./models/tinylm --prompt "The river" --max-new-tokens 48 --stream',
    'imo infer --model ./models/tinylm --prompt "The river" --temperature 0.8 --top-p 0.9 --seed 7',
    'imo infer --model ./gpt2 --variant q8 --prompt "The river"   # onnx/model_quantized.onnx of a Hub folder',
    'imo infer --model ./models/zkcppn --prompt "a red spiral" --prove --to 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --ptau powersOfTau28_hez_final_15.ptau',
    'imo infer --model model.onnx --input inputs.json --out out/run1',
    'imo infer --model model.onnx --input x=x.npy --input mask=mask.npy --json | jq -r .commitment',
    'imo infer --model model.onnx --input out/run1/inputs.imt   # re-run the exact committed inputs',
  ])
}
