/**
 * `imo serve --metrics-port P`: Prometheus metrics (prom-client, its own registry) and a health check,
 * on 127.0.0.1 only. `/metrics`: requests seen / fulfilled / refunded / skipped / failed, inference and
 * end-to-end (request block to fulfilment receipt) latency histograms, the signer's balance, plus
 * prom-client's process metrics (resident memory, CPU, event-loop lag). `/healthz`: 200 while the
 * follow loop has completed a round recently, 503 otherwise.
 */
import type { Server } from 'node:http'
import type { Counter, Gauge, Histogram, Registry } from 'prom-client'

export interface ServeMetrics {
  registry: Registry
  seen: Counter
  fulfilled: Counter
  refunded: Counter
  skipped: Counter<'reason'>
  failed: Counter
  inferenceSeconds: Histogram
  endToEndSeconds: Histogram
  signerBalance: Gauge
  /** `--queue`: worker results serve did not use, by reason (forged, unavailable, quarantined). */
  workerResultsRefused: Counter<'reason'>
  /** `--queue`: re-executions of worker results, by result (match, mismatch). */
  audits: Counter<'result'>
  /** `--queue`: 1 per quarantined worker name. */
  workerQuarantined: Gauge<'worker'>
  /** `--queue`: the share of results serve re-executes now (1 during an alarm). */
  auditRate: Gauge
  /** Marks a completed follow round (for /healthz). */
  alive(): void
}

/**
 * Creates the metrics (a fresh registry, so several serve loops in one process do not collide).
 * @param readBalance - reads the signer's balance in wei when /metrics is scraped.
 * @example
 * import { createServeMetrics } from './serve/serveMetrics.js'
 * const metrics = await createServeMetrics(() => client.getBalance({ address }))
 * metrics.seen.inc()
 */
export async function createServeMetrics(readBalance?: () => Promise<bigint>): Promise<ServeMetrics> {
  // prom-client is CommonJS: bundled as ESM its exports sit on `default`.
  const loaded = (await import('prom-client')) as typeof import('prom-client') & { default?: typeof import('prom-client') }
  const client = loaded.default ?? loaded
  const registry = new client.Registry()
  client.collectDefaultMetrics({ register: registry, prefix: 'imo_serve_' })
  const counter = (name: string, help: string) => new client.Counter({ name, help, registers: [registry] })
  const latency = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 120]
  let lastRound = 0
  const metrics: ServeMetrics = {
    registry,
    seen: counter('imo_serve_requests_seen_total', 'Requested events seen (after the confirmations)'),
    fulfilled: counter('imo_serve_requests_fulfilled_total', 'requests this serve fulfilled'),
    refunded: counter('imo_serve_requests_refunded_total', 'requests found refunded instead of fulfilled'),
    skipped: new client.Counter({
      name: 'imo_serve_requests_skipped_total',
      help: 'requests skipped (expired, prompt minted, gone in a reorg, fulfilled by someone else, not text)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    failed: counter('imo_serve_requests_failed_total', 'requests whose fulfilment failed (simulation or on-chain revert)'),
    inferenceSeconds: new client.Histogram({
      name: 'imo_serve_inference_seconds',
      help: 'model run time per request',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    endToEndSeconds: new client.Histogram({
      name: 'imo_serve_end_to_end_seconds',
      help: "from the request's block timestamp to the fulfilment's receipt",
      buckets: latency,
      registers: [registry],
    }),
    signerBalance: new client.Gauge({
      name: 'imo_serve_signer_balance_wei',
      help: "the signer's native balance in wei (read when scraped)",
      registers: [registry],
      async collect() {
        if (!readBalance) return
        try {
          this.set(Number(await readBalance()))
        } catch {
          // the last value stays; the RPC error shows in the log
        }
      },
    }),
    workerResultsRefused: new client.Counter({
      name: 'imo_serve_worker_results_refused_total',
      help: '--queue: worker results serve refused and ran itself (forged: a check failed; unavailable: outputs missing; quarantined: from a quarantined worker)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    audits: new client.Counter({
      name: 'imo_serve_audits_total',
      help: '--queue: worker results re-executed by serve before signing (match or mismatch)',
      labelNames: ['result'],
      registers: [registry],
    }),
    workerQuarantined: new client.Gauge({
      name: 'imo_serve_worker_quarantined',
      help: '--queue: 1 for each worker name whose results serve refuses (a result of it was found wrong)',
      labelNames: ['worker'],
      registers: [registry],
    }),
    auditRate: new client.Gauge({
      name: 'imo_serve_audit_rate',
      help: '--queue: the share of worker results serve re-executes now (1 after a mismatch, for an hour)',
      registers: [registry],
    }),
    alive: () => {
      lastRound = Date.now()
    },
  }
  Object.defineProperty(metrics, 'lastRound', { get: () => lastRound })
  return metrics
}

/**
 * Serves /metrics and /healthz on 127.0.0.1:port.
 * @param metrics - the serve metrics.
 * @param port - TCP port (0: a free one).
 * @param staleMs - /healthz answers 503 when the last round is older than this.
 * @returns the server and the port it listens on.
 * @example
 * const { port, close } = await startMetricsServer(metrics, 9464)
 */
export async function startMetricsServer(
  metrics: ServeMetrics,
  port: number,
  staleMs = 30_000,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const { createServer } = await import('node:http')
  const { UsageError } = await import('../errors.js')
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      metrics.registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType })
          res.end(text)
        })
        .catch((error: unknown) => {
          res.writeHead(500).end(String((error as Error)?.message))
        })
      return
    }
    if (req.url === '/healthz') {
      const last = (metrics as unknown as { lastRound: number }).lastRound
      const ok = last > 0 && Date.now() - last < staleMs
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'stale\n')
      return
    }
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new UsageError(`--metrics-port ${port} is in use on 127.0.0.1; choose another port`)
          : error,
      ),
    )
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  const actual = typeof address === 'object' && address ? address.port : port
  return {
    server,
    port: actual,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
