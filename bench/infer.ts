// Benchmark of `imo infer` against a bare onnxruntime-node script (not a test; run `npm run build` first):
//   npx tsx bench/infer.ts [runs=5]
// Both are separate node processes, so start-up counts for both. imo hashes the model, loads the
// pipeline, runs the model, encodes and hashes tensors, makes the PNG and writes every file atomically;
// the bare script only loads the model with the same session options and runs it once on the same z.
// Target: imo <= 1.15 x bare + 150 ms (best of 5 each).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { runOnce } from './lib/measure.js'

const repo = fileURLToPath(new URL('..', import.meta.url))
const runs = Number(process.argv[2] ?? 5)
const prompt = 'a red spiral'
const scratch = mkdtempSync(join(tmpdir(), 'imo-bench-infer-'))
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }))

const { encode } = await import(pathToFileURL(join(repo, 'models/cppn/imo.pipeline.mjs')).href)
const z = Array.from(encode(prompt).z.data as Float32Array)
const ortEntry = pathToFileURL(createRequire(join(repo, 'package.json')).resolve('onnxruntime-node')).href
const bare = join(scratch, 'bare.mjs')
writeFileSync(
  bare,
  `import ort from ${JSON.stringify(ortEntry)}
const session = await ort.InferenceSession.create(${JSON.stringify(join(repo, 'models/cppn/model.onnx'))}, {
  executionProviders: ['cpu'], graphOptimizationLevel: 'disabled', intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' })
const out = await session.run({ z: new ort.Tensor('float32', new Float32Array(${JSON.stringify(z)}), [1, 16]) })
if (out.image.data.length !== 3 * 256 * 256) process.exit(1)
`,
)

async function best(label: string, args: (i: number) => string[]): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const run = await runOnce(process.execPath, args(i), { cwd: repo, env: { ...process.env, CI: 'true', NO_COLOR: '1' } })
    if (run.code !== 0) throw new Error(`${label} exited ${run.code}: ${run.stderr.trim()}`)
    times.push(run.wallMs)
  }
  const fastest = Math.min(...times)
  console.log(`${label.padEnd(6)} best ${fastest.toFixed(0)} ms   (runs: ${times.map((t) => t.toFixed(0)).join(', ')})`)
  return fastest
}

// One warm-up each so the page cache holds node, onnxruntime and the model for both.
await runOnce(process.execPath, [bare], { cwd: repo })
await runOnce(
  process.execPath,
  ['bin/imo.cjs', 'infer', '--model', 'models/cppn', '--prompt', prompt, '--out', join(scratch, 'warm')],
  { cwd: repo },
)
const bareMs = await best('bare', () => [bare])
const imoMs = await best('imo', (i) => [
  'bin/imo.cjs',
  'infer',
  '--model',
  'models/cppn',
  '--prompt',
  prompt,
  '--out',
  join(scratch, `out${i}`),
])
const budget = 1.15 * bareMs + 150
console.log(
  `ratio  ${(imoMs / bareMs).toFixed(2)} x bare; budget 1.15 x bare + 150 ms = ${budget.toFixed(0)} ms -> ${imoMs <= budget ? 'OK' : 'OVER'}`,
)
