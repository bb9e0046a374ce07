import type { ChainContext } from '../chain/connect.js'
import type { MintItem } from '../mint/mintRecords.js'
import type { InferenceSource } from './inferenceSource.js'
import type { ServeEvent } from './serveEvent.js'
import type { ServeMetrics } from './serveMetrics.js'

/**
 * What a front end other than the chain follower plugs into (the paid HTTP API of issue 23): the node's
 * own infer and check stages, signer, journal and metrics, so an off-chain request is run, checked,
 * signed and counted as a chain request is, without going through follow / decide / fulfil / settle.
 * See "The seam" in runServe.ts.
 */
export interface ServeStages {
  /** infer: the node's one InferenceSource (in-process, or the queue, whose workers' results are checked before infer() resolves). */
  source: InferenceSource
  /** check: the last check before anything is signed (checkResult.ts), bound to the deployment's model and aigcData mode. */
  check(item: MintItem, prompt: Uint8Array): string | undefined
  /** The node's chain context: its signer (`ctx.account`, the attester: signAttestation) and journal (`ctx.journal`, for sendSteps / mintRecords). */
  ctx: ChainContext
  /** The node's metrics (one registry, one /metrics). */
  metrics: ServeMetrics
  log(event: ServeEvent): void
}
