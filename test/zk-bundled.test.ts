/**
 * The bundled zk model, models/zkcppn: the committed files equal a rebuild by scripts/build-zk-model.ts,
 * and its quantized inference (onnxruntime on model.onnx) equals its circuit's output on every output
 * element for 100 random prompts.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import * as ort from 'onnxruntime-node'
import { prng } from '../scripts/build-model.js'
import { writeZkCppn, ZK_CPPN_PATH } from '../scripts/build-zk-model.js'
import { compileZkModel } from '../src/zk/compileZkModel.js'
import { promptLatent } from '../src/zk/publicSignals.js'
import { runCircuit } from '../src/zk/runCircuit.js'

let dir: string
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'imo-zk-bundled-'))
})
after(() => rmSync(dir, { recursive: true, force: true }))

describe('models/zkcppn', () => {
  it('is what scripts/build-zk-model.ts builds', async () => {
    await writeZkCppn(dir)
    for (const file of ['model.onnx', 'imo.pipeline.json'])
      assert.deepEqual(readFileSync(join(dir, file)), readFileSync(join(ZK_CPPN_PATH, file)), `${file} differs from a rebuild`)
  })

  it('onnxruntime on the quantized model equals the circuit on every output element, 100 random prompts', async () => {
    const { model, circuit, circuitDir } = await compileZkModel({ input: ZK_CPPN_PATH, outDir: join(dir, 'zk') })
    const session = await ort.InferenceSession.create(join(ZK_CPPN_PATH, 'model.onnx'), {
      graphOptimizationLevel: 'disabled',
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    })
    // Random prompts, the same on every run.
    const next = prng(24)
    const latentCount = model.graph.input.dims[1]!
    let compared = 0
    for (let i = 0; i < 100; i++) {
      const text = Array.from({ length: 1 + Math.floor(next() * 40) }, () =>
        String.fromCodePoint(32 + Math.floor(next() * 400)),
      ).join('')
      const prompt = new TextEncoder().encode(text)
      const latent = promptLatent(prompt, latentCount)
      const outputs = await session.run({
        [model.graph.input.name]: new ort.Tensor('float64', Float64Array.from(latent), model.graph.input.dims),
      })
      const image = outputs[model.graph.output.name]!.data as Float64Array
      const payload = await runCircuit(
        join(circuitDir!, 'circuit_js', 'circuit.wasm'),
        { modelHash: model.modelHash, prompt, recipient: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' },
        circuit!,
      )
      model.payloadOrder.forEach((element, byte) => {
        assert.equal(payload[byte], image[element], `prompt ${i} (${JSON.stringify(text)}): element ${element}`)
        compared++
      })
    }
    assert.equal(compared, 100 * 256)
    await session.release()
  })
})
