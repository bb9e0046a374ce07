/**
 * The "check" stage for results made elsewhere (a queue worker today): what serve signs for a worker's
 * result. A worker holds no key and its result is untrusted input, so serve signs only an inference it
 * built itself (src/queue/checkWorkerResult.ts): with the deployment's model loaded here, it fixes the
 * runtime and generation settings, encodes the inputs from the request's prompt as read from the chain,
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
 * an audit mismatch every result is re-executed for an hour, whoever sends it. serve's own runs
 * (audits and refused results) go one at a time, in this process.
 *
 * The last check before signing, whatever the source, is checkResult.ts (serveNode runs it).
 */
import type { Hex } from 'viem'
import type { GenerationFlags } from '../generate/generationSettings.js'
import type { AigcDataMode } from '../inference/erc7007.js'
import type { LoadedModel } from '../inference/loadModel.js'
import type { InferenceResult } from '../inference/runInference.js'
import type { InferenceOutcome as QueueOutcome, WorkerNames } from '../queue/openInferenceQueue.js'
import type { QuarantineEntry } from '../queue/quarantine.js'
import type { ServeEvent } from './serveEvent.js'
import type { ServeMetrics } from './serveMetrics.js'

/** A worker's answer to a job: its result, or why it could not be read. */
export type FinishedJob = Exclude<QueueOutcome, { kind: 'refused' }>

/** Why serve did not use a worker's result (the label of `imo_serve_worker_results_refused_total`). */
export type RefusalKind = 'forged' | 'unavailable' | 'quarantined'

export interface QueuedResultCheckOptions {
  /** The deployment's model (loadDeploymentModel): serve checks results against it and re-runs some. */
  model: LoadedModel
  aigcDataMode: AigcDataMode
  /** The share of worker results serve re-executes before signing (default DEFAULT_AUDIT_RATE). */
  auditRate?: number
  /** How long every result is audited after a mismatch (default ALARM_MS; tests shorten it). */
  alarmMs?: number
  /** Where quarantines are kept (Redis, shared with `imo requests --queue` and `imo status`). */
  store: { listQuarantined(): Promise<QuarantineEntry[]>; quarantine(entry: QuarantineEntry): Promise<void> }
  log(event: ServeEvent): void
  metrics?: ServeMetrics
}

export interface QueuedResultCheck {
  /** The inference serve signs for a finished job: the worker's result re-derived (and maybe audited), or serve's own run. */
  decide(job: { requestId: bigint; prompt: string; generation?: GenerationFlags }, outcome: FinishedJob): Promise<InferenceResult>
  /** Says, counts and (when it lied) quarantines a result nobody asked for any more. */
  refuse(requestId: string, names: WorkerNames, reason: string, kind: RefusalKind): Promise<void>
}

/**
 * Loads the model serve checks results against (before Redis is opened: a wrong model fails first).
 * @throws UsageError (exit 2) when the model is not the deployment's.
 * @example
 * const model = await loadDeploymentModel('models/cppn', deployment.modelHash)
 */
export async function loadDeploymentModel(modelPath: string, modelHash: Hex): Promise<LoadedModel> {
  const { loadModel } = await import('../inference/loadModel.js')
  const { UsageError } = await import('../errors.js')
  const model = await loadModel(modelPath)
  if (model.modelHash.toLowerCase() !== modelHash.toLowerCase())
    throw new UsageError(`the model ${modelPath} hashes to ${model.modelHash}, but the collection is bound to ${modelHash}`, {
      hint: "serve --queue checks the workers' results against the model: pass the deployment's model with --model PATH",
    })
  return model
}

/**
 * Reads the quarantine list and returns the check.
 * @example
 * import { createQueuedResultCheck, loadDeploymentModel } from './serve/checkQueuedResult.js'
 * const check = await createQueuedResultCheck({ model, aigcDataMode: 'digest', store: queue, log })
 * const result = await check.decide(job, outcome) // never a result serve found wrong
 */
export async function createQueuedResultCheck(options: QueuedResultCheckOptions): Promise<QueuedResultCheck> {
  const { createResultChecker } = await import('../queue/checkWorkerResult.js')
  const { createAuditSampler, DEFAULT_AUDIT_RATE } = await import('../queue/auditSampler.js')
  const { quarantineList } = await import('../queue/quarantine.js')
  const { runInference } = await import('../inference/runInference.js')
  const { log, metrics, aigcDataMode, model } = options
  const checker = await createResultChecker(model, { aigcDataMode })
  const sampler = createAuditSampler(options.auditRate ?? DEFAULT_AUDIT_RATE, {
    ...(options.alarmMs !== undefined ? { alarmMs: options.alarmMs } : {}),
  })
  const showRate = () => metrics?.auditRate.set(checker.mode === 'rerun' || sampler.alarmUntil() ? 1 : sampler.rate)
  showRate()
  const quarantined = quarantineList(await options.store.listQuarantined().catch(() => []))
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
  const runLocally = (prompt: string, generation?: GenerationFlags): Promise<InferenceResult> => {
    const run = localTail.then(() =>
      runInference({ modelPath: model, prompt, aigcDataMode, ...(generation ? { generation } : {}) }),
    )
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
    await options.store.quarantine(entry).catch((error: unknown) => {
      log({ event: 'queue', message: `could not record the quarantine of ${names.worker} in Redis: ${(error as Error).message}` })
    })
  }

  const refuse: QueuedResultCheck['refuse'] = async (requestId, names, reason, kind) => {
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

  const audit = auditWith({ runLocally, sampler, showRate, quarantine, log, ...(metrics ? { metrics } : {}) })

  return {
    refuse,
    async decide(job, outcome) {
      const { WorkerResultError } = await import('../queue/workerResult.js')
      const id = String(job.requestId)
      showRate()
      if (outcome.kind === 'failed') {
        await refuse(id, outcome.names ?? { worker: 'unnamed' }, outcome.reason, outcome.forged ? 'forged' : 'unavailable')
        return runLocally(job.prompt, job.generation)
      }
      const { received, names } = outcome
      const known = quarantined.find({ worker: received.worker.id, processedBy: names.processedBy })
      if (known) {
        await refuse(id, names, `worker ${known.worker} is quarantined since ${new Date(known.at).toISOString()}`, 'quarantined')
        return runLocally(job.prompt, job.generation)
      }
      let own: InferenceResult | undefined
      try {
        // An imo worker gives BullMQ the name it puts in its result.
        if (names.processedBy !== undefined && names.processedBy !== received.worker.id)
          throw new WorkerResultError(`it names itself ${received.worker.id} in its result but ${names.processedBy} to BullMQ`, {
            forged: true,
          })
        own = await checker.check(job, received)
      } catch (error) {
        if (!(error instanceof WorkerResultError)) throw error
        await refuse(id, names, error.message, error.forged ? 'forged' : 'unavailable')
        return runLocally(job.prompt, job.generation)
      }
      // Drawn now, after the result arrived: whoever sent it, it cannot know. A model serve cannot
      // re-derive (own undefined) is re-executed every time.
      if (own !== undefined && !sampler.shouldAudit()) return own
      return audit(id, job, outcome, own)
    },
  }
}

/** The re-execution of one worker result: serve's own run when it differs (the worker quarantined, every result audited for a while). */
function auditWith(deps: {
  runLocally(prompt: string, generation?: GenerationFlags): Promise<InferenceResult>
  sampler: import('../queue/auditSampler.js').AuditSampler
  showRate(): void
  quarantine(names: WorkerNames, requestId: string, reason: string): Promise<void>
  log(event: ServeEvent): void
  metrics?: ServeMetrics
}) {
  const { log, metrics, sampler } = deps
  return async (
    id: string,
    job: { prompt: string; generation?: GenerationFlags },
    outcome: FinishedJob & { kind: 'completed' },
    own: InferenceResult | undefined,
  ): Promise<InferenceResult> => {
    const { recordDifference } = await import('../queue/checkWorkerResult.js')
    const { compareTensorSets } = await import('../inference/compareTensors.js')
    const { decodeTensors } = await import('../tensor/decodeTensors.js')
    const { received, names } = outcome
    const local = await deps.runLocally(job.prompt, job.generation)
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
    deps.showRate()
    log({
      event: 'audit',
      requestId: id,
      worker: names.worker,
      result: 'mismatch',
      message: `request ${id}: the result of worker ${names.worker} does not match serve's re-execution (${difference}${drift}); serve signs its own run and re-executes every result until ${new Date(sampler.alarmUntil()).toISOString()}`,
    })
    metrics?.workerResultsRefused.inc({ reason: 'forged' })
    await deps.quarantine(names, id, `serve re-executed it: ${difference}${drift}`)
    return local
  }
}
