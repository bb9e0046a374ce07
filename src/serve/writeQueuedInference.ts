/**
 * The files `imo serve --queue` keeps of a worker's result: its record and its artifact, in the
 * request's `out/<first 12 hex of the commitment>` folder (the tensors stay with the worker; the
 * record commits to them, and `imo verify` re-runs the model to check the artifact).
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { InferenceRecord } from '../inference/record.js'
import { writeFileAtomic } from '../util/writeFileAtomic.js'

/**
 * Writes `record.json` and the artifact into `outDir` (each atomically); a folder that holds them
 * already (a re-run) is left as it is.
 * @example
 * writeQueuedInference('out/3fa2b4c1d9e0', output.record, output.artifactBytes)
 */
export function writeQueuedInference(outDir: string, record: InferenceRecord, artifactBytes: Uint8Array): void {
  mkdirSync(outDir, { recursive: true })
  const artifact = join(outDir, record.artifact.file)
  if (!existsSync(artifact)) writeFileAtomic(artifact, artifactBytes)
  const recordPath = join(outDir, 'record.json')
  if (!existsSync(recordPath)) writeFileAtomic(recordPath, `${JSON.stringify(record, null, 2)}\n`)
}
