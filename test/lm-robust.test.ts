// Language models that misbehave (issue 21 item 17): a tokenizer.json whose split pattern backtracks
// without end must not hang imo (nor make it deaf to SIGTERM); logits that are NaN or +Inf, or wider
// or narrower than the tokenizer's vocabulary, are refused with one line (exit 2) instead of giving
// token 0 or ids nobody can decode, and `imo verify` does not pass such an output.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { loadTokenizer } from '../src/generate/loadTokenizer.js'
import { computeCommitment } from '../src/inference/commitment.js'
import { hashModel } from '../src/model/hashModel.js'
import { encodeModel, OnnxDataType as T } from '../src/onnx/writeModel.js'
import { type CliResult, cleanEnv, imoBin, repoRoot, runCli } from './helpers/runCli.js'

const NOCACHE = join(repoRoot, 'test', 'fixtures', 'lm-nocache')
const dir = mkdtempSync(join(tmpdir(), 'imo-lm-robust-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const errorLines = (result: CliResult) => result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('…'))

/** A copy of the byte-level test model folder whose tokenizer.json splits on `(\w+\s?)+$` first. */
function backtrackingFolder(): string {
  const folder = join(dir, 'backtracking')
  cpSync(NOCACHE, folder, { recursive: true })
  const tokenizer = JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8'))
  tokenizer.pre_tokenizer = {
    type: 'Sequence',
    pretokenizers: [
      { type: 'Split', pattern: { Regex: '(\\w+\\s?)+$' }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  }
  writeFileSync(join(folder, 'tokenizer.json'), JSON.stringify(tokenizer))
  return folder
}
// 20 characters already take about 100 ms; every one more doubles it (34 took hours).
const HOSTILE = `${'a'.repeat(40)}!`

/**
 * A causal-lm folder (the byte-level tokenizer of 257 ids) whose model ignores its input and returns
 * the same row of logits at every step: a real ONNX file, run by onnxruntime.
 */
function constantLogitsFolder(name: string, row: number[]): string {
  const folder = join(dir, name)
  cpSync(NOCACHE, folder, { recursive: true })
  writeFileSync(
    join(folder, 'model.onnx'),
    encodeModel({
      graph: {
        name,
        nodes: [{ opType: 'Identity', inputs: ['row'], outputs: ['logits'] }],
        initializers: [
          { name: 'row', dataType: T.FLOAT, dims: [1, 1, row.length], raw: new Uint8Array(new Float32Array(row).buffer) },
        ],
        inputs: [
          { name: 'input_ids', elemType: T.INT64, shape: [1, 'n'] },
          { name: 'attention_mask', elemType: T.INT64, shape: [1, 'n'] },
        ],
        outputs: [{ name: 'logits', elemType: T.FLOAT, shape: [1, 1, row.length] }],
      },
    }),
  )
  return folder
}
const row = (width: number, fill: number, at: Record<number, number> = {}) =>
  Array.from({ length: width }, (_, i) => at[i] ?? fill)

const infer = (model: string, prompt: string, out: string, extra: string[] = []) =>
  runCli(['infer', '--model', model, '--prompt', prompt, '--max-new-tokens', '4', '--out', join(dir, out), ...extra], {
    cwd: dir,
    timeoutMs: 30_000,
  })

describe('a tokenizer whose pattern backtracks without end', () => {
  it('is stopped at its deadline: one line, exit 2, where it used to hang', async () => {
    const started = performance.now()
    const result = await infer(backtrackingFolder(), HOSTILE, 'out-backtracking')
    assert.equal(result.code, 2, result.stderr)
    assert.ok(performance.now() - started < 20_000)
    assert.deepEqual(errorLines(result), [
      'error: tokenizer.json did not finish encoding the prompt within 5 s: a pattern of its normalizer, pre-tokenizer or decoder backtracks without end on this text; refused',
    ])
  })

  it('leaves imo listening to SIGTERM while it tokenizes (exit 130 at once)', async () => {
    const child = spawn(
      process.execPath,
      [imoBin, 'infer', '--model', join(dir, 'backtracking'), '--prompt', HOSTILE, '--out', join(dir, 'out-sigterm')],
      { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let stderr = ''
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    // Past start-up (well under a second here) and inside the encode, before its 5 s deadline.
    for (let i = 0; i < 100 && !stderr.includes('loading the model'); i++) await new Promise((resolve) => setTimeout(resolve, 50))
    await new Promise((resolve) => setTimeout(resolve, 2000))
    const signalled = performance.now()
    child.kill('SIGTERM')
    const code = await exited
    clearTimeout(killer)
    assert.equal(code, 130, stderr)
    assert.ok(performance.now() - signalled < 3000, `${performance.now() - signalled} ms after SIGTERM`)
  })

  it('loadTokenizer: a call past its deadline fails, and so does every later call; a sound tokenizer answers', async () => {
    const folder = join(dir, 'backtracking')
    const tokenizer = await loadTokenizer(readFileSync(join(folder, 'tokenizer.json'), 'utf8'), '{}', { deadlineMs: () => 300 })
    assert.deepEqual(await tokenizer.encode('ab!'), [97, 98, 33])
    await assert.rejects(tokenizer.encode(HOSTILE), {
      message:
        'tokenizer.json did not finish encoding the prompt within 0.3 s: a pattern of its normalizer, pre-tokenizer or decoder backtracks without end on this text; refused',
    })
    await assert.rejects(tokenizer.decode([97]), /did not finish encoding the prompt/)
    assert.equal(tokenizer.size, 257)
    assert.ok(tokenizer.has(256) && !tokenizer.has(257))
  })
})

describe('logits no token can be picked from', () => {
  const cases: [string, number[], string][] = [
    ['all NaN', row(257, Number.NaN), '257 NaN, 0 finite of 257'],
    ['NaN at id 0 only (argmax stayed on 0)', row(257, 0, { 0: Number.NaN, 9: 3 }), '1 NaN, 256 finite of 257'],
    ['all +Inf', row(257, Number.POSITIVE_INFINITY), '257 +Inf, 0 finite of 257'],
    ['all -Inf', row(257, Number.NEGATIVE_INFINITY), '0 finite of 257'],
  ]
  for (const [name, logits, holds] of cases)
    it(`${name}: refused, exit 2`, async () => {
      const result = await infer(
        constantLogitsFolder(name.replace(/\W+/g, '-'), logits),
        'hi',
        `out-${name.replace(/\W+/g, '-')}`,
      )
      assert.equal(result.code, 2, result.stderr)
      assert.deepEqual(errorLines(result), [
        `error: the model's logits at generation step 0 are degenerate (${holds}): no token is picked from them`,
      ])
    })

  it('-Inf for masked tokens beside finite ones is fine (exit 0)', async () => {
    const result = await infer(
      constantLogitsFolder('masked', row(257, Number.NEGATIVE_INFINITY, { 72: 1, 105: 2 })),
      'hi',
      'out-masked',
      ['--json'],
    )
    assert.equal(result.code, 0, result.stderr)
    assert.equal(readFileSync(join(dir, 'out-masked', 'text.txt'), 'utf8'), 'iiii')
  })

  it("logits wider than the tokenizer's vocabulary: the id it cannot decode is refused", async () => {
    const result = await infer(constantLogitsFolder('wide', row(300, 0, { 280: 5 })), 'hi', 'out-wide')
    assert.equal(result.code, 2, result.stderr)
    assert.deepEqual(errorLines(result), [
      'error: the model picked token 280 at generation step 0, which tokenizer.json does not have (its ids end at 256; the logits have 300): the model and its tokenizer do not match',
    ])
  })

  it("logits narrower than the prompt's ids: refused", async () => {
    const result = await infer(constantLogitsFolder('narrow', row(100, 0, { 7: 5 })), 'hi', 'out-narrow')
    assert.equal(result.code, 2, result.stderr)
    assert.deepEqual(errorLines(result), [
      "error: the prompt holds token 104, beyond the model's 100 logits: the model and its tokenizer (257 ids) do not match",
    ])
  })

  it('imo verify fails (exit 9) a record that claims token 0 from all-NaN logits, as earlier versions wrote it', async () => {
    // A genuine record of a model whose logits favour id 0, made by this imo...
    const folder = constantLogitsFolder('nan-record', row(257, 0, { 0: 5 }))
    const made = await infer(folder, 'hi', 'out-nan-record', ['--json'])
    assert.equal(made.code, 0, made.stderr)
    // ...then the model replaced by the all-NaN one and the record's model hash and commitment made to
    // match it: what an imo that took argmax of NaN as 0 wrote, and verified.
    writeFileSync(
      join(folder, 'model.onnx'),
      readFileSync(join(constantLogitsFolder('nan-model', row(257, Number.NaN)), 'model.onnx')),
    )
    const recordPath = join(dir, 'out-nan-record', 'record.json')
    const record = JSON.parse(readFileSync(recordPath, 'utf8'))
    record.modelHash = (await hashModel(folder)).modelHash
    record.commitment = computeCommitment(record)
    writeFileSync(recordPath, JSON.stringify(record, null, 2))
    const result = await runCli(['verify', join(dir, 'out-nan-record')], { cwd: dir })
    assert.equal(result.code, 9, result.stdout + result.stderr)
    assert.match(result.stdout, /PASS {2}model hash|PASS {2}commitment/)
    assert.match(
      result.stdout,
      /FAIL {2}re-execution .*the model's logits at generation step 0 are degenerate \(257 NaN, 0 finite of 257\)/,
    )
  })
})
