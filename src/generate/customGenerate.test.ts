import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { repoRoot } from '../../test/helpers/runCli.js'
import { reexecute } from '../inference/reexecute.js'
import { runInference } from '../inference/runInference.js'

// A custom pipeline with generate(prompt, run): its own greedy byte loop over the no-cache fixture.
const PIPELINE = `
export async function generate(prompt, run) {
  const ids = [...new TextEncoder().encode(prompt)].map(BigInt)
  const out = []
  for (let step = 0; step < 6; step++) {
    const all = [...ids, ...out]
    const { logits } = await run({
      input_ids: { type: 'int64', dims: [1, all.length], data: BigInt64Array.from(all) },
      attention_mask: { type: 'int64', dims: [1, all.length], data: new BigInt64Array(all.length).fill(1n) },
    })
    const vocab = logits.dims[2]
    const row = logits.data.subarray((all.length - 1) * vocab, all.length * vocab)
    let best = 0
    for (let i = 1; i < vocab; i++) if (row[i] > row[best]) best = i
    out.push(BigInt(best))
  }
  return {
    inputs: { prompt_ids: { type: 'int64', dims: [ids.length], data: BigInt64Array.from(ids) } },
    outputs: { ids: { type: 'int64', dims: [out.length], data: BigInt64Array.from(out) } },
    bytes: new TextEncoder().encode(out.map((b) => String.fromCharCode(Number(b))).join('')),
    mime: 'text/plain; charset=utf-8',
  }
}
`

describe('a custom pipeline exporting generate(prompt, run)', () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'imo-custom-gen-'))
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('commits what generate returns, and a trusted re-execution re-runs the loop', async () => {
    const model = join(dir, 'model')
    mkdirSync(model)
    copyFileSync(join(repoRoot, 'test', 'fixtures', 'lm-nocache', 'model.onnx'), join(model, 'model.onnx'))
    writeFileSync(join(model, 'imo.pipeline.mjs'), PIPELINE)
    const out = join(dir, 'out')
    const result = await runInference({ modelPath: model, prompt: 'The', outDir: out })
    assert.deepEqual(Object.keys(result.inputs), ['prompt_ids'])
    assert.equal(result.outputs.ids!.dims[0], 6)
    assert.equal(result.record.model.pipeline, 'imo.pipeline.mjs')
    assert.equal(result.artifact.file, 'text.txt')
    const inputEncoding = new Uint8Array(readFileSync(join(out, result.record.inputs.file)))
    const rerun = await reexecute(result.record, { inputEncoding, allowPipeline: () => {} })
    assert.equal(rerun.matches, true)
    assert.equal(rerun.promptMatches, true)
    assert.equal(rerun.artifactMatches, true)
    assert.equal(rerun.commitmentMatches, true)
  })
})
