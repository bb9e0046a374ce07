import assert from 'node:assert/strict'
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import ort from 'onnxruntime-node'
import { UsageError } from '../errors.js'
import { parseModelInfo, readModelInfo } from './readModelInfo.js'
import { ProtoWriter } from './wire.js'
import { encodeModel, type OnnxGraphSpec, OnnxDataType as T } from './writeModel.js'

const folder = mkdtempSync(join(tmpdir(), 'imo-onnx-read-'))
after(() => rmSync(folder, { recursive: true, force: true }))

const floats = (values: number[]) => new Uint8Array(new Float32Array(values).buffer)

function externalGraph(name: string, location: string): OnnxGraphSpec {
  return {
    name,
    nodes: [{ opType: 'Identity', inputs: [`${name}_w`], outputs: [`${name}_y`] }],
    initializers: [{ name: `${name}_w`, dataType: T.FLOAT, dims: [1], externalData: { location } }],
    inputs: [],
    outputs: [{ name: `${name}_y`, elemType: T.FLOAT, shape: [1] }],
  }
}

const rich = encodeModel({
  irVersion: 9,
  producerName: 'imo-test',
  opsetImports: [
    { domain: '', version: 17 },
    { domain: 'com.microsoft', version: 1 },
  ],
  graph: {
    name: 'rich',
    nodes: [
      {
        opType: 'Constant',
        inputs: [],
        outputs: ['c'],
        attributes: [
          {
            name: 'value',
            type: 'tensor',
            value: { name: 'cv', dataType: T.FLOAT, dims: [1], externalData: { location: 'const.bin' } },
          },
        ],
      },
      {
        opType: 'If',
        inputs: ['cond'],
        outputs: ['z'],
        attributes: [
          { name: 'then_branch', type: 'graph', value: externalGraph('then', 'sub/then.bin') },
          { name: 'else_branch', type: 'graph', value: externalGraph('else', 'weights.bin') },
        ],
      },
      { opType: 'Add', inputs: ['x', 'w'], outputs: ['y'] },
    ],
    initializers: [
      { name: 'w', dataType: T.FLOAT, dims: [4], externalData: { location: 'weights.bin', offset: 0, length: 16 } },
      { name: 'inline', dataType: T.FLOAT, dims: [2], raw: floats([1, 2]) },
    ],
    inputs: [
      { name: 'x', elemType: T.FLOAT, shape: ['batch', 4] },
      { name: 'w', elemType: T.FLOAT, shape: [4] },
      { name: 'cond', elemType: T.BOOL, shape: [] },
    ],
    outputs: [
      { name: 'y', elemType: T.FLOAT, shape: ['batch', 4] },
      { name: 'z', elemType: T.FLOAT, shape: [1] },
    ],
  },
})

describe('parseModelInfo', () => {
  it('returns IR version, opsets, producer, inputs without initializers, outputs, and every external location', () => {
    assert.deepEqual(parseModelInfo(rich, 'rich.onnx'), {
      irVersion: 9,
      opset: [
        { domain: '', version: 17 },
        { domain: 'com.microsoft', version: 1 },
      ],
      producerName: 'imo-test',
      inputs: [
        { name: 'x', elemType: T.FLOAT, shape: ['batch', 4] },
        { name: 'cond', elemType: T.BOOL, shape: [] },
      ],
      outputs: [
        { name: 'y', elemType: T.FLOAT, shape: ['batch', 4] },
        { name: 'z', elemType: T.FLOAT, shape: [1] },
      ],
      externalDataLocations: ['const.bin', 'sub/then.bin', 'weights.bin'],
    })
  })

  it('reads packed repeated fields and unknown dimensions as other writers emit them', () => {
    // ModelProto built field by field: a dimension with neither value nor param, an unknown field.
    const shape = new ProtoWriter().message(1, new ProtoWriter().int(1, 3)).message(1, new ProtoWriter())
    const valueInfo = new ProtoWriter()
      .string(1, 'x')
      .message(2, new ProtoWriter().message(1, new ProtoWriter().int(1, T.INT64).message(2, shape)))
    const packedDims = new ProtoWriter()
      .bytes(1, Uint8Array.from([2, 3]))
      .int(2, T.FLOAT)
      .string(8, 'p')
      .bytes(9, new Uint8Array(24))
    const graph = new ProtoWriter().string(2, 'g').message(5, packedDims).message(11, valueInfo).message(12, valueInfo)
    const model = new ProtoWriter()
      .int(1, 7)
      .string(3, 'v1')
      .message(7, graph)
      .message(8, new ProtoWriter().int(2, 11))
      .int(99, 5)
    const info = parseModelInfo(model.finish())
    assert.equal(info.irVersion, 7)
    assert.deepEqual(info.opset, [{ domain: '', version: 11 }])
    assert.deepEqual(info.inputs, [{ name: 'x', elemType: T.INT64, shape: [3, '?'] }])
    assert.deepEqual(info.externalDataLocations, [])
  })

  it('agrees with onnxruntime on input and output names', async () => {
    const bytes = encodeModel({
      graph: {
        name: 'g',
        nodes: [{ opType: 'Mul', inputs: ['a', 'k'], outputs: ['b'] }],
        initializers: [{ name: 'k', dataType: T.FLOAT, dims: [], raw: floats([3]) }],
        inputs: [
          { name: 'a', elemType: T.FLOAT, shape: ['n'] },
          { name: 'k', elemType: T.FLOAT, shape: [] },
        ],
        outputs: [{ name: 'b', elemType: T.FLOAT, shape: ['n'] }],
      },
    })
    const session = await ort.InferenceSession.create(bytes)
    const info = parseModelInfo(bytes)
    assert.deepEqual(
      info.inputs.map((i) => i.name),
      session.inputNames,
    )
    assert.deepEqual(
      info.outputs.map((o) => o.name),
      session.outputNames,
    )
  })

  const bad: [string, Uint8Array, RegExp][] = [
    ['empty', new Uint8Array(), /^not an ONNX model: bad\.onnx \(empty file\)$/],
    ['truncated', rich.subarray(0, rich.length - 30), /^not an ONNX model: bad\.onnx \(truncated protobuf/],
    ['truncated inside a length', rich.subarray(0, 3), /^not an ONNX model: bad\.onnx \(truncated protobuf/],
    ['text', new TextEncoder().encode('hello, this is not a model\n'), /^not an ONNX model: bad\.onnx \(/],
    ['invalid wire type', Uint8Array.from([0x0b, 0x01]), /^not an ONNX model: bad\.onnx \(invalid wire type 3 at byte 0\)$/],
    ['no graph', new ProtoWriter().int(1, 8).message(8, new ProtoWriter().int(2, 17)).finish(), /\(no graph\)$/],
    ['no opset', new ProtoWriter().int(1, 8).message(7, new ProtoWriter().string(2, 'g')).finish(), /\(no opset import\)$/],
    [
      'graph with wrong wire type',
      Uint8Array.from([0x08, 0x08, 0x38, 0x01]),
      /\(field 7 of the model has the wrong wire type\)$/,
    ],
  ]
  for (const [what, bytes, message] of bad) {
    it(`rejects ${what} input with a one-line UsageError naming the file`, () => {
      assert.throws(
        () => parseModelInfo(bytes, 'bad.onnx'),
        (error: unknown) => {
          assert.ok(error instanceof UsageError)
          assert.equal(error.exitCode, 2)
          assert.match(error.shortMessage, message)
          assert.doesNotMatch(error.shortMessage, /\n/)
          return true
        },
      )
    })
  }

  it('rejects 200 blocks of pseudo-random bytes', () => {
    let seed = 42
    const random = () => {
      seed = (seed * 1103515245 + 12345) >>> 0
      return seed >>> 24
    }
    for (let i = 0; i < 200; i++) {
      const bytes = Uint8Array.from({ length: 64 + i * 7 }, random)
      assert.throws(() => parseModelInfo(bytes, 'r.bin'), /^UsageError: not an ONNX model: r\.bin \(/)
    }
  })

  it('rejects an external tensor without a location', () => {
    const tensor = new ProtoWriter().int(2, T.FLOAT).string(8, 'w').int(14, 1)
    const bytes = new ProtoWriter()
      .int(1, 8)
      .message(7, new ProtoWriter().message(5, tensor))
      .message(8, new ProtoWriter().int(2, 17))
      .finish()
    assert.throws(() => parseModelInfo(bytes, 'm.onnx'), /\(tensor 'w' is stored externally but names no location\)$/)
  })
})

describe('readModelInfo', () => {
  it('reads a file; a missing file and a folder are one-line usage errors', () => {
    const path = join(folder, 'rich.onnx')
    writeFileSync(path, rich)
    assert.deepEqual(readModelInfo(path), parseModelInfo(rich))
    assert.throws(() => readModelInfo(join(folder, 'nope.onnx')), {
      name: 'UsageError',
      message: `no such file: ${join(folder, 'nope.onnx')}`,
    })
    mkdirSync(join(folder, 'dir.onnx'))
    assert.throws(() => readModelInfo(join(folder, 'dir.onnx')), {
      message: `not an ONNX model: ${join(folder, 'dir.onnx')} (a folder)`,
    })
  })

  it('reads a model above 64 MiB through a window, skipping its inline tensor data', () => {
    const size = 80 * 1024 * 1024
    const header = encodeModel({
      producerName: 'big',
      graph: {
        name: 'big',
        nodes: [{ opType: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
        initializers: [
          { name: 'ext', dataType: T.FLOAT, dims: [1], externalData: { location: 'big.bin' } },
          { name: 'w', dataType: T.UINT8, dims: [size], raw: new Uint8Array(size) },
        ],
        inputs: [{ name: 'x', elemType: T.UINT8, shape: [size] }],
        outputs: [{ name: 'y', elemType: T.UINT8, shape: [size] }],
      },
    })
    const path = join(folder, 'big.onnx')
    const fd = openSync(path, 'w')
    writeSync(fd, header)
    closeSync(fd)
    const before = process.memoryUsage().arrayBuffers
    const info = readModelInfo(path)
    const grown = process.memoryUsage().arrayBuffers - before
    assert.equal(info.producerName, 'big')
    assert.deepEqual(info.inputs, [{ name: 'x', elemType: T.UINT8, shape: [size] }])
    assert.deepEqual(info.externalDataLocations, ['big.bin'])
    assert.ok(grown < 8 * 1024 * 1024, `read ${grown} bytes into memory`)
    rmSync(path)
  })
})
