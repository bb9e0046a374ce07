/**
 * The circuit and PLONK keys of a zk model, from imo's cache (`zkCacheDir`, by model hash) or made
 * there: what `imo infer --prove`, `imo deploy --proof-scheme zk` and `imo verify` need. The keys come
 * from a powers-of-tau file once (`--ptau`); later runs reuse them without it. A cached setup is
 * re-checked against its recorded digests before use (readZkSetup, ensureZkSetup).
 */
import { UsageError } from '../errors.js'
import type { ZkModel } from './readZkModel.js'
import {
  ensureZkCircuit,
  ensureZkSetup,
  readZkSetup,
  type ZkArtifactPaths,
  type ZkCircuitInfo,
  type ZkSetupInfo,
  zkCacheDir,
} from './zkArtifacts.js'

/** A model's circuit and setup, ready to prove and verify with. */
export interface ZkKeys {
  paths: ZkArtifactPaths
  circuit: ZkCircuitInfo
  setup: ZkSetupInfo
}

export interface EnsureZkKeysOptions {
  /** A powers-of-tau file: needed the first time only. */
  ptau?: string
  /** Accept a ptau that is not a published ceremony file (tests, demos): the keys are INSECURE. */
  allowInsecurePtau?: boolean
  onStep?: (step: string) => void
  env?: NodeJS.ProcessEnv
}

/**
 * The circuit and keys of a model.
 * @throws UsageError (exit 2) when there is no cached setup and no ptau, or the ptau is refused.
 * @example
 * import { ensureZkKeys } from './zk/ensureZkKeys.js'
 * const keys = await ensureZkKeys(zkModel, { ptau: 'powersOfTau28_hez_final_15.ptau' })
 * keys.setup.insecure // false
 */
export async function ensureZkKeys(model: ZkModel, options: EnsureZkKeysOptions = {}): Promise<ZkKeys> {
  const circuit = await ensureZkCircuit(model, zkCacheDir(model.modelHash, options.env), options.onStep)
  if (options.ptau === undefined) {
    const setup = readZkSetup(circuit.paths, circuit.info)
    if (!setup)
      throw new UsageError(`the zk model ${model.folder} has no proving key yet: pass --ptau FILE once`, {
        hint: 'a published powersOfTau28_hez_final_NN.ptau (NN at least the circuit power), or for tests `imo zk ptau --insecure` with --insecure-ptau',
      })
    return { paths: circuit.paths, circuit: circuit.info, setup }
  }
  const setup = await ensureZkSetup(circuit, options.ptau, {
    allowInsecure: options.allowInsecurePtau ?? false,
    ...(options.onStep ? { onStep: options.onStep } : {}),
  })
  return { paths: circuit.paths, circuit: circuit.info, setup: setup.info }
}

/**
 * A zk model folder and its keys (`imo infer --prove` before any inference runs, `imo deploy
 * --proof-scheme zk`).
 * @param flag - what needs it, for the error ('--prove').
 * @throws UsageError (exit 2) when the folder is not a zk model, or as {@link ensureZkKeys}.
 * @example
 * const { model, keys } = await ensureZkKeysForFolder('models/zkcppn', '--prove', { ptau })
 */
export async function ensureZkKeysForFolder(
  folder: string,
  flag: string,
  options: EnsureZkKeysOptions = {},
): Promise<{ model: ZkModel; keys: ZkKeys }> {
  const { isZkModelFolder, readZkModel } = await import('./readZkModel.js')
  if (!isZkModelFolder(folder))
    throw new UsageError(`${flag} needs a zk model folder (imo.pipeline.json of kind zk-image); ${folder} is not one`, {
      hint: 'imo zk compile MODEL.onnx --out DIR makes one (DIR/model)',
    })
  const model = await readZkModel(folder)
  return { model, keys: await ensureZkKeys(model, options) }
}
