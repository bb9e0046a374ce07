/**
 * The queue-backed InferenceSource of `imo serve --queue redis://HOST:PORT/DB`: each request becomes
 * one BullMQ job (job id = request id, so an event seen twice is one job), `imo worker` processes on
 * any machine run it, and the result comes back through openInferenceQueue's collector, once.
 *
 * Trust: a worker holds no key, and its result is untrusted input. serve signs only an inference it
 * built itself (checkWorkerResult.ts): with the deployment's model loaded here, it fixes the runtime
 * and generation settings, encodes the inputs from the request's prompt as read from the chain,
 * decodes the artifact from the worker's output tensors, and recomputes every hash and the commitment;
 * a record that differs in anything is refused. That leaves one claim unchecked: that the outputs are
 * what the model computes from those inputs. serve re-executes a share of the results (`auditRate`,
 * drawn per result after it arrived: auditSampler.ts) and every result of a model it cannot re-derive
 * (a pipeline with generate()).
 *
 * A refused result (a failed check, an audit that did not reproduce it, a quarantined worker, outputs
 * that cannot be read) is never signed: serve runs that request itself, so it is still served
 * correctly. A result that could only come from a lying worker quarantines the worker's names
 * (quarantine.ts: self-declared, so this saves work but is not what protects the signature); after
 * an audit mismatch every result is re-executed for an hour, whoever sends it.
 *
 * Many jobs are in flight at once (capacity); results that arrive while nobody waits (a previous
 * run's, or a failed job retried by the operator) are held for the next infer() of that request.
 * serve's own runs (audits and refused results) go one at a time, in this process.
 */
import type { Hex } from 'viem'
import type { AigcDataMode } from '../inference/erc7007.js'
import type { InferenceResult } from '../inference/runInference.js'
import type { InferenceQueue, InferenceOutcome as QueueOutcome, WorkerNames } from '../queue/openInferenceQueue.js'
import type { QuarantineEntry } from '../queue/quarantine.js'
import type { Bytes32 } from '../tensor/encodeTensors.js'
import { type InferenceJob, type InferenceSource, ParkedInferenceError, requestOutDir } from './inferenceSource.js'
import type { ServeEvent } from './runServe.js'
import type { ServeMetrics } from './serveMetrics.js'

export interface QueueInferenceOptions {
  /** `redis://HOST:PORT/DB`. */
  url: string
  /** The deployment's model hash: jobs carry it, results must be made with it. */
  modelHash: Hex
  /** The deployment's model (its hash must be modelHash): serve checks results against it and re-runs some. */
  modelPath: string
  /** Folder whose per-request subfolders receive each result's files (requestOutDir). */
  outRoot: string
  aigcDataMode?: AigcDataMode
  /** The folder shared with the workers' `--artifact-dir` (outputs over 1 MiB). */
  artifactDir?: string
  /** The share of worker results serve re-executes before signing (default DEFAULT_AUDIT_RATE). */
  auditRate?: number
  /** How long every result is audited after a mismatch (default ALARM_MS; tests shorten it). */
  alarmMs?: number
  /** Jobs in flight at once (default 1000: the queue is the buffer, the workers set the pace). */
  capacity?: number
  /** How often the queue's completed and failed sets are swept (default 5000 ms). */
  sweepIntervalMs?: number
  /** serve's log: refusals, refused results, audits, quarantines, Redis lost and back. */
  log(event: ServeEvent): void
  metrics?: ServeMetrics
}

/** Results nobody waited for are kept this long (then a new infer() runs the job again). */
const HELD_MS = 15 * 60_000

type Finished = Exclude<QueueOutcome, { kind: 'refused' }>

/**
 * Checks Redis (reachable, Redis, noeviction), loads the model, and opens the queue as serve's
 * inference source.
 * @param options - URL, the deployment's model hash and model, output folder, audit rate, serve's log.
 * @returns the source; serve closes it when it stops.
 * @throws RpcError (exit 6) / UsageError (exit 2) when the Redis cannot be used or the model is not
 *   the deployment's, before anything starts.
 * @example
 * import { createQueueInference } from './serve/queueInference.js'
 * const source = await createQueueInference({ url: 'redis://10.0.0.5:6379/0', modelHash: deployment.modelHash, modelPath: 'models/cppn', outRoot: 'out', log })
 * const { item } = await source.infer({ requestId: 7n, prompt: 'a red spiral', promptHash, recipient })
 */
export async function createQueueInference(options: QueueInferenceOptions): Promise<InferenceSource> {
  const { openInferenceQueue } = await import('../queue/openInferenceQueue.js')
  const { createResultChecker, recordDifference } = await import('../queue/checkWorkerResult.js')
  const { createAuditSampler, DEFAULT_AUDIT_RATE } = await import('../queue/auditSampler.js')
  const { quarantineList } = await import('../queue/quarantine.js')
  const { WorkerResultError } = await import('../queue/workerResult.js')
  const { compareTensorSets } = await import('../inference/compareTensors.js')
  const { decodeTensors } = await import('../tensor/decodeTensors.js')
  const { loadModel } = await import('../inference/loadModel.js')
  const { runInference } = await import('../inference/runInference.js')
  const { toMintItem } = await import('../mint/inferAndMint.js')
  const { UsageError } = await import('../errors.js')
  const { keccak256 } = await import('viem')
  const aigcDataMode = options.aigcDataMode ?? 'digest'
  const { log, metrics } = options

  const model = await loadModel(options.modelPath)
  if (model.modelHash.toLowerCase() !== options.modelHash.toLowerCase())
    throw new UsageError(
      `the model ${options.modelPath} hashes to ${model.modelHash}, but the collection is bound to ${options.modelHash}`,
      { hint: "serve --queue checks the workers' results against the model: pass the deployment's model with --model PATH" },
    )
  const checker = await createResultChecker(model, { aigcDataMode })
  const sampler = createAuditSampler(options.auditRate ?? DEFAULT_AUDIT_RATE, {
    ...(options.alarmMs !== undefined ? { alarmMs: options.alarmMs } : {}),
  })
  const showRate = () => metrics?.auditRate.set(checker.mode === 'rerun' || sampler.alarmUntil() ? 1 : sampler.rate)
  showRate()

  const queue: InferenceQueue = await openInferenceQueue({
    url: options.url,
    modelHash: options.modelHash as Bytes32,
    ...(options.artifactDir ? { artifactDir: options.artifactDir } : {}),
    ...(options.sweepIntervalMs ? { sweepIntervalMs: options.sweepIntervalMs } : {}),
    onLog: (message) => log({ event: 'queue', message }),
  })
  const quarantined = quarantineList(await queue.listQuarantined().catch(() => []))
  for (const entry of quarantined.entries()) metrics?.workerQuarantined.set({ worker: entry.worker }, 1)
  if (checker.mode === 'rerun')
    log({
      event: 'warning',
      message: `the model's pipeline makes its output in a loop of its own (generate()): serve can only check a worker's result by re-running it, so it re-runs every one (workers add no throughput for this model)`,
    })
  else if (sampler.rate === 0)
    log({
      event: 'warning',
      message:
        '--audit-rate 0: worker outputs are checked for consistency but never re-executed; a worker can have outputs of its own choosing signed',
    })

  // serve's own runs, one at a time (the model's session runs with one thread, as committed).
  let localTail: Promise<unknown> = Promise.resolve()
  const runLocally = (prompt: string): Promise<InferenceResult> => {
    const run = localTail.then(() => runInference({ modelPath: model, prompt, aigcDataMode }))
    localTail = run.catch(() => {})
    return run
  }

  const quarantine = async (names: WorkerNames, requestId: string, reason: string) => {
    if (quarantined.find(names)) return
    const entry: QuarantineEntry = { ...names, requestId, reason, at: Date.now() }
    quarantined.add(entry)
    metrics?.workerQuarantined.set({ worker: names.worker }, 1)
    if (names.processedBy && names.processedBy !== names.worker) metrics?.workerQuarantined.set({ worker: names.processedBy }, 1)
    log({
      event: 'quarantined',
      requestId,
      worker: names.worker,
      ...(names.processedBy ? { processedBy: names.processedBy } : {}),
      message: `worker ${names.worker} quarantined: its results are refused from now on (${reason})`,
    })
    await queue.quarantine(entry).catch((error: unknown) => {
      log({ event: 'queue', message: `could not record the quarantine of ${names.worker} in Redis: ${(error as Error).message}` })
    })
  }

  /** A result serve does not use: said, counted, its worker quarantined when it lied. */
  const refuse = async (
    requestId: string,
    names: WorkerNames,
    reason: string,
    kind: 'forged' | 'unavailable' | 'quarantined',
  ) => {
    metrics?.workerResultsRefused.inc({ reason: kind })
    log({
      event: 'rejected',
      requestId,
      worker: names.worker,
      reason: kind,
      message: `request ${requestId}: the result of worker ${names.worker} was refused, nothing signed: ${reason}; serve runs the request itself`,
    })
    if (kind === 'forged') await quarantine(names, requestId, reason)
  }

  interface Waiter {
    resolve(outcome: Finished): void
    reject(error: Error): void
  }
  const waiters = new Map<string, Waiter>()
  const held = new Map<string, { outcome: Finished; at: number }>()
  let availableListener: ((requestId: bigint) => void) | undefined

  queue.collect(async (outcome) => {
    if (outcome.kind === 'refused') {
      const { refusal } = outcome
      log({
        event: 'refused',
        message: `worker ${refusal.worker.id} refuses work: its model hashes to ${refusal.workerModelHash}, not the deployment's ${refusal.expectedModelHash}${refusal.jobId ? ` (job ${refusal.jobId} put back)` : ''}`,
        worker: refusal.worker.id,
        workerModelHash: refusal.workerModelHash,
      })
      return
    }
    const waiter = waiters.get(outcome.requestId)
    if (outcome.kind === 'failed' && outcome.where === 'failed-set') {
      if (!waiter) {
        log({
          event: 'failed',
          requestId: outcome.requestId,
          message: `request ${outcome.requestId}: its job failed: ${outcome.reason}`,
        })
        return
      }
      waiters.delete(outcome.requestId)
      waiter.reject(
        new ParkedInferenceError(
          `its job failed ${outcome.attemptsMade} time${outcome.attemptsMade === 1 ? '' : 's'} (${outcome.reason}); it waits in the failed set: imo requests retry ${outcome.requestId} --queue URL runs it again`,
        ),
      )
      return
    }
    if (waiter) {
      waiters.delete(outcome.requestId)
      waiter.resolve(outcome)
      return
    }
    if (outcome.kind === 'failed') {
      // A result of an earlier run that could not be read: nobody asks for it now (serve asks again,
      // and re-queues, when it needs it); a hostile one still costs its worker.
      await refuse(
        outcome.requestId,
        outcome.names ?? { worker: 'unnamed' },
        outcome.reason,
        outcome.forged ? 'forged' : 'unavailable',
      )
      return
    }
    const now = Date.now()
    for (const [id, entry] of held) if (now - entry.at > HELD_MS) held.delete(id)
    held.set(outcome.requestId, { outcome, at: now })
    availableListener?.(BigInt(outcome.requestId))
  })

  /**
   * The inference serve signs for a finished job: its own re-derivation of the worker's result,
   * audited at the rate; or, for a result it refused, its own run.
   */
  const decide = async (job: InferenceJob, outcome: Finished): Promise<InferenceResult> => {
    const id = String(job.requestId)
    showRate()
    if (outcome.kind === 'failed') {
      await refuse(id, outcome.names ?? { worker: 'unnamed' }, outcome.reason, outcome.forged ? 'forged' : 'unavailable')
      return runLocally(job.prompt)
    }
    const { received, names } = outcome
    const known = quarantined.find({ worker: received.worker.id, processedBy: names.processedBy })
    if (known) {
      await refuse(id, names, `worker ${known.worker} is quarantined since ${new Date(known.at).toISOString()}`, 'quarantined')
      return runLocally(job.prompt)
    }
    let own: InferenceResult | undefined
    try {
      // An imo worker gives BullMQ the name it puts in its result.
      if (names.processedBy !== undefined && names.processedBy !== received.worker.id)
        throw new WorkerResultError(`it names itself ${received.worker.id} in its result but ${names.processedBy} to BullMQ`, {
          forged: true,
        })
      own = await checker.check({ prompt: job.prompt }, received)
    } catch (error) {
      if (!(error instanceof WorkerResultError)) throw error
      await refuse(id, names, error.message, error.forged ? 'forged' : 'unavailable')
      return runLocally(job.prompt)
    }
    // Drawn now, after the result arrived: whoever sent it, it cannot know. A model serve cannot
    // re-derive (own undefined) is re-executed every time.
    if (own !== undefined && !sampler.shouldAudit()) return own
    const local = await runLocally(job.prompt)
    const difference = recordDifference(local.record, received.record)
    metrics?.audits.inc({ result: difference ? 'mismatch' : 'match' })
    if (!difference) {
      log({
        event: 'audit',
        requestId: id,
        worker: names.worker,
        result: 'match',
        message: `request ${id}: serve re-executed the result of worker ${names.worker}: it matches`,
      })
      return own ?? local
    }
    let drift = ''
    try {
      const { maxAbsDiff } = compareTensorSets(local.outputs, decodeTensors(received.outputEncoding, 'its outputs'))
      if (maxAbsDiff !== undefined) drift = `; largest output difference ${maxAbsDiff}`
    } catch {
      // outputs of another shape: the hash difference says enough
    }
    sampler.alarm()
    showRate()
    log({
      event: 'audit',
      requestId: id,
      worker: names.worker,
      result: 'mismatch',
      message: `request ${id}: the result of worker ${names.worker} does not match serve's re-execution (${difference}${drift}); serve signs its own run and re-executes every result until ${new Date(sampler.alarmUntil()).toISOString()}`,
    })
    metrics?.workerResultsRefused.inc({ reason: 'forged' })
    await quarantine(names, id, `serve re-executed it: ${difference}${drift}`)
    return local
  }

  /** The MintItem of the inference serve signs, its files written in the request's own folder now. */
  const toOutcome = async (job: InferenceJob, result: InferenceResult, inferenceMs: number) => {
    if (keccak256(result.promptBytes) !== job.promptHash.toLowerCase())
      throw new Error(`request ${job.requestId}: its prompt bytes do not hash to the request's promptHash`)
    // Written now, as the local source does: the item waiting to be sent then holds the record and
    // the artifact only, not the tensors.
    const { writeInference, ...item } = await toMintItem(
      result,
      requestOutDir(options.outRoot, job.requestId, result.record.commitment),
    )
    writeInference?.()
    return { item, inferenceMs }
  }

  return {
    modelHash: options.modelHash,
    capacity: options.capacity ?? 1000,
    onAvailable(listener) {
      availableListener = listener
    },
    async infer(job) {
      const started = performance.now()
      const id = String(job.requestId)
      const ready = held.get(id)
      if (ready) {
        held.delete(id)
        return toOutcome(job, await decide(job, ready.outcome), 0)
      }
      if (waiters.has(id)) throw new Error(`request ${id} is being inferred already`)
      const result = new Promise<Finished>((resolve, reject) => {
        waiters.set(id, { resolve, reject })
      })
      try {
        // `again`: serve asks only when it needs a result, so one collected by an earlier run (that
        // stopped before fulfilling) is run again; a job still queued, running or in the failed set is
        // not added twice.
        const added = await queue.enqueueInference({
          requestId: job.requestId,
          prompt: job.prompt,
          recipient: job.recipient ?? `0x${'00'.repeat(20)}`,
          aigcDataMode,
          again: true,
        })
        if (added.status === 'exists' && (await queue.stateOf(job.requestId)) === 'failed') {
          const failed = (await queue.listFailed()).find((f) => f.requestId === id)
          waiters
            .get(id)
            ?.reject(
              new ParkedInferenceError(
                `its job failed ${failed?.attemptsMade ?? '?'} times (${failed?.reason ?? 'see imo requests --open --queue URL'}); it waits in the failed set: imo requests retry ${id} --queue URL runs it again`,
              ),
            )
          waiters.delete(id)
        }
      } catch (error) {
        waiters.delete(id)
        throw error
      }
      const outcome = await result
      const decided = await decide(job, outcome)
      return toOutcome(job, decided, performance.now() - started)
    },
    async close() {
      for (const waiter of waiters.values()) waiter.reject(new Error('serve stopped'))
      waiters.clear()
      await queue.close()
    },
  }
}
