import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { repoRoot } from '../../test/helpers/runCli.js'
import { GENERATED_IDS, idsTensor } from '../generate/runGeneration.js'
import { computeCommitment } from '../inference/commitment.js'
import { computeConfigHash } from '../inference/config.js'
import { loadModel } from '../inference/loadModel.js'
import type { InferenceRecord } from '../inference/record.js'
import { type InferenceResult, runInference } from '../inference/runInference.js'
import { encodeTensors, sha256Hex } from '../tensor/encodeTensors.js'
import { createResultChecker, recordDifference } from './checkWorkerResult.js'
import {
  outputsFileName,
  packWorkerResult,
  REDIS_OUTPUTS_LIMIT,
  type ReceivedResult,
  receiveWorkerResult,
  WorkerResultError,
} from './workerResult.js'

const CPPN = join(repoRoot, 'models', 'cppn')
const TINYLM = join(repoRoot, 'models', 'tinylm')
const worker = { id: 'box:1', host: 'box', pid: 1 }
let dir: string
let honest: InferenceResult

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'imo-check-result-'))
  honest = await runInference({ modelPath: CPPN, prompt: 'a red spiral' })
})
after(() => rmSync(dir, { recursive: true, force: true }))

const received = (result: InferenceResult, record: InferenceRecord = structuredClone(result.record)): ReceivedResult => ({
  record,
  outputEncoding: result.outputEncoding,
  worker,
  attempt: 1,
})
const recommit = (record: InferenceRecord) => {
  record.configHash = computeConfigHash(record.config)
  record.commitment = computeCommitment(record)
  return record
}
const forged = (message: RegExp) => (error: unknown) => {
  assert.ok(error instanceof WorkerResultError, String(error))
  assert.equal(error.forged, true, error.message)
  assert.match(error.message, message)
  return true
}

describe('receiveWorkerResult: reading what a worker sent, with caps, from where serve says', () => {
  const noRedis = { readRedis: async () => undefined }

  it('outputs over the Redis limit go to the artifact folder, content-addressed, and are read back', async () => {
    const big = { ...honest, outputEncoding: new Uint8Array(REDIS_OUTPUTS_LIMIT + 1).fill(1) }
    big.record = {
      ...honest.record,
      outputHash: sha256Hex(big.outputEncoding),
      outputs: { ...honest.record.outputs, size: REDIS_OUTPUTS_LIMIT + 1 },
    }
    const store = async () => assert.fail('not through Redis')
    await assert.rejects(
      packWorkerResult(big, { worker, attempt: 1, jobId: 'request-1', storeOutputs: store }),
      /over the 1048576-byte limit for Redis: start the workers with --artifact-dir/,
    )
    const wire = await packWorkerResult(big, { worker, attempt: 1, jobId: 'request-1', storeOutputs: store, artifactDir: dir })
    assert.deepEqual(wire.outputs, { in: 'file', file: outputsFileName(big.record.outputHash) })
    const back = await receiveWorkerResult(JSON.parse(JSON.stringify(wire)), 'request-1', { ...noRedis, artifactDir: dir })
    assert.deepEqual(back.outputEncoding, big.outputEncoding)
    // The dispatcher without the folder, or the file gone: refused, but nothing shows the worker lied.
    await assert.rejects(receiveWorkerResult(wire, 'request-1', noRedis), (error: WorkerResultError) => {
      assert.equal(error.forged, false)
      return /give serve the same folder$/.test(error.message)
    })
    rmSync(join(dir, outputsFileName(big.record.outputHash)))
    await assert.rejects(receiveWorkerResult(wire, 'request-1', { ...noRedis, artifactDir: dir }), (error: WorkerResultError) => {
      assert.equal(error.forged, false)
      return /no such file$/.test(error.message)
    })
  })

  it('refuses a result whose name, worker, size or bytes are not what an honest worker sends', async () => {
    const bytes = new Map<string, Uint8Array>()
    const redis = {
      readRedis: async (key: string, maxBytes: number) => bytes.get(key)?.subarray(0, maxBytes + 1),
    }
    const wire = await packWorkerResult(honest, {
      worker,
      attempt: 1,
      jobId: 'request-2',
      storeOutputs: async (key, value) => bytes.set(key, value),
    })
    assert.deepEqual(wire.outputs, { in: 'redis' })
    assert.deepEqual((await receiveWorkerResult(wire, 'request-2', redis)).outputEncoding, honest.outputEncoding)
    // Another job's key is not read: the key is derived from the job serve collects.
    await assert.rejects(receiveWorkerResult(wire, 'request-3', redis), /its outputs are not in Redis/)
    const [key] = [...bytes.keys()]
    bytes.set(key!, new Uint8Array(REDIS_OUTPUTS_LIMIT + 5))
    await assert.rejects(receiveWorkerResult(wire, 'request-2', redis), forged(/over the 1048576-byte limit$/))
    bytes.set(key!, honest.outputEncoding.slice(1))
    await assert.rejects(receiveWorkerResult(wire, 'request-2', redis), forged(/its outputs do not hash to its outputHash$/))
    const cases: Array<[unknown, RegExp]> = [
      [{ ...wire, format: 'imo-worker-result-v1' }, /no imo-worker-result-v2$/],
      [{ ...wire, worker: { ...worker, id: 'box\u001b[2J:1' } }, /names no worker/],
      [{ ...wire, outputs: { in: 'file', file: 'record.json' } }, /names the outputs file "record.json"/],
      [{ ...wire, outputs: { in: 'inline', base64: 'AAAA' } }, /says nowhere serve reads its outputs from/],
      [
        { ...wire, record: { ...wire.record, outputs: { ...wire.record.outputs, file: '../x' } } },
        /outputs.file must be a plain file name/,
      ],
    ]
    for (const [value, message] of cases)
      await assert.rejects(receiveWorkerResult(value, 'request-2', { ...redis, artifactDir: dir }), forged(message))
  })
})

describe("createResultChecker: serve re-derives a worker's result with the model", () => {
  it('an honest result gives serve the same inference, built by serve', async () => {
    const checker = await createResultChecker(await loadModel(CPPN), { aigcDataMode: 'digest' })
    assert.equal(checker.mode, 'rederive')
    const own = await checker.check({ prompt: 'a red spiral' }, received(honest))
    assert.ok(own)
    assert.equal(own.record.commitment, honest.record.commitment)
    assert.deepEqual(own.artifact.bytes, honest.artifact.bytes)
    assert.equal(own.artifact.file, 'image.png')
  })

  it('refuses a forged inputHash, artifact, settings, prompt or outputs of another shape', async () => {
    const checker = await createResultChecker(await loadModel(CPPN), { aigcDataMode: 'digest' })
    const check = (record: InferenceRecord, result = honest) =>
      checker.check({ prompt: 'a red spiral' }, received(result, record))
    const edit = (change: (record: InferenceRecord) => void) => {
      const record = structuredClone(honest.record)
      change(record)
      return recommit(record)
    }
    await assert.rejects(check(edit((r) => (r.inputHash = `0x${'11'.repeat(32)}`))), forged(/its inputHash 0x1111/))
    await assert.rejects(
      check(edit((r) => (r.artifact = { ...r.artifact, sha256: `0x${'22'.repeat(32)}`, size: 10 }))),
      forged(/is not what the pipeline decodes from its outputs/),
    )
    await assert.rejects(
      check(edit((r) => (r.config = { ...r.config, executionMode: 'parallel', graphOptimizationLevel: 'all' }))),
      forged(
        /other settings than serve runs: executionMode "parallel" \(serve: "sequential"\), graphOptimizationLevel "all" \(serve: "disabled"\)$/,
      ),
    )
    await assert.rejects(check(edit((r) => (r.prompt = 'another'))), forged(/its prompt is not the request's$/))
    // What the worker wrote is quoted with control and bidi characters escaped: it cannot rewrite the terminal.
    await assert.rejects(
      check(edit((r) => (r.artifact = { ...r.artifact, mime: 'image/png\u001b[2J\u202e', size: 1 }))),
      forged(/^its artifact \("image\/png\\u001b\[2J\\u202e", 1 bytes, /),
    )
    await assert.rejects(
      check(edit((r) => (r.outputs.npy = { image: 'mint.json' }))),
      forged(/differs from serve's in "outputs\.npy\.image"$/),
    )
    const shaped = { ...honest, outputEncoding: encodeTensors({ image: idsTensor([1, 2, 3]) }) }
    await assert.rejects(
      check(
        edit((r) => (r.outputHash = sha256Hex(shaped.outputEncoding))),
        shaped,
      ),
      forged(/its output "image" is int64\[1,3\]; the model's is float32\[/),
    )
  })

  it("outputs of another prompt pass every check but a re-execution's", async () => {
    const other = await runInference({ modelPath: CPPN, prompt: 'something else' })
    const { assembleInference } = await import('../inference/assembleInference.js')
    const model = await loadModel(CPPN)
    const forgery = assembleInference({
      model,
      pipeline: 'module',
      prompt: 'a red spiral',
      inputs: honest.inputs,
      outputs: other.outputs,
      artifact: other.artifact,
      aigcDataMode: 'digest',
      startedAt: new Date(),
      finishedAt: new Date(),
    })
    const checker = await createResultChecker(model, { aigcDataMode: 'digest' })
    await checker.check({ prompt: 'a red spiral' }, received(forgery))
    assert.match(recordDifference(honest.record, forgery.record), /^its outputHash 0x[0-9a-f]{64} is not the re-execution's 0x/)
    assert.equal(recordDifference(honest.record, structuredClone(honest.record)), '')
  })

  it('causal-lm: the text is re-decoded from the ids; ids that no generation makes are refused', async () => {
    const model = await loadModel(TINYLM)
    const lm = await runInference({ modelPath: model, prompt: 'The river' })
    const checker = await createResultChecker(model, { aigcDataMode: 'digest' })
    assert.equal(checker.config.generation?.kind, 'causal-lm')
    const own = await checker.check({ prompt: 'The river' }, received(lm))
    assert.equal(own?.record.commitment, lm.record.commitment)
    const ids = Array.from(lm.outputs[GENERATED_IDS]!.data as BigInt64Array, Number)
    const max = checker.config.generation!.maxNewTokens
    const withIds = (next: number[]) => {
      const result = { ...lm, outputEncoding: encodeTensors({ [GENERATED_IDS]: idsTensor(next) }) }
      const record = structuredClone(lm.record)
      record.outputHash = sha256Hex(result.outputEncoding)
      return checker.check({ prompt: 'The river' }, received(result, recommit(record)))
    }
    const stops = checker.config.generation!.stopIds
    const plain = ids.find((id) => !stops.includes(id))!
    await assert.rejects(withIds(Array(max + 1).fill(plain)), forged(/are \d+, more than the \d+ the settings allow$/))
    await assert.rejects(withIds([plain, plain]), forged(/end after 2 of \d+ tokens without a stop id$/))
    assert.ok(stops.length > 0, "tinylm's files name a stop id")
    await assert.rejects(withIds([stops[0]!, plain]), forged(/go on after the stop id \d+ at position 0$/))
  })

  it('a pipeline that generates in a loop of its own cannot be re-derived: serve re-runs its results', async () => {
    const model = join(dir, 'generating')
    mkdirSync(model)
    copyFileSync(join(repoRoot, 'test', 'fixtures', 'lm-nocache', 'model.onnx'), join(model, 'model.onnx'))
    writeFileSync(
      join(model, 'imo.pipeline.mjs'),
      'export async function generate(prompt, run) { return { inputs: {}, outputs: {}, bytes: new Uint8Array([1]), mime: "text/plain" } }\n',
    )
    const checker = await createResultChecker(await loadModel(model), { aigcDataMode: 'digest' })
    assert.equal(checker.mode, 'rerun')
  })
})
