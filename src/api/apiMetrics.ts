/**
 * The paid API's Prometheus metrics, registered on serve's registry (one /metrics for the node):
 * calls by outcome, revenue settled into the token (currency base units), and the gas and fee the
 * settlements cost serve's key.
 */
import type { Counter, Registry } from 'prom-client'

export interface ApiMetrics {
  /** Calls by outcome: paid, unpaid (402), refused (402 after a payment), failed, settle-failed, unavailable (503), bad-request. */
  calls: Counter<'outcome'>
  /** Model runs for verified payments (at most one per authorization). */
  modelRuns: Counter
  /** Currency base units settled into the token. */
  revenue: Counter<'asset'>
  /** Gas used by settlements serve sent. */
  settleGas: Counter
  /** Fees paid for them, in wei. */
  settleFeeWei: Counter
}

/**
 * Registers the API's metrics.
 * @param registry - serve's registry (or a fresh one).
 * @example
 * const metrics = await createApiMetrics(serveMetrics.registry)
 * metrics.calls.inc({ outcome: 'paid' })
 */
export async function createApiMetrics(registry: Registry): Promise<ApiMetrics> {
  const loaded = (await import('prom-client')) as typeof import('prom-client') & { default?: typeof import('prom-client') }
  const client = loaded.default ?? loaded
  return {
    calls: new client.Counter({
      name: 'imo_api_calls_total',
      help: 'paid API calls by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    modelRuns: new client.Counter({
      name: 'imo_api_model_runs_total',
      help: 'model runs for verified payments',
      registers: [registry],
    }),
    revenue: new client.Counter({
      name: 'imo_api_revenue_settled_total',
      help: 'currency base units settled into the IMO token by paid API calls',
      labelNames: ['asset'],
      registers: [registry],
    }),
    settleGas: new client.Counter({
      name: 'imo_api_settle_gas_total',
      help: 'gas used by x402 settlements',
      registers: [registry],
    }),
    settleFeeWei: new client.Counter({
      name: 'imo_api_settle_fee_wei_total',
      help: 'fees paid for x402 settlements (wei)',
      registers: [registry],
    }),
  }
}
