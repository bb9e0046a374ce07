import { Command, InvalidArgumentError, Option } from 'commander'
import { withExamples } from '../cli/help.js'

/** `imo hash PATH`: the model hash and manifest (imo-model-v1, docs/formats.md). */
export function hashCommand(): Command {
  const command = new Command('hash')
    .description("print the model hash (imo-model-v1) and each file's size and SHA-256")
    .argument('<PATH>', 'a .onnx file (with the external-data files it names) or a model folder (every file, dot-files skipped)')
    .addOption(
      new Option(
        '--manifest <FILE>',
        'also write the manifest; check it with `tail -n +2 FILE | sha256sum -c` in the model folder',
      ),
    )
    .addOption(
      new Option(
        '--threads <N>',
        'hash on exactly N worker threads (default: the main thread plus one worker per extra CPU)',
      ).argParser((value) => {
        const n = Number(value)
        if (!Number.isInteger(n) || n < 1 || n > 256) throw new InvalidArgumentError('expected a whole number from 1 to 256')
        return n
      }),
    )
  command.action(async (path: string, options: { manifest?: string; threads?: number }) => {
    const { hashModel } = await import('../model/hashModel.js')
    const { progressBar } = await import('../model/progress.js')
    const { formatValueInfo } = await import('../onnx/readModelInfo.js')
    const { writeManifest } = await import('../model/writeManifest.js')
    const { formatBytes, note, printResult, warn } = await import('../cli/ui.js')
    const bar = progressBar('hashing')
    let result: Awaited<ReturnType<typeof hashModel>>
    try {
      const parallel = options.threads ? { concurrency: options.threads, inlineBelow: 0 } : {}
      result = await hashModel(path, { onProgress: bar.update, ...parallel })
    } finally {
      bar.stop()
    }
    const written = options.manifest
      ? writeManifest(options.manifest, result.manifest, { input: path, root: result.root })
      : undefined
    if (written?.insideModel)
      warn('the manifest is inside the model folder: hashing the folder again includes it (dot-files are skipped)')
    const { onnx } = result
    const data = {
      modelHash: result.modelHash,
      root: result.root,
      manifest: result.manifest,
      files: result.files,
      onnx: onnx ? { irVersion: onnx.irVersion, opset: onnx.opset, inputs: onnx.inputs, outputs: onnx.outputs } : null,
    }
    printResult(data, (d) => {
      const total = d.files.reduce((sum, f) => sum + f.size, 0)
      const sizes = d.files.map((f) => formatBytes(f.size))
      const width = Math.max(4, ...sizes.map((s) => s.length))
      const lines = [
        `model hash  ${d.modelHash}`,
        `root        ${d.root} (${d.files.length} file${d.files.length === 1 ? '' : 's'}, ${formatBytes(total)})`,
      ]
      if (d.onnx) {
        const opset = d.onnx.opset.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ')
        lines.push(`onnx        IR ${d.onnx.irVersion}, opset ${opset}`)
        lines.push(`inputs      ${d.onnx.inputs.map(formatValueInfo).join('; ') || '(none)'}`)
        lines.push(`outputs     ${d.onnx.outputs.map(formatValueInfo).join('; ')}`)
      }
      lines.push('', `${'sha256'.padEnd(64)}  ${'size'.padStart(width)}  path`)
      lines.push(...d.files.map((f, i) => `${f.sha256}  ${sizes[i]!.padStart(width)}  ${f.path}`))
      return lines.join('\n')
    })
    if (options.manifest) note(`manifest written to ${options.manifest}`)
  })
  return withExamples(command, [
    'imo hash ./models/cppn',
    'imo hash model.onnx --manifest model.manifest',
    'imo hash ./my-model --json | jq -r .modelHash',
    '(cd ./my-model && tail -n +2 ../model.manifest | sha256sum -c)   # check files with standard tools',
  ])
}
