/**
 * What serve reports: one log line per event (ServeEvent) and the counts at the end (ServeSummary).
 * Every stage logs through the same `log(event)`; `imo serve` prints it (JSON lines with --json).
 */

/** One log line's worth: what happened to which request. */
export interface ServeEvent {
  event:
    | 'start'
    | 'seen'
    | 'fulfilled'
    | 'skipped'
    | 'failed'
    | 'reorg'
    | 'rpc-error'
    | 'retry'
    | 'stop'
    | 'warning'
    /** `--queue`: Redis lost or back. */
    | 'queue'
    /** `--queue`: a worker refused work (its model is not the deployment's). */
    | 'refused'
    /** `--queue`: serve refused a worker's result (and ran the request itself). */
    | 'rejected'
    /** `--queue`: serve re-executed a worker's result (`result`: match or mismatch). */
    | 'audit'
    /** `--queue`: a worker's results are refused from now on. */
    | 'quarantined'
    /** `--http`: the paid API (a call settled, refused, failed). */
    | 'api'
  requestId?: string
  message: string
  [key: string]: unknown
}

export interface ServeSummary {
  seen: number
  fulfilled: number
  skipped: number
  failed: number
  /** The cursor at the end: the next block to scan. */
  nextBlock: bigint
  /** Requests still open whose queued job used up its attempts (waiting for `imo requests retry`). */
  parked: string[]
}
