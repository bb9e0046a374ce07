/**
 * `imo serve --metrics-port P`: Prometheus metrics (prom-client, its own registry) and a health check,
 * on 127.0.0.1 only. A scrape never waits on the network: counters and histograms are kept as events
 * happen, serve's state (head, processed block, requests per stage) is read from memory, and what only
 * the chain or Redis knows (the signer's balance, the open escrow, the queue) is read in the background
 * (nodeFacts.ts) and served with its age. The README lists every metric.
 */
import type { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { PromClient } from '../util/metricsServer.js'
import type { NodeFacts } from './nodeFacts.js'
import { checkHealth, type HealthReport, type NodeState } from './serveHealth.js'

export { startMetricsServer } from '../util/metricsServer.js'

/** An open request this close to its expiry (chain time) is flagged in `imo_serve_requests_expiring_soon`. */
export const EXPIRY_WARNING_SECONDS = 300

export interface ServeMetrics {
  registry: Registry
  seen: Counter
  fulfilled: Counter
  refunded: Counter
  skipped: Counter<'reason'>
  failed: Counter
  inferenceSeconds: Histogram
  /** From serve seeing a request (its log, after the confirmations) to seeing its fulfilment's receipt. */
  endToEndSeconds: Histogram
  rpcErrors: Counter
  gasUsed: Counter
  gasSpentWei: Counter
  /** What the background reads found (shared with nodeFacts.ts and the health check). */
  facts: NodeFacts
  /** Where a scrape reads serve's state from (runServe binds it). */
  bindState(read: () => NodeState): void
  /** The health of the node now (no network: from the state and the facts). */
  health(): HealthReport
  /** `--queue`: worker results serve did not use, by reason (forged, unavailable, quarantined). */
  workerResultsRefused: Counter<'reason'>
  /** `--queue`: re-executions of worker results, by result (match, mismatch). */
  audits: Counter<'result'>
  /** `--queue`: 1 per quarantined worker name. */
  workerQuarantined: Gauge<'worker'>
  /** `--queue`: the share of results serve re-executes now (1 during an alarm). */
  auditRate: Gauge
}

/**
 * Creates the metrics (a fresh registry, so several serve loops in one process do not collide).
 * @param options - whether inference goes through a queue (its health then counts), the build's versions.
 * @example
 * import { createServeMetrics } from './serve/serveMetrics.js'
 * const metrics = await createServeMetrics({ queue: false, build: { version: '0.1.0' } })
 * metrics.seen.inc()
 */
export async function createServeMetrics(
  options: { queue: boolean; build?: Record<string, string> } = { queue: false },
): Promise<ServeMetrics> {
  const { openPromRegistry } = await import('../util/metricsServer.js')
  const { client, registry } = await openPromRegistry('imo_serve_', options.build)
  const counter = (name: string, help: string) => new client.Counter({ name, help, registers: [registry] })
  let readState: () => NodeState = () => ({
    processed: -1n,
    stages: { check: 0, infer: 0, parked: 0, ready: 0, sending: 0 },
    expiringSoon: 0,
  })
  const facts: NodeFacts = {}
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
    failed: counter('imo_serve_requests_failed_total', 'requests whose inference or fulfilment failed'),
    inferenceSeconds: new client.Histogram({
      name: 'imo_serve_inference_seconds',
      help: 'model run time per request (this process, or the queue round trip)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    endToEndSeconds: new client.Histogram({
      name: 'imo_serve_end_to_end_seconds',
      help: "from serve seeing a request's log (after the confirmations) to seeing its fulfilment's receipt",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    rpcErrors: counter('imo_serve_rpc_errors_total', 'RPC failures serve waited out (each logged as rpc-error)'),
    gasUsed: counter('imo_serve_gas_used_total', "gas used by serve's fulfilments (from their receipts)"),
    gasSpentWei: counter(
      'imo_serve_gas_spent_wei_total',
      "fees paid for serve's fulfilments, wei (gas used x effective gas price)",
    ),
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
    facts,
    bindState(read) {
      readState = read
    },
    health: () => checkHealth(readState(), facts, { queue: options.queue }),
  }
  registerGauges(client, registry, { ...options, facts, health: () => metrics.health(), state: () => readState() })
  return metrics
}

/** The gauges a scrape computes from serve's state and the background facts (never the network). */
function registerGauges(
  client: PromClient,
  registry: Registry,
  options: {
    queue: boolean
    build?: Record<string, string>
    facts: NodeFacts
    health(): HealthReport
    state(): NodeState
  },
): void {
  const { facts } = options
  const readState = options.state
  const metrics = { health: options.health }
  const seconds = (at: number) => Math.max(0, (performance.now() - at) / 1000)
  const gauge = (
    name: string,
    help: string,
    collect: (set: (value: number, labels?: Record<string, string>) => void) => void,
    labelNames: string[] = [],
  ) =>
    new client.Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset()
        collect((value, labels) => (labels ? this.set(labels, value) : this.set(value)))
      },
    })
  gauge('imo_serve_healthy', 'whether /healthz answers 200 (1) or 503 (0)', (set) => set(metrics.health().ok ? 1 : 0))
  gauge('imo_serve_head_block', 'the chain head serve last read', (set) => {
    const head = readState().head
    if (head) set(Number(head.number))
  })
  gauge('imo_serve_head_read_age_seconds', 'seconds since serve last read the head (a frozen RPC makes it grow)', (set) => {
    const head = readState().head
    if (head) set(seconds(head.readAt))
  })
  gauge('imo_serve_processed_block', 'the last block serve scanned for requests (after the confirmations)', (set) =>
    set(Number(readState().processed)),
  )
  gauge('imo_serve_lag_blocks', 'the head minus the last block scanned', (set) => {
    const state = readState()
    if (state.head) set(Number(state.head.number - state.processed))
  })
  gauge(
    'imo_serve_open_requests',
    'requests seen and not settled, per stage (check: read from the chain; infer; parked: its queued job failed; ready; sending)',
    (set) => {
      for (const [stage, count] of Object.entries(readState().stages)) set(count, { stage })
    },
    ['stage'],
  )
  gauge('imo_serve_oldest_open_request_age_seconds', 'seconds since serve saw the oldest open request (0 when none)', (set) => {
    const at = readState().oldestSeenAt
    set(at === undefined ? 0 : seconds(at))
  })
  gauge('imo_serve_requests_expiring_soon', `open requests that expire within ${EXPIRY_WARNING_SECONDS} s (chain time)`, (set) =>
    set(readState().expiringSoon),
  )
  gauge('imo_serve_pending_transactions', 'fulfilments signed and sent, waiting for their receipts', (set) =>
    set(readState().stages.sending),
  )
  const cached = (name: string, help: string, pick: (f: NodeFacts) => { value: bigint | number; at: number } | undefined) => {
    gauge(name, `${help} (read in the background)`, (set) => {
      const fact = pick(facts)
      if (fact) set(Number(fact.value))
    })
    gauge(`${name.replace(/_wei$|_jobs$|_workers$/, '')}_age_seconds`, `seconds since ${name} was read`, (set) => {
      const fact = pick(facts)
      if (fact) set(seconds(fact.at))
    })
  }
  cached('imo_serve_signer_balance_wei', "the signer's native balance, wei", (f) => f.balanceWei)
  cached('imo_serve_open_escrow_wei', "the collection's open escrow (fees of open requests), wei", (f) => f.openEscrowWei)
  if (options.queue) {
    gauge(
      'imo_serve_queue_jobs',
      'inference jobs in the queue by state (read in the background)',
      (set) => {
        for (const [state, count] of Object.entries(facts.queue?.jobs ?? {})) set(count, { state })
      },
      ['state'],
    )
    gauge('imo_serve_queue_workers', 'workers connected to the queue (read in the background)', (set) => {
      if (facts.queue?.workers !== undefined) set(facts.queue.workers)
    })
    gauge('imo_serve_queue_age_seconds', 'seconds since the queue answered serve', (set) => {
      if (facts.queue?.okAt !== undefined) set(seconds(facts.queue.okAt))
    })
    new client.Counter({
      name: 'imo_serve_redis_errors_total',
      help: 'Redis failures (lost connections, failed sweeps, failed reads)',
      registers: [registry],
      collect() {
        this.reset()
        this.inc(facts.queue?.errors ?? 0)
      },
    })
  }
}
