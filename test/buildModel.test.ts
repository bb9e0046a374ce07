import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { inflateSync } from 'node:zlib'
import { buildCppnModel, CPPN_MODEL_PATH } from '../scripts/build-model.js'
import { runInference } from '../src/inference/runInference.js'

describe('bundled model models/cppn', () => {
  it('the committed model.onnx equals a fresh build by scripts/build-model.ts', () => {
    const committed = readFileSync(CPPN_MODEL_PATH)
    assert.ok(committed.length < 2 * 1024 * 1024)
    assert.ok(
      Buffer.from(buildCppnModel()).equals(committed),
      'rebuild with `npx tsx scripts/build-model.ts` and commit the result',
    )
  })

  it('renders a valid 256x256 RGB PNG whose pixels are the model output', async () => {
    const { artifact, outputs } = await runInference({
      modelPath: CPPN_MODEL_PATH.replace(/model\.onnx$/, ''),
      prompt: 'a red spiral',
    })
    const png = Buffer.from(artifact.bytes)
    assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a')
    assert.equal(png.readUInt32BE(16), 256)
    assert.equal(png.readUInt32BE(20), 256)
    const idatLength = png.readUInt32BE(33)
    assert.equal(png.subarray(37, 41).toString(), 'IDAT')
    const raw = inflateSync(png.subarray(41, 41 + idatLength)) // checks the zlib stream and its Adler-32
    assert.equal(raw.length, 256 * (1 + 256 * 3))
    const image = outputs.image!.data as Float32Array
    const plane = 256 * 256
    for (const [x, y] of [
      [0, 0],
      [100, 37],
      [255, 255],
    ] as const)
      for (let c = 0; c < 3; c++)
        assert.equal(raw[y * 769 + 1 + x * 3 + c], Math.round(Math.min(1, Math.max(0, image[c * plane + y * 256 + x]!)) * 255))
  })

  it("a heavier build (the queue benchmark's) keeps the input, the output and the pipeline: a valid image, another model", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imo-cppn-wide-'))
    try {
      cpSync(dirname(CPPN_MODEL_PATH), dir, { recursive: true })
      writeFileSync(join(dir, 'model.onnx'), buildCppnModel({ hidden: 40, extraLayers: 2 }))
      const wide = await runInference({ modelPath: dir, prompt: 'a red spiral' })
      const bundled = await runInference({ modelPath: dirname(CPPN_MODEL_PATH), prompt: 'a red spiral' })
      assert.deepEqual(wide.outputs.image!.dims, [1, 3, 256, 256])
      assert.equal(Buffer.from(wide.artifact.bytes).subarray(0, 8).toString('hex'), '89504e470d0a1a0a')
      assert.notEqual(wide.record.modelHash, bundled.record.modelHash)
      assert.notEqual(wide.record.outputHash, bundled.record.outputHash, 'the extra layers change the image')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
