import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { encodeModel, OnnxDataType as T } from '../src/onnx/writeModel.js'
import { decodeTensors } from '../src/tensor/decodeTensors.js'
import { encodeTensors } from '../src/tensor/encodeTensors.js'
import { type CliResult, repoRoot, runCli } from './helpers/runCli.js'

const TINYLM = join(repoRoot, 'models', 'tinylm')
const NOCACHE = join(repoRoot, 'test', 'fixtures', 'lm-nocache')
let dir: string
let genuine: string

/** The error lines of a failed run (progress lines start with the ellipsis). */
const errorLines = (result: CliResult) => result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('…'))

const infer = (args: string[], out?: string) =>
  runCli(['infer', '--model', TINYLM, ...args, ...(out ? ['--out', out] : []), '--json'], { cwd: dir })

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'imo-lm-cli-'))
  genuine = join(dir, 'genuine')
  const result = await infer(['--prompt', 'The river ran', '--max-new-tokens', '24', '--temperature', '0'], genuine)
  assert.equal(result.code, 0, result.stderr)
})
after(() => rmSync(dir, { recursive: true, force: true }))

describe('imo infer on a causal-lm model', () => {
  it('commits prompt ids, generated ids, the settings and the text', () => {
    const record = JSON.parse(readFileSync(join(genuine, 'record.json'), 'utf8'))
    assert.equal(record.model.pipeline, 'imo.pipeline.json')
    assert.deepEqual(record.config.generation, {
      kind: 'causal-lm',
      maxNewTokens: 24,
      temperature: 0,
      topK: 40,
      topP: 1,
      seed: 0,
      stopIds: [256],
    })
    assert.deepEqual(record.artifact.file, 'text.txt')
    assert.equal(record.artifact.mime, 'text/plain; charset=utf-8')
    const inputs = decodeTensors(readFileSync(join(genuine, 'inputs.imt')), 'inputs')
    assert.deepEqual(Array.from(inputs.input_ids!.data as BigInt64Array, Number), [...Buffer.from('The river ran')])
    const outputs = decodeTensors(readFileSync(join(genuine, 'outputs.imt')), 'outputs')
    const ids = Array.from(outputs.generated_ids!.data as BigInt64Array, Number)
    assert.ok(ids.length > 0 && ids.length <= 24)
    const text = readFileSync(join(genuine, 'text.txt'))
    assert.deepEqual(
      [...text],
      ids.filter((id) => id !== 256),
    )
  })

  it('streams the text to stderr with --json and gives the same record', async () => {
    const result = await infer(['--prompt', 'The river ran', '--max-new-tokens', '24', '--temperature', '0', '--stream'])
    assert.equal(result.code, 0, result.stderr)
    const text = readFileSync(join(genuine, 'text.txt'), 'utf8')
    assert.ok(result.stderr.includes(text), result.stderr)
    assert.equal(JSON.parse(result.stdout).commitment, JSON.parse(readFileSync(join(genuine, 'record.json'), 'utf8')).commitment)
  })
})

describe('imo hash on an Optimum-layout folder', () => {
  it('covers the tokenizer, configs and pipeline settings, not only model.onnx', async () => {
    const result = await runCli(['hash', TINYLM, '--json'], { cwd: dir })
    assert.equal(result.code, 0, result.stderr)
    const files = (JSON.parse(result.stdout).manifest as string)
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.slice(66))
    assert.deepEqual(files, [
      'config.json',
      'generation_config.json',
      'imo.pipeline.json',
      'model.onnx',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ])
  })
})

describe('imo verify on a causal-lm record', () => {
  it('passes on a genuine record without --trust-pipeline', async () => {
    const result = await runCli(['verify', genuine], { cwd: dir })
    assert.equal(result.code, 0, result.stdout + result.stderr)
    assert.match(result.stdout, /PASS {2}re-execution/)
    assert.match(result.stdout, /built-in causal-lm pipeline/)
  })

  it("passes on a sampled record (tinylm's imo.pipeline.json samples: temperature 0.8, top-k 40, seed 0)", async () => {
    const sampled = join(dir, 'sampled')
    const made = await infer(['--prompt', 'A small robot', '--max-new-tokens', '32', '--seed', '11'], sampled)
    assert.equal(made.code, 0, made.stderr)
    const { generation } = JSON.parse(readFileSync(join(sampled, 'record.json'), 'utf8')).config
    assert.deepEqual([generation.temperature, generation.topK, generation.seed], [0.8, 40, 11])
    const result = await runCli(['verify', sampled], { cwd: dir })
    assert.equal(result.code, 0, result.stdout + result.stderr)
  })

  it('fails (exit 9) naming the first differing position and both tokens when one generated id is changed', async () => {
    const tampered = join(dir, 'tampered-id')
    cpSync(genuine, tampered, { recursive: true })
    const file = join(tampered, 'outputs.imt')
    const outputs = decodeTensors(readFileSync(file), 'outputs')
    const data = outputs.generated_ids!.data as BigInt64Array
    const was = data[3]!
    data[3] = was === 120n ? 121n : 120n
    writeFileSync(file, encodeTensors(outputs))
    const result = await runCli(['verify', tampered], { cwd: dir })
    assert.equal(result.code, 9, result.stdout + result.stderr)
    const expected = `first at generated_ids[3]: recorded token ${data[3]} ${JSON.stringify(String.fromCharCode(Number(data[3])))}, re-run token ${was} ${JSON.stringify(String.fromCharCode(Number(was)))}`
    assert.ok(result.stdout.includes(expected), result.stdout)
  })

  it('fails (exit 9) naming the first differing byte when one byte of the text is changed', async () => {
    const tampered = join(dir, 'tampered-text')
    cpSync(genuine, tampered, { recursive: true })
    const file = join(tampered, 'text.txt')
    const text = readFileSync(file)
    text[2] = text[2] === 0x41 ? 0x42 : 0x41
    writeFileSync(file, text)
    const result = await runCli(['verify', tampered], { cwd: dir })
    assert.equal(result.code, 9, result.stdout + result.stderr)
    assert.match(result.stdout, /FAIL {2}outputs -> artifact .*first differing byte at offset 2: recorded \d+, re-run \d+/)
  })
})

describe('causal-lm bad input: one line, exit 2', () => {
  const folder = (name: string, edit: (path: string) => void) => {
    const path = join(dir, name)
    cpSync(NOCACHE, path, { recursive: true })
    edit(path)
    return path
  }
  const cases: [string, () => string[], RegExp][] = [
    [
      'no tokenizer.json',
      () => ['--model', folder('no-tokenizer', (p) => rmSync(join(p, 'tokenizer.json'))), '--prompt', 'hi'],
      /^error: the causal-lm pipeline needs tokenizer\.json in .*no-tokenizer/,
    ],
    [
      'a model without logits',
      () => [
        '--model',
        folder('no-logits', (p) =>
          writeFileSync(
            join(p, 'model.onnx'),
            encodeModel({
              graph: {
                name: 'nologits',
                nodes: [{ opType: 'Identity', inputs: ['input_ids'], outputs: ['scores'] }],
                inputs: [
                  { name: 'input_ids', elemType: T.INT64, shape: [1, 'n'] },
                  { name: 'attention_mask', elemType: T.INT64, shape: [1, 'n'] },
                ],
                outputs: [{ name: 'scores', elemType: T.INT64, shape: [1, 'n'] }],
              },
            }),
          ),
        ),
        '--prompt',
        'hi',
      ],
      /^error: the model has no output logits: a causal-lm model has inputs input_ids, attention_mask/,
    ],
    [
      '--max-new-tokens 0',
      () => ['--model', NOCACHE, '--prompt', 'hi', '--max-new-tokens', '0'],
      /^error: --max-new-tokens must be a whole number >= 1 \(got "0"\)$/,
    ],
    [
      '--max-new-tokens beyond the context',
      () => ['--model', NOCACHE, '--prompt', 'hi', '--max-new-tokens', '255'],
      /^error: --max-new-tokens 255 with a 2-token prompt exceeds the model's context of 256 tokens$/,
    ],
    [
      'an unknown kind',
      () => [
        '--model',
        folder('kind', (p) => writeFileSync(join(p, 'imo.pipeline.json'), '{"kind":"seq2seq"}')),
        '--prompt',
        'hi',
      ],
      /^error: imo\.pipeline\.json: unknown pipeline kind "seq2seq" \(imo knows: causal-lm, zk-image\)$/,
    ],
    [
      '--top-p 1.5',
      () => ['--model', NOCACHE, '--prompt', 'hi', '--top-p', '1.5'],
      /^error: --top-p must be a number > 0 and <= 1 \(got "1\.5"\)$/,
    ],
    [
      'a prompt of zero tokens',
      () => ['--model', NOCACHE, '--prompt', ''],
      /^error: the prompt encodes to zero tokens: give some text$/,
    ],
    [
      'generation flags on a one-run model',
      () => ['--model', join(repoRoot, 'models', 'cppn'), '--prompt', 'a', '--seed', '3'],
      /^error: generation settings \(seed\) apply only to causal-lm models/,
    ],
  ]
  for (const [name, args, message] of cases)
    it(name, async () => {
      const result = await runCli(['infer', ...args(), '--out', join(dir, `out-${name.replace(/\W+/g, '-')}`)], { cwd: dir })
      assert.equal(result.code, 2, result.stderr)
      assert.equal(result.stdout, '')
      const lines = errorLines(result)
      assert.equal(lines.length, 1, result.stderr)
      assert.match(lines[0]!, message)
    })
})

describe('a folder exported as Optimum does it, without imo.pipeline.json', () => {
  it('--prompt is refused with a hint naming imo.pipeline.json and the causal-lm kind (exit 2)', async () => {
    const optimum = join(dir, 'optimum-export')
    cpSync(TINYLM, optimum, { recursive: true })
    rmSync(join(optimum, 'imo.pipeline.json'))
    const result = await runCli(['infer', '--model', optimum, '--prompt', 'hi', '--out', join(dir, 'out-optimum')], { cwd: dir })
    assert.equal(result.code, 2, result.stderr)
    assert.deepEqual(errorLines(result), [
      `error: model ${optimum} has no pipeline for --prompt: give --input files instead`,
      'hint: this looks like a language model (input_ids in, logits out): put imo.pipeline.json holding {"kind": "causal-lm"} beside it, with its tokenizer.json, to run it with --prompt',
    ])
  })
})
