/**
 * When `imo verify` may run a model's pipeline (imo.pipeline.mjs is arbitrary code of the model's
 * author, run inside imo). The rule, simple and checkable: a pipeline runs only with
 * `--trust-pipeline`, unless its SHA-256 equals that of the pipeline of the model bundled with imo
 * (`models/cppn/imo.pipeline.mjs` of this installation), which is imo's own code.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { UsageError } from '../errors.js'

/**
 * The SHA-256 (hex) of the bundled model's pipeline, found by walking up from this module to the
 * imo package root; undefined when the installation has no bundled model.
 * @example
 * bundledPipelineSha256() // '9c1e…'
 */
export function bundledPipelineSha256(): string | undefined {
  let folder = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    const candidate = join(folder, 'models', 'cppn', 'imo.pipeline.mjs')
    if (existsSync(join(folder, 'package.json')) && existsSync(candidate))
      return createHash('sha256').update(readFileSync(candidate)).digest('hex')
    folder = dirname(folder)
  }
  return undefined
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
  const digest = createHash('sha256').update(readFileSync(pipelinePath)).digest('hex')
  if (digest === bundledPipelineSha256()) return 'bundled'
  if (trust) return 'trusted'
  throw new UsageError(
    `verifying this needs to run the model's pipeline ${pipelinePath}, which is not imo's bundled one: running it runs its author's code in this process`,
    { hint: 'read it, then pass --trust-pipeline to run it' },
  )
}
