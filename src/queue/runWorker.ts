/**
 * `imo worker` behind its command file: reads the flags, starts the inference worker, logs one line
 * per job on stderr (a JSON line each with --json), and stops cleanly on Ctrl-C / SIGTERM (exit 0,
 * the summary on stdout). A worker that refuses work (another model than the jobs') exits 2.
 */
import { resolve } from 'node:path'
import { parseWhole } from '../chain/format.js'
import { escapeControl } from '../cli/escapeControl.js'
import { note, uiSettings } from '../cli/ui.js'
import { readDeploymentFile } from '../deployment/deploymentFile.js'
import { InputNeededError, UsageError } from '../errors.js'
import { onInterrupt, setInterruptExitCode } from '../util/interrupt.js'
import { LOCK_MS, MAX_LOCK_MS, MIN_LOCK_MS } from './inferenceJob.js'
import { refusalError, startInferenceWorker, type WorkerJobEvent } from './startInferenceWorker.js'

export interface WorkerOptionValues {
  queue?: string
  model?: string
  concurrency?: string
  lockMs?: string
  deployment?: string
  artifactDir?: string
  metricsPort?: string
}

/** What `imo worker` prints on stdout when it is stopped. */
export interface WorkerSummary {
  worker: string
  modelHash: string
  queue: string
  completed: number
  failed: number
  refused: number
}

/**
 * Runs the worker until Ctrl-C/SIGTERM (then `done` prints the summary and the process exits 0).
 * @param values - the command's flags.
 * @param done - receives the summary once the worker has stopped after an interrupt.
 * @throws UsageError for missing or bad flags, or when the worker refuses work (exit 2); RpcError
 *   when Redis cannot be reached (exit 6).
 * @example
 * await runWorker({ queue: 'redis://127.0.0.1:6379/0', model: 'models/cppn' }, (summary) => printResult(summary, render))
 */
export async function runWorker(values: WorkerOptionValues, done: (summary: WorkerSummary) => void): Promise<void> {
  if (!values.queue) throw new InputNeededError('--queue', 'queue URL', 'IMO_QUEUE')
  const concurrency =
    values.concurrency === undefined ? 1 : Number(parseWhole(values.concurrency, '--concurrency', { min: 1n, max: 256n }))
  const lockMs =
    values.lockMs === undefined
      ? LOCK_MS
      : Number(parseWhole(values.lockMs, '--lock-ms', { min: BigInt(MIN_LOCK_MS), max: BigInt(MAX_LOCK_MS) }))
  const deployment = values.deployment ? readDeploymentFile(resolve(values.deployment)) : undefined
  if (values.deployment && !deployment) throw new UsageError(`deployment file ${values.deployment} does not exist`)
  const modelPath = values.model ?? deployment?.model?.path
  if (!modelPath) throw new InputNeededError('--model', 'model path')
  const metricsPort =
    values.metricsPort === undefined
      ? undefined
      : Number(parseWhole(values.metricsPort, '--metrics-port', { min: 0n, max: 65_535n }))
  const { json } = uiSettings()
  const line = (event: Record<string, unknown>, human: string) => {
    if (json) process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`)
    else note(human)
  }
  const metrics = metricsPort === undefined ? undefined : await openWorkerMetrics(metricsPort)
  const worker = await startInferenceWorker({
    url: values.queue,
    modelPath,
    concurrency,
    lockMs,
    ...(deployment ? { expectedModelHash: deployment.modelHash } : {}),
    ...(values.artifactDir ? { artifactDir: values.artifactDir } : {}),
    onJob: (event) => {
      metrics?.job(event)
      line({ event: 'job', ...event }, describeJob(event))
    },
    onLog: (message) => {
      metrics?.connection(message)
      line({ event: 'connection', message }, escapeControl(message))
    },
  }).catch(async (error: unknown) => {
    await metrics?.close()
    throw error
  })
  if (metrics)
    line(
      { event: 'metrics', metricsPort: metrics.port },
      `metrics on http://127.0.0.1:${metrics.port}/metrics, health on /healthz`,
    )
  const { parseQueueUrl } = await import('./connectRedis.js')
  const queue = parseQueueUrl(values.queue).display
  // V8's concurrent garbage collector runs on helper threads: with onnxruntime's outputs arriving as
  // fresh buffers every run, they cost a busy worker about half as much CPU again per job (README,
  // "Several machines"). Node takes --single-threaded-gc only on its command line, so say it here.
  const gc = process.execArgv.includes('--single-threaded-gc') ? 'single-threaded' : 'concurrent'
  // The tip names the script this process runs (a local node_modules/.bin/imo, a global install, a
  // checkout's bin/imo.mjs), relative when it is under the working folder.
  const { isAbsolute, relative } = await import('node:path')
  const script = process.argv[1] ?? 'imo'
  const shown = relative(process.cwd(), script)
  const command = `node --single-threaded-gc ${shown.startsWith('..') || isAbsolute(shown) ? script : shown} worker ...`
  line(
    { event: 'ready', worker: worker.worker.id, modelHash: worker.modelHash, concurrency, lockMs, queue, gc },
    `worker ${worker.worker.id} ready: model ${worker.modelHash}, concurrency ${concurrency}${lockMs === LOCK_MS ? '' : `, job lock ${lockMs} ms`}, queue ${queue}; Ctrl-C to stop${
      gc === 'concurrent' ? `\n  tip: \`${command}\` uses about a third less CPU per job` : ''
    }`,
  )
  setInterruptExitCode(0)
  onInterrupt(async () => {
    await worker.close()
    await metrics?.close()
    done({ worker: worker.worker.id, modelHash: worker.modelHash, queue, ...worker.counts })
  })
  const stop = await worker.stopped
  if (stop.reason === 'refused') {
    await metrics?.close()
    setInterruptExitCode(130)
    throw refusalError(stop.refusal, modelPath)
  }
  // Closed by the interrupt: src/cli.ts exits once the clean-ups are done.
  await new Promise(() => {})
}

/** The worker's metrics, served on 127.0.0.1:port (0: a free one). */
async function openWorkerMetrics(port: number) {
  const { createWorkerMetrics } = await import('./workerMetrics.js')
  const { startMetricsServer } = await import('../util/metricsServer.js')
  const { version } = await import('../version.js')
  const metrics = await createWorkerMetrics({ version, node: process.version })
  const server = await startMetricsServer(metrics, port)
  return { job: metrics.job, connection: metrics.connection, port: server.port, close: server.close }
}

function describeJob(event: WorkerJobEvent): string {
  const extra = [`attempt ${event.attempt}`]
  if (event.artifactBytes !== undefined) extra.push(`${event.artifactBytes} bytes`)
  // The job id and a failure's text come from Redis and the job's input: one escaped line each.
  const reason = event.reason ? `: ${escapeControl(event.reason)}` : ''
  return `job ${escapeControl(event.jobId)} ${event.status} in ${event.ms} ms (${extra.join(', ')})${reason}`
}
