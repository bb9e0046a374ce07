// Benchmark of causal-lm generation on models/tinylm (not a test; run `npm run build` first):
//   npx tsx bench/lm.ts [runs=3]
// 1. tokens/s of imo's inference (runInference, what `imo infer` and `infer-and-mint` call: tokenize,
//    generate with the KV cache, decode, hash and commit) against a bare onnxruntime-node KV-cache
//    loop written here, both in this process on sessions with the same settings, 128 new tokens,
//    best of `runs`, interleaved; start-up (hash the model, open the session, load the tokenizer) apart.
//    Target: imo >= 0.9 x bare.
// 2. imo's own time around each run (feeds, mask, sampling) at 256 new tokens, as a share of the
//    loop's time (generateTokens measures run() and the whole loop). Target: < 10 %.
// 3. `imo infer --max-new-tokens 256` as a user runs it (a child process) against the bare loop as a
//    child (bench/lib/bareLm.mjs), both under --trace-gc: the main thread's garbage-collection pauses
//    per token (256 tokens less 1, so start-up is left out), median of `runs`; wall time and peak RSS.
//    Target: imo's GC per token <= 1.5 x the bare loop's.
// 4. Start-up on a synthetic 128 MiB model (the tinylm tokenizer, one 257 x 131072 float32 weight):
//    `imo infer --max-new-tokens 1` (hash the model once, open the session from those bytes) against
//    the bare loop opening the file by path, one step each: wall time and peak RSS. Targets: <= 1.5 x
//    the bare wall time, and at most the model's size more peak RSS.
// The stop ids are emptied (a copy of the model folder) so every run generates exactly N tokens.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as ort from 'onnxruntime-node'
import { generateTokens } from '../src/generate/generateTokens.js'
import { loadCausalLm } from '../src/generate/loadCausalLm.js'
import { loadModel } from '../src/inference/loadModel.js'
import { runInference } from '../src/inference/runInference.js'
import { encodeModel, OnnxDataType } from '../src/onnx/writeModel.js'
import { type Run, runOnce } from './lib/measure.js'

const repo = fileURLToPath(new URL('..', import.meta.url))
const runs = Number(process.argv[2] ?? 3)
const prompt = 'The lighthouse keeper'
const scratch = mkdtempSync(join(tmpdir(), 'imo-bench-lm-'))
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }))
const folder = join(scratch, 'tinylm')
cpSync(join(repo, 'models', 'tinylm'), folder, { recursive: true })
writeFileSync(join(folder, 'imo.pipeline.json'), '{"kind": "causal-lm", "stopIds": []}\n')

let started = performance.now()
const model = await loadModel(folder)
const lm = (await loadCausalLm(model))!
const startupMs = performance.now() - started

// The bare loop: its own session, int64 feeds built per step, presents fed back as pasts.
const session = await ort.InferenceSession.create(join(folder, 'model.onnx'), {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'disabled',
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
})
const pastNames = session.inputNames.filter((n) => n.startsWith('past_key_values.'))
async function bare(promptIds: number[], steps: number): Promise<number[]> {
  const tokens = [...promptIds]
  let past: Record<string, ort.Tensor> = Object.fromEntries(
    pastNames.map((n) => [n, new ort.Tensor('float32', new Float32Array(0), [1, 4, 0, 24])]),
  )
  for (let step = 0; step < steps; step++) {
    const fresh = step === 0 ? tokens : tokens.slice(-1)
    const start = tokens.length - fresh.length
    const result = await session.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(fresh, BigInt), [1, fresh.length]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(tokens.length).fill(1n), [1, tokens.length]),
      position_ids: new ort.Tensor(
        'int64',
        BigInt64Array.from(fresh, (_, i) => BigInt(start + i)),
        [1, fresh.length],
      ),
      ...past,
    })
    const logits = result.logits!.data as Float32Array
    const vocab = result.logits!.dims[2]!
    let best = 0
    const offset = (fresh.length - 1) * vocab
    for (let i = 1; i < vocab; i++) if (logits[offset + i]! > logits[offset + best]!) best = i
    tokens.push(best)
    past = Object.fromEntries(pastNames.map((n) => [n, result[n.replace('past_key_values.', 'present.')]!]))
  }
  return tokens.slice(promptIds.length)
}

const N = 128
const promptIds = await lm.tokenizer.encode(prompt)
const bareTimes: number[] = []
const imoTimes: number[] = []
let same = true
await bare(promptIds, 8) // warm-up
await runInference({ modelPath: model, prompt, generation: { maxNewTokens: 8 } })
for (let i = 0; i < runs; i++) {
  started = performance.now()
  const bareIds = await bare(promptIds, N)
  bareTimes.push(performance.now() - started)
  started = performance.now()
  const result = await runInference({ modelPath: model, prompt, generation: { maxNewTokens: N } })
  imoTimes.push(performance.now() - started)
  const ids = Array.from(result.outputs.generated_ids!.data as BigInt64Array, Number)
  same &&= ids.length === N && ids.every((id, k) => id === bareIds[k])
}
const rate = (ms: number) => (N / ms) * 1000
const bareRate = rate(Math.min(...bareTimes))
const imoRate = rate(Math.min(...imoTimes))
console.log(`model      models/tinylm (${lm.cache.length / 2} layers, KV cache), prompt ${promptIds.length} tokens`)
console.log(`start-up   ${startupMs.toFixed(0)} ms (hash, session, tokenizer; once per process)`)
console.log(
  `bare loop  ${bareRate.toFixed(0)} tokens/s   (${N} tokens, runs: ${bareTimes.map((t) => t.toFixed(0)).join(', ')} ms)`,
)
console.log(`imo infer  ${imoRate.toFixed(0)} tokens/s   (${N} tokens, runs: ${imoTimes.map((t) => t.toFixed(0)).join(', ')} ms)`)
console.log(
  `ratio      ${(imoRate / bareRate).toFixed(2)} x bare (target >= 0.9) -> ${imoRate >= 0.9 * bareRate ? 'OK' : 'UNDER'}; same tokens: ${same}`,
)

let overhead = Number.POSITIVE_INFINITY
for (let i = 0; i < runs; i++) {
  const loop = await generateTokens(lm, promptIds, {
    kind: 'causal-lm',
    maxNewTokens: 256,
    temperature: 0,
    topK: 0,
    topP: 1,
    seed: 0,
    stopIds: [],
  })
  overhead = Math.min(overhead, (loop.totalMs - loop.runMs) / loop.totalMs)
}
console.log(
  `overhead   ${(overhead * 100).toFixed(1)} % of each step at 256 tokens (target < 10 %) -> ${overhead < 0.1 ? 'OK' : 'OVER'}`,
)

// 3. Processes: imo infer against the bare loop, garbage collection per token.
// --trace-gc prints every isolate's collections, each line tagged [pid:isolate]: the main thread's
// isolate is the first to print; the tokenizer's worker thread collects on its own thread and is left out.
const GC_LINE =
  /^\[\d+:(0x[0-9a-f]+)\][^\n]*?(?:Scavenge|Mark-Compact|Mark-Sweep|Minor Mark-Sweep)[^,\n]*, ([0-9.]+) \/ [0-9.]+ ms/gm
const gcMs = (run: Run) => {
  const lines = [...run.stdout.matchAll(GC_LINE)]
  const main = lines[0]?.[1]
  return lines.filter((match) => match[1] === main).reduce((sum, match) => sum + Number(match[2]), 0)
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const env = { ...process.env, CI: 'true', NO_COLOR: '1' }
const STEPS = 256
const imoInfer = (model: string, steps: number, out: string) =>
  runOnce(
    process.execPath,
    [
      '--trace-gc',
      'bin/imo.cjs',
      'infer',
      '--model',
      model,
      '--prompt',
      prompt,
      '--temperature',
      '0',
      '--max-new-tokens',
      String(steps),
      '--out',
      join(scratch, out),
    ],
    { cwd: repo, env },
  )
const bareChild = (model: string, steps: number) =>
  runOnce(
    process.execPath,
    ['--trace-gc', 'bench/lib/bareLm.mjs', join(model, 'model.onnx'), String(steps), promptIds.join(',')],
    {
      cwd: repo,
      env,
    },
  )
const best = (runs: Run[], key: (run: Run) => number) => runs.reduce((a, b) => (key(b) < key(a) ? b : a))
const checked = (run: Run, what: string) => {
  if (run.code !== 0) throw new Error(`${what} exited ${run.code}: ${run.stderr.trim()}`)
  return run
}
// Per token: the main thread's GC over STEPS tokens less its GC over one token (start-up), / (STEPS - 1).
const imoRuns: Run[] = []
const bareRuns: Run[] = []
const imoPerToken: number[] = []
const barePerToken: number[] = []
for (let i = 0; i < runs; i++) {
  const imo = checked(await imoInfer(folder, STEPS, `cli-${i}`), 'imo infer')
  const imoOne = checked(await imoInfer(folder, 1, `cli-one-${i}`), 'imo infer')
  const plain = checked(await bareChild(folder, STEPS), 'the bare loop')
  const plainOne = checked(await bareChild(folder, 1), 'the bare loop')
  imoRuns.push(imo)
  bareRuns.push(plain)
  imoPerToken.push(Math.max(0, gcMs(imo) - gcMs(imoOne)) / (STEPS - 1))
  barePerToken.push(Math.max(0, gcMs(plain) - gcMs(plainOne)) / (STEPS - 1))
}
const rss = (run: Run) => (run.maxRssKiB === undefined ? 'unknown' : `${(run.maxRssKiB / 1024).toFixed(0)} MiB`)
const imoGc = median(imoPerToken)
const bareGc = median(barePerToken)
console.log(
  `gc         imo infer ${imoGc.toFixed(3)} ms/token, bare loop ${bareGc.toFixed(3)} ms/token (main thread, ${STEPS} tokens less 1, median of ${runs}): ${(imoGc / Math.max(bareGc, 1e-6)).toFixed(2)} x (target <= 1.5) -> ${imoGc <= 1.5 * bareGc ? 'OK' : 'OVER'}`,
)
const imoWall = best(imoRuns, (run) => run.wallMs)
const bareWall = best(bareRuns, (run) => run.wallMs)
console.log(
  `process    imo infer ${imoWall.wallMs.toFixed(0)} ms, peak RSS ${rss(imoWall)}; bare loop ${bareWall.wallMs.toFixed(0)} ms, peak RSS ${rss(bareWall)} (${STEPS} tokens, start-up included)`,
)

// 4. Start-up on a large model: one 257 x 131072 float32 weight (128 MiB); logits = rows of W . W[id].
const big = join(scratch, 'big')
cpSync(folder, big, { recursive: true })
const width = 131072
const weight = new Float32Array(257 * width)
for (let i = 0; i < weight.length; i++) weight[i] = Math.sin(i) / 64
const T = OnnxDataType
writeFileSync(
  join(big, 'model.onnx'),
  encodeModel({
    graph: {
      name: 'big',
      nodes: [
        { opType: 'Gather', inputs: ['weight', 'input_ids'], outputs: ['hidden'] },
        { opType: 'Reshape', inputs: ['hidden', 'flat'], outputs: ['rows'] },
        {
          opType: 'Gemm',
          inputs: ['rows', 'weight'],
          outputs: ['scores'],
          attributes: [{ name: 'transB', type: 'int', value: 1 }],
        },
        { opType: 'Unsqueeze', inputs: ['scores', 'axis0'], outputs: ['logits'] },
      ],
      initializers: [
        { name: 'weight', dataType: T.FLOAT, dims: [257, width], raw: new Uint8Array(weight.buffer) },
        { name: 'flat', dataType: T.INT64, dims: [2], raw: new Uint8Array(new BigInt64Array([-1n, BigInt(width)]).buffer) },
        { name: 'axis0', dataType: T.INT64, dims: [1], raw: new Uint8Array(new BigInt64Array([0n]).buffer) },
      ],
      inputs: [
        { name: 'input_ids', elemType: T.INT64, shape: [1, 'n'] },
        { name: 'attention_mask', elemType: T.INT64, shape: [1, 'n'] },
      ],
      outputs: [{ name: 'logits', elemType: T.FLOAT, shape: [1, 'n', 257] }],
    },
  }),
)
const bigImo: Run[] = []
const bigBare: Run[] = []
for (let i = 0; i < runs; i++) {
  const imo = await imoInfer(big, 1, `big-${i}`)
  if (imo.code !== 0) throw new Error(`imo infer exited ${imo.code}: ${imo.stderr.trim()}`)
  bigImo.push(imo)
  const plain = await bareChild(big, 1)
  if (plain.code !== 0) throw new Error(`the bare loop exited ${plain.code}: ${plain.stderr.trim()}`)
  bigBare.push(plain)
}
const bigImoBest = best(bigImo, (run) => run.wallMs)
const bigBareBest = best(bigBare, (run) => run.wallMs)
const extraRss =
  bigImoBest.maxRssKiB !== undefined && bigBareBest.maxRssKiB !== undefined
    ? (Math.min(...bigImo.map((run) => run.maxRssKiB!)) - Math.min(...bigBare.map((run) => run.maxRssKiB!))) / 1024
    : undefined
console.log(
  `start-up   128 MiB model, one token: imo infer ${bigImoBest.wallMs.toFixed(0)} ms, bare ${bigBareBest.wallMs.toFixed(0)} ms: ${(bigImoBest.wallMs / bigBareBest.wallMs).toFixed(2)} x (target <= 1.5) -> ${bigImoBest.wallMs <= 1.5 * bigBareBest.wallMs ? 'OK' : 'OVER'}`,
)
console.log(
  `           peak RSS imo ${rss(bigImoBest)}, bare ${rss(bigBareBest)}: ${extraRss === undefined ? 'unknown' : `${extraRss.toFixed(0)} MiB more (target <= 128) -> ${extraRss <= 128 ? 'OK' : 'OVER'}`}`,
)
console.log(`this bench peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`)
