// The Hugging Face Hub layouts of language models (issue 21 item 20): transformers.js-ready folders
// with the model in onnx/, Optimum's merged decoder (use_cache_branch), folders with several variants
// (model.onnx, model_quantized.onnx, model_fp16.onnx) and the legacy three-file export. The files are
// real exports of tinylm's weights (test/fixtures/tinylm-hub, built by scripts/build-tinylm.py --hub),
// so where the arithmetic is the same their tokens must be tinylm's, bit for bit.
import assert from 'node:assert/strict'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateTokens } from '../src/generate/generateTokens.js'
import { loadCausalLm } from '../src/generate/loadCausalLm.js'
import { computeCommitment } from '../src/inference/commitment.js'
import { computeConfigHash } from '../src/inference/config.js'
import { loadModel } from '../src/inference/loadModel.js'
import { type CliResult, repoRoot, runCli } from './helpers/runCli.js'

const TINYLM = join(repoRoot, 'models', 'tinylm')
const HUB = join(repoRoot, 'test', 'fixtures', 'tinylm-hub')
const NOCACHE = join(repoRoot, 'test', 'fixtures', 'lm-nocache')
const dir = mkdtempSync(join(tmpdir(), 'imo-lm-hub-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const errorLines = (result: CliResult) => result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('…'))

/** A model folder: tinylm's tokenizer, configs and imo.pipeline.json, and the given ONNX files (path -> source). */
function folder(name: string, onnx: Record<string, string>): string {
  const path = join(dir, name)
  mkdirSync(path)
  for (const file of readdirSync(TINYLM)) if (file.endsWith('.json')) cpSync(join(TINYLM, file), join(path, file))
  for (const [target, source] of Object.entries(onnx)) {
    mkdirSync(join(path, target, '..'), { recursive: true })
    cpSync(source, join(path, target))
  }
  return path
}
const TINYLM_ONNX = join(TINYLM, 'model.onnx')
const MERGED = join(HUB, 'decoder_model_merged.onnx')

/** tinylm's own sampling settings (temperature 0.8, top-k 40) with seed 3: 64 tokens that tell models apart. */
async function generate(model: string, name: string, extra: string[] = []) {
  const out = join(dir, `out-${name}`)
  const result = await runCli(
    [
      'infer',
      '--model',
      model,
      '--prompt',
      'A small robot',
      '--max-new-tokens',
      '64',
      '--seed',
      '3',
      '--out',
      out,
      '--json',
      ...extra,
    ],
    { cwd: dir },
  )
  assert.equal(result.code, 0, result.stderr)
  return {
    out,
    record: JSON.parse(readFileSync(join(out, 'record.json'), 'utf8')),
    text: readFileSync(join(out, 'text.txt'), 'utf8'),
  }
}

let tinylm: Awaited<ReturnType<typeof generate>>
before(async () => {
  tinylm = await generate(TINYLM, 'tinylm')
})

describe('Hub layouts with one ONNX file', () => {
  it("onnx/model.onnx (transformers.js) runs and gives tinylm's tokens; nothing extra is committed", async () => {
    const run = await generate(folder('onnx-dir', { 'onnx/model.onnx': TINYLM_ONNX }), 'onnx-dir')
    assert.equal(run.record.model.onnxFile, 'onnx/model.onnx')
    assert.equal(run.record.outputHash, tinylm.record.outputHash)
    assert.equal(run.record.configHash, tinylm.record.configHash)
    assert.equal(run.record.config.onnxFile, undefined)
  })

  it("Optimum's merged decoder (use_cache_branch) gives tinylm's tokens, and verifies", async () => {
    const merged = folder('merged', { 'decoder_model_merged.onnx': MERGED })
    const run = await generate(merged, 'merged')
    assert.equal(run.record.outputHash, tinylm.record.outputHash)
    assert.equal(run.text, tinylm.text)
    const verify = await runCli(['verify', run.out], { cwd: dir })
    assert.equal(verify.code, 0, verify.stdout + verify.stderr)
  })

  it('the merged decoder is fed use_cache_branch false at the first step and true after; without the cache, false throughout', async () => {
    const lm = (await loadCausalLm(await loadModel(join(dir, 'merged'))))!
    assert.equal(lm.useCacheBranch, true)
    const settings = { kind: 'causal-lm' as const, maxNewTokens: 12, temperature: 0, topK: 0, topP: 1, seed: 0, stopIds: [] }
    const branch: number[] = []
    const prompt = [...Buffer.from('The river ran')]
    const cached = await generateTokens(lm, prompt, settings, {
      onFeeds: (feeds) => branch.push((feeds.use_cache_branch!.data as Uint8Array)[0]!),
    })
    assert.deepEqual(branch, [0, ...Array(11).fill(1)])
    branch.length = 0
    const uncached = await generateTokens(lm, prompt, settings, {
      useCache: false,
      onFeeds: (feeds) => branch.push((feeds.use_cache_branch!.data as Uint8Array)[0]!),
    })
    assert.deepEqual(branch, Array(12).fill(0))
    assert.deepEqual(uncached.ids, cached.ids)
  })
})

describe('a folder with several variants', () => {
  let variants: string
  before(() => {
    variants = folder('variants', {
      'onnx/model.onnx': TINYLM_ONNX,
      'onnx/model_quantized.onnx': join(HUB, 'model_quantized.onnx'),
      'onnx/model_fp16.onnx': join(HUB, 'model_fp16.onnx'),
    })
  })

  it("runs fp32 by default and commits which file ran (config.onnxFile): tinylm's tokens, another configHash", async () => {
    const run = await generate(variants, 'fp32')
    assert.equal(run.record.config.onnxFile, 'onnx/model.onnx')
    assert.equal(run.record.outputHash, tinylm.record.outputHash)
    assert.notEqual(run.record.configHash, tinylm.record.configHash)
  })

  it('--variant q8 runs model_quantized.onnx (other tokens) and fp16 runs float16 logits and cache; both verify', async () => {
    const q8 = await generate(variants, 'q8', ['--variant', 'q8'])
    assert.equal(q8.record.config.onnxFile, 'onnx/model_quantized.onnx')
    assert.notEqual(q8.record.outputHash, tinylm.record.outputHash)
    const fp16 = await generate(variants, 'fp16', ['--variant', 'fp16'])
    assert.equal(fp16.record.config.onnxFile, 'onnx/model_fp16.onnx')
    const lm = (await loadCausalLm(await loadModel(variants, { variant: 'fp16' })))!
    assert.deepEqual([lm.logitsType, lm.cache[0]!.type], ['float16', 'float16'])
    for (const run of [q8, fp16]) {
      const verify = await runCli(['verify', run.out], { cwd: dir })
      assert.equal(verify.code, 0, verify.stdout + verify.stderr)
    }
  })

  it('verification re-runs the committed variant: a q8 record relabelled as fp32 fails (exit 9)', async () => {
    const relabelled = join(dir, 'out-relabelled')
    cpSync(join(dir, 'out-q8'), relabelled, { recursive: true })
    const record = JSON.parse(readFileSync(join(relabelled, 'record.json'), 'utf8'))
    record.config.onnxFile = 'onnx/model.onnx'
    record.configHash = computeConfigHash(record.config)
    record.commitment = computeCommitment(record)
    writeFileSync(join(relabelled, 'record.json'), JSON.stringify(record, null, 2))
    const verify = await runCli(['verify', relabelled], { cwd: dir })
    assert.equal(verify.code, 9, verify.stdout + verify.stderr)
    assert.match(verify.stdout, /PASS {2}config hash/)
    assert.match(verify.stdout, /FAIL {2}re-execution {9}outputs differ/)
  })

  it('a variant the folder lacks, an unknown name, and a folder whose files leave the choice open: one line, exit 2', async () => {
    const cases: [string[], string][] = [
      [
        ['--model', variants, '--variant', 'q4'],
        `error: model ${variants} has no q4 variant; it offers: fp32 (onnx/model.onnx), fp16 (onnx/model_fp16.onnx), q8 (onnx/model_quantized.onnx)`,
      ],
      [
        ['--model', variants, '--variant', 'fp64'],
        `error: unknown variant "fp64": give fp32, fp16, q8, int8, uint8, q4, q4f16, bnb4, or an ONNX file's path inside ${variants}`,
      ],
      [
        ['--model', folder('open', { 'gpt2.onnx': TINYLM_ONNX, 'gpt2-small.onnx': TINYLM_ONNX })],
        `error: model folder ${join(dir, 'open')} holds several .onnx files (gpt2-small.onnx, gpt2.onnx): choose one with --variant (fp32, fp16, q8, int8, uint8, q4, q4f16, bnb4, or a file's path)`,
      ],
      [
        ['--model', TINYLM_ONNX, '--variant', 'q8'],
        `error: a variant (q8) chooses among the ONNX files of a model folder; ${TINYLM_ONNX} is one file`,
      ],
    ]
    for (const [args, line] of cases) {
      const result = await runCli(['infer', ...args, '--prompt', 'hi', '--out', join(dir, 'out-refused')], { cwd: dir })
      assert.equal(result.code, 2, result.stderr)
      assert.deepEqual(errorLines(result), [line])
    }
  })
})

describe("Optimum's legacy three-file export", () => {
  it("runs the merged decoder by default; --variant names another file (committed), here tinylm's own graph", async () => {
    const legacy = folder('legacy', {
      'decoder_model.onnx': join(NOCACHE, 'model.onnx'),
      'decoder_with_past_model.onnx': TINYLM_ONNX,
      'decoder_model_merged.onnx': MERGED,
    })
    const merged = await generate(legacy, 'legacy')
    assert.equal(merged.record.config.onnxFile, 'decoder_model_merged.onnx')
    assert.equal(merged.record.outputHash, tinylm.record.outputHash)
    const withPast = await generate(legacy, 'legacy-with-past', ['--variant', 'decoder_with_past_model.onnx'])
    assert.equal(withPast.record.config.onnxFile, 'decoder_with_past_model.onnx')
    assert.equal(withPast.record.outputHash, tinylm.record.outputHash)
  })
})
