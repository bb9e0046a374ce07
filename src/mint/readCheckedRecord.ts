import type { Hex } from 'viem'
import { UsageError, VerificationFailedError } from '../errors.js'
import { readRecord, recordJsonPath } from '../inference/record.js'
import { type CheckedInference, checkInference } from '../verify/checkInference.js'
import { CheckList, renderChecks } from '../verify/checks.js'

/**
 * Reads an inference record for `imo mint` and re-checks everything it claims before anything is
 * signed: every file read once and hashed (inputs, outputs, artifact, prompt, aigcData), the tensor
 * summaries, config hash and commitment recomputed, the model hashed and re-run on the inputs (bit
 * for bit), and the pipeline's prompt -> inputs and outputs -> artifact. The operator signs exactly
 * the bytes returned here, the ones that were checked.
 * @param recordPath - record.json or its folder.
 * @param deploymentModelHash - the deployment's model hash: the only model whose pipeline may run.
 * @returns the record and its checked bytes.
 * @throws UsageError (2) for a record of another model; VerificationFailedError (9) when any check
 *   fails or cannot run (nothing signed, nothing sent).
 * @example
 * import { readCheckedRecord } from './mint/readCheckedRecord.js'
 * const checked = await readCheckedRecord('out/3fa2b4c1d9e0', deployment.modelHash)
 * checked.promptBytes // the bytes the mint sends
 */
export async function readCheckedRecord(recordPath: string, deploymentModelHash: Hex): Promise<CheckedInference> {
  const claimed = readRecord(recordJsonPath(recordPath))
  if (claimed.modelHash !== deploymentModelHash.toLowerCase())
    throw new UsageError(
      `the inference ${claimed.commitment.slice(0, 14)} was made with model ${claimed.modelHash}, but the deployment's model is ${deploymentModelHash}`,
      { hint: "run the inference with the deployment's model (imo infer-and-mint uses it)" },
    )
  const list = new CheckList()
  const checked = await checkInference(list, recordPath, { trustedModelHash: deploymentModelHash })
  const status = list.status
  if (checked && status === 'verified') return checked
  const bad = list.checks.find((check) => check.status === 'fail') ?? list.checks.find((check) => check.status === 'skip')
  throw new VerificationFailedError(
    `refusing to sign ${recordPath}: ${bad ? `${bad.name}: ${bad.detail}` : 'the record could not be read'}; nothing was signed or sent`,
    {
      details: renderChecks({ kind: 'record', subject: recordPath, ok: false, status, checks: list.checks }),
      hint: 'the record does not match its files or its model: re-run the inference (imo infer-and-mint)',
    },
  )
}
