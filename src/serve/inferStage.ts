/**
 * The "infer" stage: runs inference jobs on an InferenceSource (in this process, or BullMQ workers
 * behind `--queue`), up to the source's capacity at once, and hands each outcome to its consumer. It
 * knows work by a string key, not by an on-chain request id, so any consumer can use it: serve's paid
 * requests (key = the request key) today, off-chain paid calls tomorrow. The source's job still carries
 * a request id (the queue's job id derives from it).
 *
 * Results wait for their consumer at most one batch ahead (`room`): a result waiting to be sent holds
 * its whole inference; unbounded, a burst of requests grew serve's memory with the backlog.
 * A job that used up its attempts in the queue is parked (ParkedInferenceError): kept until the
 * operator retries it (`imo requests retry`), when the source says its result is available.
 */
import { type InferenceJob, type InferenceOutcome, type InferenceSource, ParkedInferenceError } from './inferenceSource.js'

/** One piece of work for the model. */
export interface InferWork {
  key: string
  job: InferenceJob
}

export interface InferHandlers {
  /** The model's output for `key`. */
  done(key: string, outcome: InferenceOutcome): void
  /** Inference failed; `parked`: the job waits in the queue's failed set (kept, see onAvailable). */
  failed(key: string, reason: string, parked: boolean): void
  /** A parked job's result became available (the operator retried it): its consumer asks again. */
  available(key: string): void
  /** A bug (not an inference failure): stops serve. */
  fatal(error: unknown): void
}

export interface InferStage {
  enqueue(work: InferWork): void
  /** Forgets `key`: dropped from the queue; a running job's result is ignored; a parked one is released. */
  cancel(key: string): void
  /** Whether `key` is queued, running or parked here. */
  has(key: string): boolean
  /** Starts queued work while there is room; true when any is running. */
  pump(): boolean
  readonly running: number
  readonly queued: number
  /** Keys parked in the queue's failed set. */
  parked(): string[]
  /** Keys queued or running. */
  active(): IterableIterator<string>
  /** Settles when what runs now has ended. */
  idle(): Promise<unknown>
}

/**
 * Creates the stage over a source.
 * @param source - where the model runs.
 * @param options - `room()`: whether another result may be started (the consumer's backlog); `stopped()`: serve is stopping.
 * @param handlers - where outcomes go.
 * @example
 * const infer = createInferStage(source, { room: () => ready.size < 64, stopped: () => signal.aborted }, handlers)
 * infer.enqueue({ key: request.key, job: { requestId: 7n, prompt, promptHash, recipient } })
 * infer.pump()
 */
export function createInferStage(
  source: InferenceSource,
  options: { room(): boolean; stopped(): boolean },
  handlers: InferHandlers,
): InferStage {
  const capacity = Math.max(1, source.capacity ?? 1)
  const queue = new Map<string, InferWork>()
  const running = new Map<string, Promise<void>>()
  const parked = new Map<string, InferWork>()
  /** The work each running key stands for: a cancelled and re-enqueued key is not the same run. */
  const current = new Map<string, InferWork>()

  const run = async (work: InferWork): Promise<void> => {
    try {
      const outcome = await source.infer(work.job)
      if (current.get(work.key) !== work) return // cancelled meanwhile
      current.delete(work.key)
      handlers.done(work.key, outcome)
    } catch (error) {
      if (options.stopped() || current.get(work.key) !== work) return
      current.delete(work.key)
      const reason = (error as { shortMessage?: string }).shortMessage ?? (error as Error).message
      if (error instanceof ParkedInferenceError) parked.set(work.key, work)
      handlers.failed(work.key, reason, error instanceof ParkedInferenceError)
    }
  }

  const stage: InferStage = {
    enqueue(work) {
      parked.delete(work.key)
      queue.set(work.key, work)
    },
    cancel(key) {
      queue.delete(key)
      parked.delete(key)
      current.delete(key)
    },
    has: (key) => queue.has(key) || current.has(key) || parked.has(key),
    pump() {
      while (running.size < capacity && options.room() && !options.stopped()) {
        // A key whose earlier (cancelled) run has not ended yet waits for it.
        let work: InferWork | undefined
        for (const queued of queue.values())
          if (!running.has(queued.key)) {
            work = queued
            break
          }
        if (!work) break
        const { key } = work
        queue.delete(key)
        current.set(key, work)
        const promise: Promise<void> = run(work)
          .catch(handlers.fatal)
          .finally(() => {
            running.delete(key)
            // The next one starts now, not at the next round (one inference per round was 3.7 requests/s).
            stage.pump()
          })
        running.set(key, promise)
      }
      return running.size > 0
    },
    get running() {
      return running.size
    },
    get queued() {
      return queue.size
    },
    parked: () => [...parked.keys()],
    active: () => new Set([...queue.keys(), ...current.keys()]).values(),
    idle: () => Promise.allSettled(running.values()),
  }
  source.onAvailable?.((requestId) => {
    for (const [key, work] of parked)
      if (work.job.requestId === requestId) {
        parked.delete(key)
        handlers.available(key)
      }
  })
  return stage
}
