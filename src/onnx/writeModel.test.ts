import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import ort from 'onnxruntime-node'
import { encodeModel, OnnxDataType } from './writeModel.js'

const folder = mkdtempSync(join(tmpdir(), 'imo-onnx-write-'))
after(() => rmSync(folder, { recursive: true, force: true }))

function floats(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer)
}

describe('encodeModel', () => {
  it('encodes a tiny model byte for byte (golden vector)', () => {
    const bytes = encodeModel({
      producerName: 'imo',
      graph: {
        name: 'g',
        nodes: [{ opType: 'Relu', inputs: ['x'], outputs: ['y'] }],
        inputs: [{ name: 'x', elemType: OnnxDataType.FLOAT, shape: ['n', 2] }],
        outputs: [{ name: 'y', elemType: OnnxDataType.FLOAT, shape: ['n', 2] }],
      },
    })
    // Fields in number order: ir_version 8, producer_name, graph (node, name, input, output), opset 17.
    assert.equal(
      Buffer.from(bytes).toString('hex'),
      '0808' +
        '1203696d6f' +
        '3a3d' +
        '0a0c0a0178120179220452656c75' +
        '120167' +
        '5a140a0178120f0a0d080112090a0312016e0a020802' +
        '62140a0179120f0a0d080112090a0312016e0a020802' +
        '42021011',
    )
  })

  it('runs in onnxruntime: inputs with symbolic dims, initializers, float/int/ints attributes', async () => {
    const bytes = encodeModel({
      graph: {
        name: 'gemm',
        nodes: [
          {
            opType: 'Gemm',
            inputs: ['x', 'w', 'b'],
            outputs: ['h'],
            name: 'gemm0',
            attributes: [
              { name: 'alpha', type: 'float', value: 2 },
              { name: 'transB', type: 'int', value: 1 },
            ],
          },
          { opType: 'Reshape', inputs: ['h', 'shape'], outputs: ['y'] },
          {
            opType: 'Constant',
            inputs: [],
            outputs: ['shape'],
            attributes: [
              {
                name: 'value',
                type: 'tensor',
                value: {
                  name: 'c',
                  dataType: OnnxDataType.INT64,
                  dims: [2],
                  raw: new Uint8Array(new BigInt64Array([-1n, 2n]).buffer),
                },
              },
            ],
          },
          { opType: 'ReduceMax', inputs: ['y'], outputs: ['s'], attributes: [{ name: 'axes', type: 'ints', value: [-1] }] },
        ],
        initializers: [
          { name: 'w', dataType: OnnxDataType.FLOAT, dims: [2, 3], raw: floats([1, 0, 0, 0, 1, 0]) },
          { name: 'b', dataType: OnnxDataType.FLOAT, dims: [2], raw: floats([0.5, -0.5]) },
        ],
        inputs: [{ name: 'x', elemType: OnnxDataType.FLOAT, shape: ['batch', 3] }],
        outputs: [
          { name: 'y', elemType: OnnxDataType.FLOAT, shape: ['batch', 2] },
          { name: 's', elemType: OnnxDataType.FLOAT, shape: ['batch'] },
        ],
      },
      opsetImports: [{ domain: '', version: 13 }],
    })
    const session = await ort.InferenceSession.create(bytes)
    assert.deepEqual(session.inputNames, ['x'])
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]) })
    assert.deepEqual(Array.from(out.y!.data as Float32Array), [2.5, 3.5, 8.5, 9.5])
    assert.deepEqual(Array.from(out.s!.data as Float32Array), [3.5, 9.5])
  })

  it('runs in onnxruntime with an initializer in an external-data file', async () => {
    const data = Buffer.concat([Buffer.alloc(16), Buffer.from(floats([10, 20, 30]))])
    writeFileSync(join(folder, 'weights.bin'), data)
    const bytes = encodeModel({
      graph: {
        name: 'ext',
        nodes: [{ opType: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
        initializers: [
          {
            name: 'w',
            dataType: OnnxDataType.FLOAT,
            dims: [3],
            externalData: { location: 'weights.bin', offset: 16, length: 12 },
          },
        ],
        inputs: [{ name: 'x', elemType: OnnxDataType.FLOAT, shape: [3] }],
        outputs: [{ name: 'y', elemType: OnnxDataType.FLOAT, shape: [3] }],
      },
    })
    const path = join(folder, 'ext.onnx')
    writeFileSync(path, bytes)
    const session = await ort.InferenceSession.create(path)
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [3]) })
    assert.deepEqual(Array.from(out.y!.data as Float32Array), [11, 22, 33])
  })

  it('runs an If node whose branches are subgraph attributes, with metadata and a string attribute', async () => {
    const branch = (name: string, value: number) => ({
      name,
      nodes: [
        {
          opType: 'Constant',
          inputs: [],
          outputs: [`${name}_out`],
          attributes: [
            {
              name: 'value',
              type: 'tensor' as const,
              value: { name: `${name}_c`, dataType: OnnxDataType.FLOAT, dims: [1], raw: floats([value]) },
            },
          ],
        },
      ],
      inputs: [],
      outputs: [{ name: `${name}_out`, elemType: OnnxDataType.FLOAT, shape: [1] }],
    })
    const bytes = encodeModel({
      metadata: { author: 'imo' },
      graph: {
        name: 'if',
        nodes: [
          {
            opType: 'If',
            inputs: ['cond'],
            outputs: ['y'],
            attributes: [
              { name: 'then_branch', type: 'graph', value: branch('then', 1) },
              { name: 'else_branch', type: 'graph', value: branch('else', -1) },
            ],
          },
          { opType: 'Identity', inputs: ['y'], outputs: ['z'], domain: '' },
          {
            opType: 'Cast',
            inputs: ['y'],
            outputs: ['t'],
            attributes: [{ name: 'to', type: 'int', value: OnnxDataType.STRING }],
          },
          {
            opType: 'Shrink',
            inputs: ['z'],
            outputs: ['u'],
            attributes: [
              { name: 'lambd', type: 'float', value: 0.5 },
              { name: 'bias', type: 'float', value: 0.5 },
            ],
          },
          {
            opType: 'LeakyRelu',
            inputs: ['u'],
            outputs: ['v'],
            attributes: [{ name: 'alpha', type: 'float', value: 0.25 }],
          },
        ],
        inputs: [{ name: 'cond', elemType: OnnxDataType.BOOL, shape: [] }],
        outputs: [
          { name: 'v', elemType: OnnxDataType.FLOAT, shape: [1] },
          { name: 't', elemType: OnnxDataType.STRING, shape: [1] },
        ],
      },
    })
    const session = await ort.InferenceSession.create(bytes)
    const yes = await session.run({ cond: new ort.Tensor('bool', [true], []) })
    assert.deepEqual(Array.from(yes.v!.data as Float32Array), [0.5])
    assert.deepEqual(yes.t!.data, ['1'])
    const no = await session.run({ cond: new ort.Tensor('bool', [false], []) })
    assert.deepEqual(Array.from(no.v!.data as Float32Array), [-0.125])
  })

  it('encodes negative and 64-bit integers as ten-byte varints', async () => {
    const bytes = encodeModel({
      graph: {
        name: 'big',
        nodes: [
          {
            opType: 'Constant',
            inputs: [],
            outputs: ['y'],
            attributes: [{ name: 'value_ints', type: 'ints', value: [-1, 2n ** 62n, Number.MAX_SAFE_INTEGER] }],
          },
        ],
        inputs: [],
        outputs: [{ name: 'y', elemType: OnnxDataType.INT64, shape: [3] }],
      },
    })
    const session = await ort.InferenceSession.create(bytes)
    const out = await session.run({})
    assert.deepEqual(Array.from(out.y!.data as BigInt64Array), [-1n, 2n ** 62n, BigInt(Number.MAX_SAFE_INTEGER)])
  })
})
