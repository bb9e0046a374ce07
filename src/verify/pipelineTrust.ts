/**
 * When `imo verify` may run a model's pipeline (imo.pipeline.mjs is arbitrary code of the model's
 * author, run inside imo). The rule, simple and checkable: a pipeline runs only with
 * `--trust-pipeline`, unless its SHA-256 equals that of the pipeline of the model bundled with imo
 * (`models/cppn/imo.pipeline.mjs` of this installation), which is imo's own code.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { imoPackageRoot } from '../demo/bundledModel.js'
import { UsageError } from '../errors.js'
import { sha256Hex } from '../tensor/encodeTensors.js'

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
  return existsSync(candidate) ? sha256Hex(readFileSync(candidate)) : undefined
}

/**
 * Decides whether a pipeline may run, before anything runs it.
 * @param pipelinePath - the model's imo.pipeline.mjs (undefined: none, nothing to decide).
 * @param trust - --trust-pipeline was given.
 * @returns 'none' (no pipeline), 'bundled' (imo's own) or 'trusted' (the flag).
 * @throws UsageError (exit 2) asking for --trust-pipeline otherwise.
 * @example
 * pipelineTrust('/…/models/cppn/imo.pipeline.mjs', false) // 'bundled'
 */
export function pipelineTrust(pipelinePath: string | undefined, trust: boolean): 'none' | 'bundled' | 'trusted' {
  if (!pipelinePath) return 'none'
  if (sha256Hex(readFileSync(pipelinePath)) === bundledPipelineSha256()) return 'bundled'
  if (trust) return 'trusted'
  throw new UsageError(
    `verifying this needs to run the model's pipeline ${pipelinePath}, which is not imo's bundled one: running it runs its author's code in this process`,
    { hint: 'read it, then pass --trust-pipeline to run it' },
  )
}
