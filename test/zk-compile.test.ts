/**
 * `imo zk compile`: the quantized model and its circuit compute the same bytes as onnxruntime on the
 * quantized model.onnx; the same input gives the same files; unsupported operators, weights that
 * overflow the fixed-point range, values beyond 2^53 and outputs outside [0, 1) are refused with one
 * line naming the node (exit 2).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { buildZkCppnFloat } from '../scripts/build-zk-model.js'
import { promptLatent } from '../src/zk/publicSignals.js'
import { readZkModel } from '../src/zk/readZkModel.js'
import { runCircuit } from '../src/zk/runCircuit.js'
import { bigintAlgebra, evaluateZkGraph } from '../src/zk/zkGraph.js'
import { type CliResult, runCli } from './helpers/runCli.js'
import { floatModel, node, runZkOnnx } from './helpers/zkFixtures.js'

let dir: string
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'imo-zk-compile-'))
})
after(() => rmSync(dir, { recursive: true, force: true }))

const RECIPIENT = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const errorLines = (result: CliResult) => result.stderr.split('\n').filter((line) => line.startsWith('error:'))
const assertRefused = (result: CliResult, message: RegExp) => {
  assert.equal(result.code, 2, result.stderr)
  const lines = errorLines(result)
  assert.equal(lines.length, 1, result.stderr)
  assert.match(lines[0]!, message)
  assert.doesNotMatch(result.stderr, /internal error|at .*\.js:\d+/)
}
const compile = (model: Uint8Array, name: string, extra: string[] = []) => {
  const path = join(dir, `${name}.onnx`)
  writeFileSync(path, model)
  return runCli(['zk', 'compile', path, '--out', join(dir, name), ...extra], { cwd: dir, timeoutMs: 300_000 })
}

describe('imo zk compile refuses what it cannot prove', () => {
  const base = {
    floats: { w: { dims: [4, 4], values: Array(16).fill(0.1) }, half: { dims: [], values: [0.5] } },
    ints: { shape: [1, 1, 2, 2] },
  }
  it('an unsupported operator, naming the node', async () => {
    const model = floatModel({
      ...base,
      output: [1, 1, 2, 2],
      nodes: [node('MatMul', ['z', 'w'], 'a'), node('Softmax', ['a'], 'soft'), node('Reshape', ['soft', 'shape'], 'image')],
    })
    assertRefused(await compile(model, 'softmax'), /node 'soft' \(Softmax\): operator not supported for zk proofs/)
  })
  it('a weight that overflows the fixed-point range', async () => {
    const model = floatModel({
      floats: { w: { dims: [4, 4], values: [1e30, ...Array(15).fill(0.1)] } },
      ints: base.ints,
      output: [1, 1, 2, 2],
      nodes: [node('MatMul', ['z', 'w'], 'a'), node('Reshape', ['a', 'shape'], 'image')],
    })
    assertRefused(
      await compile(model, 'overflow'),
      /weight 'w' of node 'a' \(1\.0000000150474662e\+30\) overflows the fixed-point range/,
    )
  })
  it('a weight beyond the BN254 field (float64 1e80), and an infinite one', async () => {
    const weights = (values: number[]) =>
      floatModel({
        doubles: { w: { dims: [4, 4], values: [...values, ...Array(16 - values.length).fill(0.1)] } },
        ints: base.ints,
        output: [1, 1, 2, 2],
        nodes: [node('MatMul', ['z', 'w'], 'a'), node('Reshape', ['a', 'shape'], 'image')],
      })
    assertRefused(
      await compile(weights([1e80]), 'field'),
      /weight 'w' of node 'a' \(1e\+80\) overflows the fixed-point range: 1e\+80 \* 2\^8 is beyond \+-2\^53/,
    )
    assertRefused(
      await compile(weights([0.5, Number.POSITIVE_INFINITY]), 'infinite'),
      /weight 'w' of node 'a' is Infinity: zk models need finite weights/,
    )
  })
  it('values that may leave +-2^53, where float64 stops being exact', async () => {
    const big = { dims: [4, 4], values: Array(16).fill(3e5) }
    const model = floatModel({
      floats: { w1: big, w2: big, w3: big },
      ints: base.ints,
      output: [1, 1, 2, 2],
      nodes: [
        node('MatMul', ['z', 'w1'], 'a'),
        node('MatMul', ['a', 'w2'], 'b'),
        node('MatMul', ['b', 'w3'], 'c'),
        node('Reshape', ['c', 'shape'], 'image'),
      ],
    })
    assertRefused(
      await compile(model, 'wide'),
      /node 'c' \(MatMul\): its values may reach \+-2\^67 at scale 2\^7, beyond \+-2\^53/,
    )
  })
  it('an output that may leave [0, 1)', async () => {
    const model = floatModel({
      ...base,
      output: [1, 1, 2, 2],
      nodes: [node('MatMul', ['z', 'w'], 'a'), node('Sin', ['a'], 's'), node('Reshape', ['s', 'shape'], 'image')],
    })
    assertRefused(await compile(model, 'range'), /output 'image' may reach \[-1\.000, 1\.004\), beyond \[0, 1\)/)
  })
  it('an input that is not [1, L] with L <= 31', async () => {
    const model = floatModel({ ...base, latent: 40, output: [1, 1, 2, 2], nodes: [node('Reshape', ['z', 'shape'], 'image')] })
    assertRefused(await compile(model, 'latent'), /input 'z' is \[1,40\]: a zk model's input must be \[1, L\] with 1 <= L <= 31/)
  })
})

describe('imo zk compile: a model, its circuit and onnxruntime agree', () => {
  let out: string
  before(async () => {
    const result = await compile(buildZkCppnFloat({ size: 4, units: 2, relu: true }), 'tiny', ['--json'])
    assert.equal(result.code, 0, result.stderr)
    out = join(dir, 'tiny')
    const json = JSON.parse(result.stdout)
    assert.match(json.modelHash, /^0x[0-9a-f]{64}$/)
    assert.equal(json.setup, null)
  })

  it('writes the same bytes for the same input', async () => {
    assert.equal((await compile(buildZkCppnFloat({ size: 4, units: 2, relu: true }), 'tiny-again')).code, 0)
    for (const file of ['model/model.onnx', 'model/imo.pipeline.json', 'circuit/circuit.circom', 'circuit/circuit.r1cs'])
      assert.deepEqual(readFileSync(join(dir, 'tiny-again', file)), readFileSync(join(out, file)), file)
  })

  it('gives onnxruntime, the integer semantics and the circuit the same output bytes (Sin and Relu)', async () => {
    const model = await readZkModel(join(out, 'model'))
    const onnx = readFileSync(join(out, 'model', 'model.onnx'))
    const circuit = JSON.parse(readFileSync(join(out, 'circuit', 'circuit.json'), 'utf8'))
    const ops = new Set(model.graph.nodes.map((n) => n.op))
    for (const op of ['MatMul', 'Relu', 'Mod', 'FloorDiv', 'Mul']) assert.ok(ops.has(op as never), `the graph uses ${op}`)
    for (const text of ['a red spiral', 'zk', '', 'ünïcödé ✓']) {
      const prompt = new TextEncoder().encode(text)
      const latent = promptLatent(prompt, model.graph.input.dims[1]!)
      const exact = evaluateZkGraph(model.graph, { dims: model.graph.input.dims, data: latent.map(BigInt) }, bigintAlgebra)
        .get(model.graph.output.name)!
        .data.map(Number)
      const runtime = await runZkOnnx(onnx, model.graph, latent)
      assert.deepEqual(runtime, exact, `onnxruntime = integer semantics for ${JSON.stringify(text)}`)
      const payload = await runCircuit(
        join(out, 'circuit', 'circuit_js', 'circuit.wasm'),
        { modelHash: model.modelHash, prompt, recipient: RECIPIENT },
        circuit,
      )
      assert.deepEqual(
        Array.from(payload),
        model.payloadOrder.map((i) => runtime[i]),
        `circuit = onnxruntime for ${JSON.stringify(text)}`,
      )
    }
  })

  it('a circuit refuses another model hash', async () => {
    const model = await readZkModel(join(out, 'model'))
    const circuit = JSON.parse(readFileSync(join(out, 'circuit', 'circuit.json'), 'utf8'))
    await assert.rejects(
      runCircuit(
        join(out, 'circuit', 'circuit_js', 'circuit.wasm'),
        { modelHash: `0x${'11'.repeat(32)}`, prompt: new Uint8Array(1), recipient: RECIPIENT },
        circuit,
      ),
      /the circuit rejects this input/,
    )
    void model
  })
})
