import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { writeNpy } from '../src/tensor/npy.js'
import { GOOD_PIPELINE, writeMultiModel, writePipelineModel } from './fixtures/models.js'
import { type CliResult, repoRoot, runCli } from './helpers/runCli.js'

const CPPN = join(repoRoot, 'models', 'cppn')
let dir: string
let multi: string

/** The inputs of the multi fixture model as JSON, with overrides. */
const multiJson = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    x: { type: 'float32', dims: [2, 4], data: [0, 1, 2, 3, 4, 5, 6, 7] },
    ids: { type: 'int64', dims: [2], data: ['9007199254740993', -1] },
    flag: { type: 'bool', dims: [2], data: [true, false] },
    text: { type: 'string', dims: [2], data: ['a', 'b'] },
    half: { type: 'float16', dims: [2], data: [0.5, 2] },
    bytes: { type: 'uint8', dims: [3], data: [1, 2, 3] },
    ...overrides,
  })

/** The error lines of a failed run (progress lines start with the ellipsis). */
/** The error lines of a failed run: progress lines (…) and the `hint:` line that may follow are left out. */
const errorLines = (result: CliResult) =>
  result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('…') && !line.startsWith('hint: '))

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'imo-infer-cli-'))
  multi = writeMultiModel(join(dir, 'models'))
})
after(() => rmSync(dir, { recursive: true, force: true }))

describe('imo infer', () => {
  it('renders the same prompt to bit-identical outputs in two processes, into out/<commitment>', async () => {
    const cwd = join(dir, 'work')
    mkdirSync(cwd)
    const first = await runCli(['infer', '--model', CPPN, '--prompt', 'a red spiral', '--json'], { cwd })
    assert.equal(first.code, 0, first.stderr)
    const record = JSON.parse(first.stdout)
    assert.equal(record.outDir, join(cwd, 'out', record.commitment.slice(2, 14)))
    assert.deepEqual(readdirSync(record.outDir).sort(), [
      'image.npy',
      'image.png',
      'inputs.imt',
      'outputs.imt',
      'outputs.json',
      'record.json',
    ])
    const png = readFileSync(join(record.outDir, 'image.png'))
    assert.equal(png.subarray(1, 4).toString(), 'PNG')
    assert.equal(record.artifact.mime, 'image/png')
    assert.deepEqual(record.inputs.tensors, [{ name: 'z', type: 'float32', dims: [1, 16] }])
    assert.deepEqual(record.outputs.tensors, [{ name: 'image', type: 'float32', dims: [1, 3, 256, 256] }])

    const second = await runCli(['infer', '--model', CPPN, '--prompt', 'a red spiral', '--out', join(dir, 'second'), '--json'], {
      cwd,
    })
    assert.equal(second.code, 0, second.stderr)
    const again = JSON.parse(second.stdout)
    for (const key of ['modelHash', 'inputHash', 'outputHash', 'configHash', 'commitment', 'promptHash', 'aigcDataHash'])
      assert.equal(again[key], record[key], key)
    assert.deepEqual(readFileSync(join(dir, 'second', 'outputs.imt')), readFileSync(join(record.outDir, 'outputs.imt')))
    assert.deepEqual(readFileSync(join(dir, 'second', 'image.png')), png)

    const other = await runCli(['infer', '--model', CPPN, '--prompt', 'a blue square', '--out', join(dir, 'third'), '--json'], {
      cwd,
    })
    assert.notEqual(JSON.parse(other.stdout).outputHash, record.outputHash)
  })

  it('runs any model from JSON and .npy inputs, and re-runs from inputs.imt to the same commitment', async () => {
    const json = join(dir, 'inputs.json')
    writeFileSync(json, multiJson())
    const out = join(dir, 'multi-run')
    const run = await runCli(['infer', '--model', multi, '--input', json, '--out', out])
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, /^commitment {2}0x[0-9a-f]{64}\nmodel hash {2}0x/)
    const outputs = JSON.parse(readFileSync(join(out, 'outputs.json'), 'utf8'))
    assert.deepEqual(outputs.ids2, { type: 'int64', dims: [2], data: ['18014398509481986', '-2'] })
    assert.deepEqual(outputs.half_f32, { type: 'float32', dims: [2], data: [0.5, 2] })
    assert.deepEqual(outputs.nflag.data, [false, true])
    const record = JSON.parse(readFileSync(join(out, 'record.json'), 'utf8'))

    const rerun = await runCli([
      'infer',
      '--model',
      multi,
      '--input',
      join(out, 'inputs.imt'),
      '--out',
      join(dir, 'rerun'),
      '--json',
    ])
    assert.equal(rerun.code, 0, rerun.stderr)
    assert.equal(JSON.parse(rerun.stdout).commitment, record.commitment)

    // The same x as a .npy file, named on the command line, the rest from JSON.
    const rest = JSON.parse(multiJson())
    const xNpy = join(dir, 'x.npy')
    writeFileSync(xNpy, writeNpy({ type: 'float32', dims: [2, 4], data: new Float32Array([0, 1, 2, 3, 4, 5, 6, 7]) }))
    delete rest.x
    writeFileSync(join(dir, 'rest.json'), JSON.stringify(rest))
    const mixed = await runCli([
      'infer',
      '--model',
      multi,
      '--input',
      `x=${xNpy}`,
      join(dir, 'rest.json'),
      '--out',
      join(dir, 'mixed'),
      '--json',
    ])
    assert.equal(mixed.code, 0, mixed.stderr)
    assert.equal(JSON.parse(mixed.stdout).commitment, record.commitment)
  })

  describe('bad input: exit 2, one line, no stack, no output folder', () => {
    const npyFile = (name: string, bytes: Uint8Array) => {
      const path = join(dir, name)
      writeFileSync(path, bytes)
      return path
    }
    const cases: [string, () => string[], RegExp][] = [
      [
        'an input name the model does not have',
        () => ['--input', npyFile('extra.json', Buffer.from(multiJson({ nope: { type: 'float32', dims: [1], data: [1] } })))],
        /^error: the model has no input "nope"; the model expects x float32\[N,4\], ids int64\[N\], flag bool\[N\], text string\[N\], half float16\[2\], bytes uint8\[3\]$/,
      ],
      [
        'a missing input',
        () => ['--input', npyFile('missing.json', Buffer.from(JSON.stringify({ ...JSON.parse(multiJson()), bytes: undefined })))],
        /^error: missing input "bytes"; the model expects x float32\[N,4\]/,
      ],
      [
        'a wrong dtype',
        () => ['--input', npyFile('dtype.json', Buffer.from(multiJson({ bytes: { type: 'int8', dims: [3], data: [1, 2, 3] } })))],
        /^error: input "bytes" is int8\[3\] but the model wants uint8\[3\]; the model expects/,
      ],
      [
        'a wrong shape',
        () => [
          '--input',
          npyFile('shape.json', Buffer.from(multiJson({ x: { type: 'float32', dims: [1, 3], data: [1, 2, 3] } }))),
        ],
        /^error: input "x" has shape \[1,3\] but the model wants float32\[N,4\]; the model expects/,
      ],
      [
        '300 for uint8',
        () => [
          '--input',
          npyFile('range.json', Buffer.from(multiJson({ bytes: { type: 'uint8', dims: [3], data: [1, 300, 3] } }))),
        ],
        /^error: .*range\.json: tensor "bytes", value 1 \(300\) is out of range for uint8 \(0\.\.255\)$/,
      ],
      [
        '1.5 for an integer type',
        () => [
          '--input',
          npyFile('fraction.json', Buffer.from(multiJson({ ids: { type: 'int64', dims: [2], data: [1.5, 2] } }))),
        ],
        /^error: .*fraction\.json: tensor "ids", value 0 \(1\.5\) is not a whole number, as int64 needs$/,
      ],
      [
        'malformed JSON',
        () => ['--input', npyFile('broken.json', Buffer.from('{"x": {'))],
        /^error: .*broken\.json is not valid JSON: /,
      ],
      [
        'a malformed .npy',
        () => ['--input', `x=${npyFile('broken.npy', Buffer.from('not numpy'))}`],
        /^error: .*broken\.npy is not a usable \.npy file: it does not start with \\x93NUMPY$/,
      ],
      [
        'a Fortran-order .npy',
        () => {
          const bytes = Buffer.from(writeNpy({ type: 'float32', dims: [2, 4], data: new Float32Array(8) }))
          const fortran = Buffer.from(
            bytes.toString('latin1').replace("'fortran_order': False", "'fortran_order': True "),
            'latin1',
          )
          return ['--input', `x=${npyFile('fortran.npy', fortran)}`]
        },
        /^error: .*fortran\.npy is not a usable \.npy file: Fortran \(column-major\) order is not supported/,
      ],
      [
        '--prompt with a model that has no pipeline',
        () => ['--prompt', 'hi'],
        /^error: model .* has no pipeline for --prompt: give --input files instead$/,
      ],
      [
        '--prompt and --input together',
        () => ['--prompt', 'hi', '--input', npyFile('both.json', Buffer.from(multiJson()))],
        /^error: give either --prompt or --input, not both$/,
      ],
    ]
    for (const [what, args, message] of cases)
      it(what, async () => {
        const out = join(dir, 'bad', what.replace(/\W+/g, '-'))
        const result = await runCli(['infer', '--model', multi, ...args(), '--out', out])
        assert.equal(result.code, 2, result.stderr)
        assert.equal(result.stdout, '')
        const lines = errorLines(result)
        assert.equal(lines.length, 1, result.stderr)
        assert.match(lines[0]!, message)
        assert.equal(existsSync(out), false)
        assert.ok(!existsSync(join(dir, 'bad')) || readdirSync(join(dir, 'bad')).every((name) => !name.startsWith('.')))
      })

    const modelCases: [string, (folder: string) => void, RegExp][] = [
      [
        'a file that is not ONNX',
        (folder) => writeFileSync(join(folder, 'model.onnx'), 'this is not a model'),
        /^error: .*model\.onnx/,
      ],
      [
        'a pipeline that throws',
        (folder) =>
          writePipelineModel(
            folder,
            'export function encode() { throw new Error("no latent for you") }\nexport function decode() {}\n',
          ),
        /^error: pipeline encode\(\) failed: no latent for you$/,
      ],
      [
        'a pipeline without decode',
        (folder) => writePipelineModel(folder, 'export function encode() { return {} }\n'),
        /^error: pipeline .*imo\.pipeline\.mjs does not export a function decode\(\)$/,
      ],
      [
        'a pipeline whose encode returns the wrong thing',
        (folder) => writePipelineModel(folder, 'export const encode = () => 42\nexport const decode = () => ({})\n'),
        /^error: pipeline encode\(\) must return an object of tensors by name/,
      ],
      [
        'a pipeline that does not parse',
        (folder) => writePipelineModel(folder, 'export function encode( {'),
        /^error: pipeline .*imo\.pipeline\.mjs failed to load: /,
      ],
    ]
    for (const [what, make, message] of modelCases)
      it(`a broken model: ${what}`, async () => {
        const folder = join(dir, 'broken-models', what.replace(/\W+/g, '-'))
        mkdirSync(folder, { recursive: true })
        make(folder)
        const out = join(dir, 'bad-model-out')
        const result = await runCli(['infer', '--model', folder, '--prompt', 'x', '--out', out])
        assert.equal(result.code, 2, result.stderr)
        const lines = errorLines(result)
        assert.equal(lines.length, 1, result.stderr)
        assert.match(lines[0]!, message)
        assert.equal(existsSync(out), false)
      })

    it('a missing --model names the flag', async () => {
      const result = await runCli(['infer', '--prompt', 'x'])
      assert.equal(result.code, 2)
      assert.deepEqual(errorLines(result), ['error: missing model path: pass --model or set IMO_MODEL (no terminal to ask on)'])
    })
  })

  it('a working pipeline model from a fixture folder writes its artifact', async () => {
    const folder = writePipelineModel(join(dir, 'good-pipeline'), GOOD_PIPELINE)
    const result = await runCli(['infer', '--model', folder, '--prompt', 'four', '--out', join(dir, 'good-out'), '--json'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(readFileSync(join(dir, 'good-out', 'text.txt'), 'utf8'), '5,2')
  })
})
