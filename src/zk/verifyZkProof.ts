/**
 * Checks a zk proof offline against a verification key: its public signals must be the ones computed
 * from the bytes it claims (model hash, prompt, aigcData payload, recipient), and the PLONK proof must
 * verify for them. The public signals are recomputed, never taken from the proof file, so a proof for
 * another output, prompt, model or recipient fails even when its own signals are consistent.
 */
import { type PublicSignalInputs, publicSignals } from './publicSignals.js'
import { withSnarkjs } from './snarkjs.js'

/** What verifyZkProof found. */
export interface ZkProofCheck {
  ok: boolean
  /** Why not, in words (undefined when ok). */
  reason?: string
}

/**
 * Verifies a PLONK proof for the given claim.
 * @param vk - the verification key (verification_key.json).
 * @param proof - snarkjs's proof object.
 * @param claim - what the proof must be about.
 * @example
 * import { verifyZkProof } from './zk/verifyZkProof.js'
 * const { ok } = await verifyZkProof(vk, file.proof, { modelHash, prompt, payload, recipient })
 */
export async function verifyZkProof(
  vk: import('snarkjs').VerificationKey,
  proof: import('snarkjs').PlonkProof,
  claim: PublicSignalInputs,
): Promise<ZkProofCheck> {
  const signals = publicSignals(claim)
  if (vk.nPublic !== signals.length)
    return { ok: false, reason: `the verification key takes ${vk.nPublic} public signals, this claim has ${signals.length}` }
  const ok = await withSnarkjs((snarkjs) => snarkjs.plonk.verify(vk, signals, proof))
  return ok ? { ok } : { ok, reason: 'the PLONK proof does not verify for this model, prompt, output and recipient' }
}
