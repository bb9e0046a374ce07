/**
 * Paid requests (DESIGN section 8) live on the attestation collection (AigcCollection: request,
 * fulfill, refund, the request fee and timeout). A zk deployment's ZkAigcCollection has none of them:
 * its mint takes any valid PLONK proof from anyone, so there is no operator to pay for a fulfilment.
 * `imo request`, `imo refund`, `imo requests` and `imo serve` say so at once instead of failing on a
 * call the contract does not have.
 */

import type { Deployment } from '../deployment/deploymentFile.js'
import { UsageError } from '../errors.js'

/**
 * Refuses a paid-request command on a zk deployment.
 * @throws UsageError (exit 2, one line naming what to use instead) when the deployment's proof scheme is zk.
 * @example
 * import { refuseZkRequests } from './requests/refuseZkRequests.js'
 * refuseZkRequests(deployment) // returns for an attestation deployment
 */
export function refuseZkRequests(deployment: Pick<Deployment, 'proofScheme' | 'aigcCollection'>): void {
  if (deployment.proofScheme !== 'zk') return
  throw new UsageError(
    `the deployment's collection ${deployment.aigcCollection.address} is a zk collection: it takes no paid requests; anyone mints with a proof instead (imo infer-and-mint PROMPT, or imo infer --prove then imo mint)`,
  )
}
