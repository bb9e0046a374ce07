import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import fs, { mkdirSync, mkdtempSync, type PathLike, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { keccak256 } from 'viem'
import {
  ALL_TYPES,
  GOOD_PIPELINE,
  writeAllTypesModel,
  writeExternalDataModel,
  writeMultiModel,
  writePipelineModel,
} from '../../test/fixtures/models.js'
import { hashModel } from '../model/hashModel.js'
import { decodeTensors } from '../tensor/decodeTensors.js'
import type { TensorSet } from '../tensor/dtypes.js'
import { encodeTensors, sha256Hex } from '../tensor/encodeTensors.js'
import { checkInference } from '../verify/checkInference.js'
import { CheckList } from '../verify/checks.js'
import { computeCommitment } from './commitment.js'
import { computeConfigHash, defaultInferenceConfig } from './config.js'
import { loadModel } from './loadModel.js'
import { readRecord } from './record.js'
import { reexecute } from './reexecute.js'
import { runInference } from './runInference.js'
import { writeInferenceOutputs } from './writeInferenceOutputs.js'

let dir: string
let multi: string

const multiFeeds = (n: number): TensorSet => ({
  x: { type: 'float32', dims: [n, 4], data: new Float32Array(n * 4).map((_, i) => i) },
  ids: { type: 'int64', dims: [n], data: new BigInt64Array(n).map((_, i) => BigInt(i) - 2n ** 40n) },
  flag: { type: 'bool', dims: [n], data: new Uint8Array(n).map((_, i) => i % 2) },
  text: { type: 'string', dims: [n], data: Array.from({ length: n }, (_, i) => `t${i}é`) },
  half: { type: 'float16', dims: [2], data: new Uint16Array([0x3c00, 0xc000]) },
  bytes: { type: 'uint8', dims: [3], data: new Uint8Array([0, 128, 255]) },
})

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'imo-infer-'))
  multi = writeMultiModel(join(dir, 'multi'))
})
after(() => rmSync(dir, { recursive: true, force: true }))

describe('runInference', () => {
  it('runs a model with several inputs and outputs of different types and a dynamic dimension', async () => {
    for (const n of [1, 3]) {
      const result = await runInference({ modelPath: multi, inputs: multiFeeds(n) })
      const { outputs, record } = result
      assert.deepEqual(Object.keys(outputs).sort(), ['bytes_out', 'half_f32', 'ids2', 'nflag', 'text_out', 'y'])
      assert.deepEqual(outputs.y!.dims, [n, 4])
      assert.deepEqual([...(outputs.y!.data as Float32Array)].slice(0, 4), [1, 3, 5, 7])
      assert.deepEqual(
        [...(outputs.ids2!.data as BigInt64Array)],
        Array.from({ length: n }, (_, i) => (BigInt(i) - 2n ** 40n) * 2n),
      )
      assert.deepEqual(
        [...(outputs.nflag!.data as Uint8Array)],
        Array.from({ length: n }, (_, i) => 1 - (i % 2)),
      )
      assert.deepEqual(
        outputs.text_out!.data,
        Array.from({ length: n }, (_, i) => `t${i}é`),
      )
      assert.deepEqual([...(outputs.half_f32!.data as Float32Array)], [1, -2])
      assert.deepEqual([...(outputs.bytes_out!.data as Uint8Array)], [0, 128, 255])
      // Every hash recomputed independently of runInference.
      const { modelHash } = await hashModel(multi)
      assert.equal(record.modelHash, modelHash)
      assert.equal(record.inputHash, sha256Hex(encodeTensors(multiFeeds(n))))
      assert.equal(record.outputHash, `0x${createHash('sha256').update(result.outputEncoding).digest('hex')}`)
      assert.equal(record.configHash, computeConfigHash(record.config))
      assert.equal(record.commitment, computeCommitment(record))
      // Without a pipeline: prompt bytes are the inputs' encoding, the artifact is the outputs' encoding.
      assert.equal(record.prompt, null)
      assert.deepEqual(result.promptBytes, result.inputEncoding)
      assert.equal(record.promptHash, keccak256(result.inputEncoding))
      assert.equal(record.artifact.file, 'outputs.imt')
      assert.deepEqual(result.aigcData, new Uint8Array(createHash('sha256').update(result.outputEncoding).digest()))
    }
  })

  it('feeds and fetches every element type bit for bit, and rank-0 tensors', async () => {
    const model = writeAllTypesModel(join(dir, 'types'))
    const data: Record<string, unknown[]> = {
      float32: [1.5, 'NaN'],
      uint8: [0, 255],
      int8: [-128, 127],
      uint16: [0, 65535],
      int16: [-32768, 32767],
      int32: [-(2 ** 31), 2 ** 31 - 1],
      int64: ['-9223372036854775808', '9223372036854775807'],
      string: ['', 'ünïcödé 😀'],
      bool: [true, false],
      float16: [0.1, -65504],
      float64: [Math.PI, -0],
      uint32: [0, 4294967295],
      uint64: ['0', '18446744073709551615'],
    }
    const { toTensorValue } = await import('../tensor/toTensorValue.js')
    const inputs: TensorSet = { scalar: toTensorValue('scalar', { type: 'float32', dims: [], data: 2.5 }) }
    for (const [type] of ALL_TYPES) inputs[`in_${type}`] = toTensorValue(type, { type, dims: [2], data: data[type] })
    const { outputs } = await runInference({ modelPath: model, inputs })
    const renamed: TensorSet = {}
    for (const [name, tensor] of Object.entries(outputs))
      renamed[name === 'scalar_out' ? 'scalar' : name.replace('out_', 'in_')] = tensor
    assert.deepEqual(Buffer.from(encodeTensors(renamed)), Buffer.from(encodeTensors(inputs)))
    assert.deepEqual(outputs.scalar_out!.dims, [])
  })

  it('runs a model folder whose weights are external data, and hashes the weights file', async () => {
    const folder = writeExternalDataModel(join(dir, 'external'))
    const result = await runInference({
      modelPath: folder,
      inputs: { x: { type: 'float32', dims: [1, 4], data: new Float32Array([1, 1, 1, 1]) } },
    })
    assert.deepEqual([...(result.outputs.y!.data as Float32Array)], [16, 20])
    const { files } = await hashModel(folder)
    assert.deepEqual(
      files.map((file) => file.path),
      ['model.onnx', 'weights.bin'],
    )
    assert.equal(result.record.model.onnxFile, 'model.onnx')
  })

  it('uses a pipeline: prompt bytes are the UTF-8 prompt, the artifact is decode(), aigcData inline', async () => {
    const folder = writePipelineModel(join(dir, 'piped'), GOOD_PIPELINE)
    const result = await runInference({ modelPath: folder, prompt: 'héllo', aigcDataMode: 'inline' })
    assert.deepEqual([...(result.inputs.x!.data as Float32Array)], [5, 1])
    assert.equal(Buffer.from(result.artifact.bytes).toString(), '6,2')
    assert.equal(result.record.artifact.mime, 'text/plain')
    assert.equal(result.record.artifact.file, 'text.txt')
    assert.equal(Buffer.from(result.promptBytes).toString('utf8'), 'héllo')
    assert.deepEqual(result.aigcData, result.artifact.bytes)
    assert.equal(result.record.aigcDataHash, keccak256(result.artifact.bytes))
    assert.equal(result.record.model.pipeline, 'imo.pipeline.mjs')
  })

  it('loads each model once per process', async () => {
    assert.equal(await loadModel(multi), await loadModel(multi))
  })

  it('shares one load between recorded configs that differ only in the informative onnxruntimeVersion', async () => {
    const a = await loadModel(multi, { config: defaultInferenceConfig('1.0.0') })
    const b = await loadModel(multi, { config: defaultInferenceConfig('9.9.9') })
    assert.equal(a, b)
    assert.notEqual(await loadModel(multi, { config: { ...defaultInferenceConfig('1.0.0'), intraOpNumThreads: 2 } }), a)
  })

  it('reads the ONNX file that runs once for its hash and its session (the bytes hashed are the bytes loaded)', async () => {
    const folder = join(dir, 'read-once')
    const onnxPath = writeMultiModel(folder)
    const size = statSync(onnxPath).size
    // Every byte read from the model file while it loads, counted through node:fs itself.
    const paths = new Map<number, string>()
    let bytesRead = 0
    const { openSync, readSync } = fs
    fs.openSync = ((path: PathLike, ...rest: unknown[]) => {
      const fd = (openSync as (...args: unknown[]) => number)(path, ...rest)
      paths.set(fd, String(path))
      return fd
    }) as typeof fs.openSync
    fs.readSync = ((fd: number, ...rest: unknown[]) => {
      const n = (readSync as (...args: unknown[]) => number)(fd, ...rest)
      if (paths.get(fd) === onnxPath) bytesRead += n
      return n
    }) as typeof fs.readSync
    syncBuiltinESMExports()
    let model: Awaited<ReturnType<typeof loadModel>>
    try {
      model = await loadModel(folder)
    } finally {
      fs.openSync = openSync
      fs.readSync = readSync
      syncBuiltinESMExports()
    }
    // Once for the listing's ONNX facts (external data), once for the hash and the session; it was three times.
    assert.ok(bytesRead <= 2 * size, `${bytesRead} bytes read of a ${size}-byte model`)
    assert.equal(model.modelHash, (await hashModel(folder)).modelHash)
    assert.ok(model.session.inputNames.length > 0)
  })

  it('rejects feeds that do not fit, with one line naming the inputs', async () => {
    const expected =
      'the model expects x float32[N,4], ids int64[N], flag bool[N], text string[N], half float16[2], bytes uint8[3]'
    const run = (inputs: TensorSet) => runInference({ modelPath: multi, inputs })
    const feeds = multiFeeds(2)
    await assert.rejects(run({ ...feeds, extra: feeds.x! }), { message: `the model has no input "extra"; ${expected}` })
    const { bytes: _, ...missing } = feeds
    await assert.rejects(run(missing), { message: `missing input "bytes"; ${expected}` })
    await assert.rejects(run({ ...feeds, x: { type: 'float64', dims: [2, 4], data: new Float64Array(8) } }), {
      message: `input "x" is float64[2,4] but the model wants float32[N,4]; ${expected}`,
    })
    await assert.rejects(run({ ...feeds, x: { type: 'float32', dims: [2, 5], data: new Float32Array(10) } }), {
      message: `input "x" has shape [2,5] but the model wants float32[N,4]; ${expected}`,
    })
    await assert.rejects(runInference({ modelPath: multi }), { message: `no input given: pass --input FILE; ${expected}` })
    await assert.rejects(
      runInference({ modelPath: multi, prompt: 'x' }),
      /has no pipeline for --prompt: give --input files instead$/,
    )
  })
})

describe('inference outputs, records and re-execution', () => {
  it('writes every file at once; the record reads back, its payload checks out, and re-execution matches', async () => {
    const folder = writePipelineModel(join(dir, 'piped2'), GOOD_PIPELINE)
    const out = join(dir, 'runs', 'one')
    const result = await runInference({ modelPath: folder, prompt: 'abc', outDir: out })
    assert.deepEqual(readdirSync(out).sort(), ['inputs.imt', 'outputs.imt', 'outputs.json', 'record.json', 'text.txt'])
    assert.deepEqual(readdirSync(join(dir, 'runs')), ['one'])
    const record = readRecord(join(out, 'record.json'))
    assert.deepEqual(record, JSON.parse(JSON.stringify(result.record)))
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'outputs.json'), 'utf8')), {
      y: { type: 'float32', dims: [1, 2], data: [4, 2] },
    })
    const list = new CheckList()
    const payload = await checkInference(list, out, { trustPipeline: true })
    assert.equal(list.status, 'verified', JSON.stringify(list.checks))
    assert.deepEqual(payload!.promptBytes, new Uint8Array(Buffer.from('abc')))
    assert.deepEqual(payload!.aigcData, result.aigcData)

    const inputEncoding = new Uint8Array(readFileSync(join(out, 'inputs.imt')))
    const checked = await reexecute(record, { inputEncoding, allowPipeline: () => {} })
    assert.deepEqual(
      [
        checked.matches,
        checked.modelMatches,
        checked.configMatches,
        checked.inputMatches,
        checked.promptMatches,
        checked.artifactMatches,
        checked.commitmentMatches,
      ],
      [true, true, true, true, true, true, true],
    )
    const untrusted = await reexecute(record, { inputEncoding })
    assert.deepEqual([untrusted.matches, untrusted.promptMatches, untrusted.artifactMatches], [true, null, null])
  })

  it('reports the largest float difference when outputs do not match', async () => {
    const out = join(dir, 'runs', 'two')
    const result = await runInference({ modelPath: multi, inputs: multiFeeds(2), outDir: out })
    const recorded = decodeTensors(readFileSync(join(out, 'outputs.imt')))
    const y = recorded.y!.data as Float32Array
    y[5] = y[5]! + 0.25
    const tampered = encodeTensors(recorded)
    writeFileSync(join(out, 'outputs.imt'), tampered)
    // A record that claims other outputs than the model gives.
    const outputHash = sha256Hex(tampered)
    const record = { ...result.record, outputHash, commitment: computeCommitment({ ...result.record, outputHash }) }
    const inputEncoding = new Uint8Array(readFileSync(join(out, 'inputs.imt')))
    const checked = await reexecute(record, { inputEncoding, outputEncoding: tampered })
    assert.equal(checked.matches, false)
    assert.equal(checked.outputHash, result.record.outputHash)
    assert.equal(checked.maxAbsDiff, 0.25)
    assert.deepEqual(checked.firstMismatch, { tensor: 'y', index: 5, expected: '7.25', actual: '7' })
    assert.equal(checked.commitmentMatches, false)
    const list = new CheckList()
    await checkInference(list, out)
    assert.equal(list.checks.find((c) => c.name === 'output hash')?.status, 'fail')
  })

  it('leaves nothing behind when writing fails, and never overwrites a non-empty folder', async () => {
    const result = await runInference({ modelPath: multi, inputs: multiFeeds(1) })
    const parent = join(dir, 'runs3')
    mkdirSync(join(parent, 'taken'), { recursive: true })
    writeFileSync(join(parent, 'taken', 'keep.txt'), 'x')
    assert.throws(
      () => writeInferenceOutputs(result, join(parent, 'taken')),
      /output folder .*taken already exists and is not empty/,
    )
    const broken = {
      ...result,
      record: { ...result.record, outputs: { ...result.record.outputs, npy: { missing: 'missing.npy' } } },
    }
    assert.throws(() => writeInferenceOutputs(broken, join(parent, 'new')))
    assert.deepEqual(readdirSync(parent), ['taken'])
    assert.deepEqual(readdirSync(join(parent, 'taken')), ['keep.txt'])
  })

  it('refuses malformed records with the first bad field', () => {
    const file = join(dir, 'bad-record.json')
    writeFileSync(file, '{"format": "imo-inference-record-v1", "imoVersion": "0.1.0", "modelHash": "0x12"}')
    assert.throws(() => readRecord(file), {
      message: `${file} is not a valid inference record: modelHash must be 0x + 64 lowercase hex digits`,
    })
    writeFileSync(file, 'not json')
    assert.throws(() => readRecord(file), { message: new RegExp(`^${file} is not valid JSON, so not an inference record: `) })
    assert.throws(() => readRecord(join(dir, 'nope.json')), /cannot read inference record .*nope\.json: no such file/)
  })
})
