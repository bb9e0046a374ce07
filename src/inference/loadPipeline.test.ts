/**
 * Pipeline trust is decided on the bytes that run (issue 11 item 3): a file swapped right after the
 * check (deterministically, inside the trust gate) does not run; the module imported is the bytes
 * that were hashed. And re-execution loads no pipeline of a model whose hash is not the record's.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { repoRoot } from '../../test/helpers/runCli.js'
import { pipelineTrust } from '../verify/pipelineTrust.js'
import { loadPipeline, PIPELINE_FILE } from './loadPipeline.js'
import { readRecord } from './record.js'
import { reexecute } from './reexecute.js'
import { runInference } from './runInference.js'

const source = (marker: number) => `
export function encode() { return { x: { type: 'float32', dims: [1], data: [${marker}] } } }
export function decode() { return { bytes: new Uint8Array([${marker}]), mime: 'text/plain' } }
`
const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex')
let dir: string
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'imo-pipeline-'))
})
after(() => rmSync(dir, { recursive: true, force: true }))

describe('loadPipeline', () => {
  it('imports the bytes the gate decided on, even when the file is swapped right after the check', async () => {
    const path = join(dir, PIPELINE_FILE)
    writeFileSync(path, source(1))
    let decided: string | undefined
    const pipeline = await loadPipeline(path, {
      expectedSha256: sha256(source(1)),
      allow: (digest) => {
        decided = digest
        writeFileSync(path, source(2)) // the swap, between the check and the import
      },
    })
    assert.equal(decided, sha256(source(1)))
    assert.deepEqual([...((await pipeline.encode('p')).x!.data as Float32Array)], [1])
    assert.deepEqual([...(await pipeline.decode({})).bytes], [1])
    assert.equal(readFileSync(path, 'utf8'), source(2), 'the file on disk was swapped')
  })

  it("a gate that refuses stops the import (the bundled pipeline's trust is decided on its digest)", async () => {
    const path = join(dir, 'theirs.mjs')
    writeFileSync(path, `${source(3)}\nglobalThis.__imoPipelineRan = true\n`)
    await assert.rejects(
      loadPipeline(path, { allow: (digest, p) => pipelineTrust(digest, p, false) }),
      /which is not imo's bundled one/,
    )
    assert.equal((globalThis as { __imoPipelineRan?: boolean }).__imoPipelineRan, undefined)
    const bundled = join(repoRoot, 'models', 'cppn', PIPELINE_FILE)
    let trust: string | undefined
    await loadPipeline(bundled, { allow: (digest, p) => (trust = pipelineTrust(digest, p, false)) })
    assert.equal(trust, 'bundled')
  })

  it('re-execution loads no pipeline of a model whose hash is not the recorded one', async () => {
    const model = join(dir, 'cppn')
    cpSync(join(repoRoot, 'models', 'cppn'), model, { recursive: true })
    const out = join(dir, 'run')
    await runInference({ modelPath: model, prompt: 'p', outDir: out })
    const record = readRecord(join(out, 'record.json'))
    const inputEncoding = new Uint8Array(readFileSync(join(out, 'inputs.imt')))
    let gateCalls = 0
    const allowPipeline = () => {
      gateCalls++
    }
    const matching = await reexecute(record, { inputEncoding, allowPipeline })
    assert.deepEqual([matching.modelMatches, matching.artifactMatches, gateCalls], [true, true, 1])
    const claimed = { ...record, modelHash: `0x${'0'.repeat(64)}` as const }
    const other = await reexecute(claimed, { inputEncoding, allowPipeline })
    assert.deepEqual([other.modelMatches, other.promptMatches, other.artifactMatches, gateCalls], [false, null, null, 1])
  })
})
