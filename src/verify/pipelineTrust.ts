/**
 * When `imo verify` may run a model's pipeline (imo.pipeline.mjs is arbitrary code of the model's
 * author, run inside imo). The rule, simple and checkable: a pipeline runs only with
 * `--trust-pipeline`, unless its SHA-256 equals that of the pipeline of the model bundled with imo
 * (`models/cppn/imo.pipeline.mjs` of this installation), which is imo's own code.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { imoPackageRoot } from '../demo/bundledModel.js'
import { UsageError } from '../errors.js'
import { sha256Hex } from '../tensor/encodeTensors.js'
import { readRegularFile } from '../util/readRegularFile.js'

/**
 * The SHA-256 (0x-hex) of the bundled model's pipeline, in the imo package root; undefined when
 * the installation has no bundled model.
 * @example
 * bundledPipelineSha256() // '0x9c1e…'
 */
function bundledPipelineSha256(): string | undefined {
  let root: string
  try {
    root = imoPackageRoot()
  } catch {
    return undefined
  }
  const candidate = join(root, 'models', 'cppn', 'imo.pipeline.mjs')
  return existsSync(candidate) ? sha256Hex(readRegularFile(candidate, 'file')) : undefined
}

/**
 * Decides whether a pipeline may run, on the SHA-256 of the exact bytes that will be imported (use it
 * as the `allow` gate of `model.pipeline()`, which imports those bytes and nothing else).
 * @param sha256 - hex SHA-256 (0x optional) of the pipeline bytes about to run.
 * @param pipelinePath - where they were read, for the message.
 * @param trust - --trust-pipeline was given.
 * @returns 'bundled' (imo's own) or 'trusted' (the flag).
 * @throws PipelineNotTrustedError (exit 2) asking for --trust-pipeline otherwise.
 * @example
 * const model = await loadModel('models/cppn')
 * let trust
 * await model.pipeline((sha256, path) => { trust = pipelineTrust(sha256, path, false) }) // trust = 'bundled'
 */
export function pipelineTrust(sha256: string, pipelinePath: string, trust: boolean): 'bundled' | 'trusted' {
  if (`0x${sha256.replace(/^0x/, '')}` === bundledPipelineSha256()) return 'bundled'
  if (trust) return 'trusted'
  throw new PipelineNotTrustedError(pipelinePath)
}

/** A pipeline that is not imo's own would run without --trust-pipeline (exit 2: the operator decides). */
export class PipelineNotTrustedError extends UsageError {
  override name = 'PipelineNotTrustedError'
  constructor(pipelinePath: string) {
    super(
      `verifying this needs to run the model's pipeline ${pipelinePath}, which is not imo's bundled one: running it runs its author's code in this process`,
      { hint: 'read it, then pass --trust-pipeline to run it' },
    )
  }
}
