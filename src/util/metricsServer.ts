/**
 * What serve's and a worker's Prometheus endpoints share: a registry of prom-client (its own, with
 * the process metrics under the process's prefix and a `build_info`), and the HTTP server of /metrics
 * and /healthz on 127.0.0.1 only. prom-client is loaded here, lazily (only with --metrics-port).
 */
import type { Server } from 'node:http'
import type { Registry } from 'prom-client'

export type PromClient = typeof import('prom-client')

/**
 * A fresh registry (several in one process do not collide) with the process metrics and
 * `<prefix>build_info`.
 * @param prefix - e.g. `imo_serve_`, `imo_worker_`.
 * @param build - the labels of build_info (version, node).
 * @example
 * const { client, registry } = await openPromRegistry('imo_worker_', { version: '0.1.0' })
 */
export async function openPromRegistry(
  prefix: string,
  build: Record<string, string> = {},
): Promise<{ client: PromClient; registry: Registry }> {
  // prom-client is CommonJS: bundled as ESM its exports sit on `default`.
  const loaded = (await import('prom-client')) as PromClient & { default?: PromClient }
  const client = loaded.default ?? loaded
  const registry = new client.Registry()
  client.collectDefaultMetrics({ register: registry, prefix })
  // Gauges named *_total fail `promtool check metrics` (a _total suffix is for counters).
  for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total'])
    registry.removeSingleMetric(`${prefix}nodejs_${name}`)
  new client.Gauge({
    name: `${prefix}build_info`,
    help: 'the imo build running (value 1)',
    labelNames: Object.keys(build),
    registers: [registry],
    collect() {
      this.reset()
      this.set(build, 1)
    },
  })
  return { client, registry }
}

/**
 * Serves /metrics and /healthz on 127.0.0.1:port. /healthz answers 200 `ok` when every check passes
 * (serve: serveHealth.ts), else 503 with one line per failing check.
 * @param metrics - the registry to serve and the health check (serve's, or a worker's).
 * @param port - TCP port (0: a free one).
 * @returns the server and the port it listens on.
 * @example
 * const { port, close } = await startMetricsServer(metrics, 9464)
 */
export async function startMetricsServer(
  metrics: { registry: Registry; health(): { ok: boolean; problems: string[] } },
  port: number,
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
      const health = metrics.health()
      res
        .writeHead(health.ok ? 200 : 503, { 'content-type': 'text/plain' })
        .end(health.ok ? 'ok\n' : `${health.problems.join('\n')}\n`)
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
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
