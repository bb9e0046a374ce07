import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type InferenceResult, runInference } from '../inference/runInference.js'
import { parseQueueUrl } from './connectRedis.js'
import { type InferenceJobData, jobIdOf, requestIdOf } from './inferenceJob.js'
import { checkWorkerResult, INLINE_ARTIFACT_LIMIT, packWorkerResult, WorkerResultError } from './workerResult.js'

const CPPN = fileURLToPath(new URL('../../models/cppn', import.meta.url))
const worker = { id: 'box:1', host: 'box', pid: 1 }
let result: InferenceResult
let job: InferenceJobData
let dir: string

before(async () => {
  result = await runInference({ modelPath: CPPN, prompt: 'a red spiral' })
  job = {
    requestId: '7',
    prompt: 'a red spiral',
    recipient: `0x${'11'.repeat(20)}`,
    modelHash: result.record.modelHash,
    aigcDataMode: 'digest',
    enqueuedAt: Date.now(),
  }
  dir = mkdtempSync(join(tmpdir(), 'imo-worker-result-'))
})
after(() => rmSync(dir, { recursive: true, force: true }))

describe('worker results through Redis', () => {
  it('a small artifact travels inline and checks out to the bytes runInference made', () => {
    const wire = JSON.parse(JSON.stringify(packWorkerResult(result, { worker, attempt: 1 })))
    assert.ok('base64' in wire.artifact)
    const output = checkWorkerResult(wire, job)
    assert.deepEqual(output.artifactBytes, result.artifact.bytes)
    assert.deepEqual(output.promptBytes, result.promptBytes)
    assert.deepEqual(output.aigcData, result.aigcData)
    assert.equal(output.record.commitment, result.record.commitment)
    assert.deepEqual(output.worker, worker)
  })

  it('an artifact over the limit goes to the shared folder, content-addressed, or fails without one', () => {
    const big = new Uint8Array(INLINE_ARTIFACT_LIMIT + 1).fill(7)
    const large = structuredClone(result)
    large.artifact = { ...large.artifact, bytes: big }
    large.record.artifact.sha256 = `0x${'ab'.repeat(32)}`
    assert.throws(
      () => packWorkerResult(large, { worker, attempt: 1 }),
      (error: Error) => {
        assert.ok(error instanceof WorkerResultError)
        assert.match(error.message, /over the 1048576-byte limit for Redis: start the workers with --artifact-dir/)
        return true
      },
    )
    const wire = packWorkerResult(large, { worker, attempt: 1, artifactDir: dir })
    assert.deepEqual(wire.artifact, { file: `${'ab'.repeat(32)}.png` })
    assert.ok(existsSync(join(dir, `${'ab'.repeat(32)}.png`)))
    // The dispatcher without the folder, or with a file that does not match: refused, one line.
    assert.throws(() => checkWorkerResult(wire, job), /give the dispatcher the same folder/)
    assert.throws(() => checkWorkerResult(wire, job, dir), /the artifact's SHA-256 or size is not the record's/)
    assert.throws(
      () => checkWorkerResult({ ...wire, artifact: { file: '../etc/passwd' } }, job, dir),
      /outside the artifact folder/,
    )
  })

  it('the dispatcher re-checks every hash: a tampered result is refused', () => {
    const good = () => JSON.parse(JSON.stringify(packWorkerResult(result, { worker, attempt: 1 })))
    const cases: Array<[string, (wire: ReturnType<typeof good>) => void, RegExp]> = [
      ['artifact bytes', (w) => (w.artifact.base64 = Buffer.from('other').toString('base64')), /SHA-256 or size/],
      ['commitment', (w) => (w.record.commitment = `0x${'00'.repeat(32)}`), /commitment/],
      ['config', (w) => (w.record.config.intraOpNumThreads = 4), /configHash/],
      ['prompt', (w) => (w.record.prompt = 'another prompt'), /its prompt is not the job prompt/],
      ['model', (w) => (w.record.modelHash = `0x${'00'.repeat(32)}`), /model 0x0+ is not the job's/],
      ['format', (w) => (w.format = 'v0'), /no imo-worker-result-v1/],
      ['record', (w) => delete w.record.inputHash, /inputHash must be/],
    ]
    for (const [what, tamper, message] of cases) {
      const wire = good()
      tamper(wire)
      assert.throws(() => checkWorkerResult(wire, job), message, what)
    }
  })

  it('job ids: request-<id>, since BullMQ refuses integer ids', () => {
    assert.equal(jobIdOf(7n), 'request-7')
    assert.equal(jobIdOf('0042'), 'request-42')
    assert.equal(
      requestIdOf('request-115792089237316195423570985008687907853269984665640564039457584007913129639935'),
      (2n ** 256n - 1n).toString(),
    )
    assert.throws(() => jobIdOf('7; FLUSHALL'), /is not a whole number/)
  })

  it('queue URLs: defaults, database, TLS, password hidden', () => {
    assert.deepEqual(parseQueueUrl('redis://10.0.0.5'), {
      host: '10.0.0.5',
      port: 6379,
      db: 0,
      tls: false,
      display: 'redis://10.0.0.5',
    })
    const url = parseQueueUrl('rediss://worker:p%40ss@redis.example:6380/3')
    assert.equal(url.password, 'p@ss')
    assert.equal(url.username, 'worker')
    assert.equal(url.db, 3)
    assert.equal(url.tls, true)
    assert.equal(url.display, 'rediss://worker:***@redis.example:6380/3')
    assert.throws(() => parseQueueUrl('redis://h:1/0?x=1'), /takes no query/)
  })
})
