/**
 * What `imo deploy --proof-scheme zk` deploys for a zk model: its PLONK verifier, compiled now with
 * solc-js from the Solidity that snarkjs exported for the model's keys (checked against the digest
 * setup.json recorded, so the contract deployed is the one those keys verify with), and the aigcData
 * layout the collection checks (the image prefix and the payload length).
 */

import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { ZkDeployParams } from '../deployment/deployImo.js'
import { ImoError, UsageError } from '../errors.js'
import { compileVerifier } from './compileVerifier.js'
import { type EnsureZkKeysOptions, ensureZkKeysForFolder } from './ensureZkKeys.js'

/**
 * The verifier and layout of a zk model folder.
 * @throws UsageError (2) for a folder that is not a zk model, without keys and --ptau, or with keys from an
 *   insecure ptau without `allowInsecurePtau`.
 * @example
 * import { zkVerifierForDeploy } from './zk/zkVerifierForDeploy.js'
 * const { modelHash, zk } = await zkVerifierForDeploy('models/zkcppn', { ptau })
 * zk.payloadLength // 256
 */
export async function zkVerifierForDeploy(
  folder: string,
  options: EnsureZkKeysOptions = {},
): Promise<{ modelHash: `0x${string}`; zk: ZkDeployParams }> {
  const { model, keys } = await ensureZkKeysForFolder(folder, '--proof-scheme zk', options)
  // Keys made earlier from a test ptau (a demo, a test run) sit in the cache: deploying a verifier
  // anyone can forge proofs for needs the same consent as making them.
  if (keys.setup.insecure && !options.allowInsecurePtau)
    throw new UsageError(
      `the keys of ${folder} come from an INSECURE test powers-of-tau file (anyone can forge proofs for its verifier): pass --insecure-ptau to deploy it anyway, or --ptau with a published powersOfTau28_hez_final_NN.ptau`,
    )
  const source = readFileSync(keys.paths.verifierSource, 'utf8')
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')
  if (sha256(source) !== keys.setup.sha256.verifierSource)
    throw new UsageError(
      `${keys.paths.verifierSource} is not the verifier of the recorded setup (its SHA-256 differs): remove ${keys.paths.dir} and run again with --ptau`,
    )
  const compiled = compileVerifier(source, 'ZkVerifier.sol')
  if (sha256(compiled.bytecode) !== keys.setup.verifier.bytecodeSha256)
    throw new ImoError(
      `solc ${compiled.compiler} compiled the verifier into other bytecode than setup.json records (${keys.setup.verifier.compiler})`,
    )
  return {
    modelHash: model.modelHash,
    zk: {
      verifierBytecode: compiled.bytecode,
      aigcPrefix: `0x${Buffer.from(model.prefix).toString('hex')}`,
      payloadLength: model.payloadOrder.length,
      insecure: keys.setup.insecure,
      ptau: keys.setup.ptau.name,
    },
  }
}
