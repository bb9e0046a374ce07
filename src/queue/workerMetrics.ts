/**
 * `imo worker --metrics-port P`: a worker's own Prometheus metrics and health check on 127.0.0.1 (the
 * same server as serve's: src/util/metricsServer.ts). Every name starts with `imo_worker_`. Counted
 * as jobs end (never at scrape time); /healthz fails while the worker's Redis connection is lost.
 */
import type { Counter, Histogram, Registry } from 'prom-client'
import type { WorkerJobEvent } from './startInferenceWorker.js'

export interface WorkerMetrics {
  registry: Registry
  jobs: Counter<'status'>
  jobSeconds: Histogram
  redisErrors: Counter
  /** Counts one finished job. */
  job(event: WorkerJobEvent): void
  /** Follows the connection lines of the worker (lost, back). */
  connection(message: string): void
  health(): { ok: boolean; problems: string[] }
}

/**
 * Creates the metrics (a fresh registry).
 * @param build - the labels of `imo_worker_build_info` (version, node).
 * @example
 * const metrics = await createWorkerMetrics({ version: '0.1.0' })
 * metrics.job({ jobId: 'request-7', requestId: '7', status: 'completed', attempt: 1, ms: 40 })
 */
export async function createWorkerMetrics(build: Record<string, string> = {}): Promise<WorkerMetrics> {
  const { openPromRegistry } = await import('../util/metricsServer.js')
  const { client, registry } = await openPromRegistry('imo_worker_', build)
  let lostSince: number | undefined
  const jobs = new client.Counter({
    name: 'imo_worker_jobs_total',
    help: 'jobs this worker finished, by status (completed, retrying, failed, refused)',
    labelNames: ['status'],
    registers: [registry],
  })
  // Each status shows from the start (0), so a rate over it has a series to work on.
  for (const status of ['completed', 'retrying', 'failed', 'refused']) jobs.inc({ status }, 0)
  const metrics: WorkerMetrics = {
    registry,
    jobs,
    jobSeconds: new client.Histogram({
      name: 'imo_worker_job_seconds',
      help: 'run time of a job in this worker (its model run and packing the result)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    redisErrors: new client.Counter({
      name: 'imo_worker_redis_errors_total',
      help: 'times the worker lost its Redis connection',
      registers: [registry],
    }),
    job(event) {
      jobs.inc({ status: event.status })
      metrics.jobSeconds.observe(event.ms / 1000)
    },
    connection(message) {
      if (/lost Redis/.test(message)) {
        metrics.redisErrors.inc()
        lostSince ??= performance.now()
      } else if (/Redis is back/.test(message)) lostSince = undefined
    },
    health() {
      if (lostSince === undefined) return { ok: true, problems: [] }
      return { ok: false, problems: [`redis: connection lost ${Math.round((performance.now() - lostSince) / 1000)} s ago`] }
    },
  }
  new client.Gauge({
    name: 'imo_worker_healthy',
    help: 'whether /healthz answers 200 (1) or 503 (0)',
    registers: [registry],
    collect() {
      this.set(metrics.health().ok ? 1 : 0)
    },
  })
  return metrics
}
