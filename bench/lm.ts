// Benchmark of causal-lm generation on models/tinylm (not a test; run `npm run build` first):
//   npx tsx bench/lm.ts [runs=3]
// 1. tokens/s of imo's inference (runInference, what `imo infer` and `infer-and-mint` call: tokenize,
//    generate with the KV cache, decode, hash and commit) against a bare onnxruntime-node KV-cache
//    loop written here, both in this process on sessions with the same settings, 128 new tokens,
//    best of `runs`, interleaved; start-up (hash the model, open the session, load the tokenizer) apart.
//    Target: imo >= 0.9 x bare.
// 2. imo's own time around each run (feeds, mask, sampling) at 256 new tokens, as a share of the
//    loop's time (generateTokens measures run() and the whole loop). Target: < 10 %.
// 3. `imo infer --max-new-tokens 128` as a user runs it (a child process): wall time and peak RSS.
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
import { runOnce } from './lib/measure.js'

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

const cli = await runOnce(
  process.execPath,
  ['bin/imo.cjs', 'infer', '--model', folder, '--prompt', prompt, '--max-new-tokens', String(N), '--out', join(scratch, 'cli')],
  { cwd: repo, env: { ...process.env, CI: 'true', NO_COLOR: '1' } },
)
if (cli.code !== 0) throw new Error(`imo infer exited ${cli.code}: ${cli.stderr.trim()}`)
console.log(
  `imo infer  process ${cli.wallMs.toFixed(0)} ms for ${N} tokens, start-up included; peak RSS ${cli.maxRssKiB === undefined ? 'unknown' : `${(cli.maxRssKiB / 1024).toFixed(0)} MiB`}`,
)
console.log(`this bench peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`)
