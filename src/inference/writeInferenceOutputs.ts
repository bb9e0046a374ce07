import { randomBytes } from 'node:crypto'
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmdirSync, rmSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { UsageError } from '../errors.js'
import type { TensorSet } from '../tensor/dtypes.js'
import { writeNpy } from '../tensor/npy.js'
import { tensorsToJsonDocument } from '../tensor/tensorToJson.js'
import { checkOutFolder } from '../util/checkOutFolder.js'
import { onInterrupt } from '../util/interrupt.js'
import { writeFileAtomic } from '../util/writeFileAtomic.js'
import type { InferenceRecord } from './record.js'

/**
 * What writeInferenceOutputs writes: an inference's record, its tensors' encodings, its outputs and its
 * artifact (runInference's result is one; declared here so the writer does not import its caller).
 */
export interface InferenceFiles {
  record: InferenceRecord
  outputs: TensorSet
  inputEncoding: Uint8Array
  outputEncoding: Uint8Array
  artifact: { bytes: Uint8Array }
}

export interface WriteInferenceOutputsOptions {
  /**
   * Replace an existing, non-empty folder (used for the default `out/<commitment>` folders, whose
   * content is the same inference). Without it, such a folder is an error.
   */
  replace?: boolean
}

/**
 * Writes an inference's files into `outDir` all at once: `inputs.imt`, `outputs.imt`,
 * `outputs.json`, one `<name>.npy` per large output, the artifact (e.g. `image.png`) and
 * `record.json`. They are written into a hidden sibling folder first and renamed into place, so the
 * folder appears whole or not at all (also on Ctrl-C or a failed write).
 * @param result - from runInference (or any InferenceFiles).
 * @param outDir - the folder to create; it must not exist, or be empty (see `replace`).
 * @returns the folder's absolute path.
 * @throws UsageError when the folder exists and is not empty.
 * @example
 * import { runInference } from './inference/runInference.js'
 * import { writeInferenceOutputs } from './inference/writeInferenceOutputs.js'
 * writeInferenceOutputs(await runInference({ modelPath: 'models/cppn', prompt: 'a red spiral' }), 'out/spiral')
 * // '/…/out/spiral'
 */
export function writeInferenceOutputs(
  result: InferenceFiles,
  outDir: string,
  options: WriteInferenceOutputsOptions = {},
): string {
  const target = resolve(outDir)
  if (!options.replace) checkOutDirAvailable(outDir)
  const parent = dirname(target)
  mkdirSync(parent, { recursive: true })
  const staging = join(parent, `.${basename(target)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`)
  const removeStaging = () => rmSync(staging, { recursive: true, force: true })
  const release = onInterrupt(removeStaging)
  try {
    mkdirSync(staging)
    const { record } = result
    const write = (file: string, data: string | Uint8Array) => writeFileAtomic(join(staging, file), data)
    write(record.inputs.file, result.inputEncoding)
    write(record.outputs.file, result.outputEncoding)
    for (const [name, file] of Object.entries(record.outputs.npy)) write(file, writeNpy(result.outputs[name]!))
    write(record.outputs.json, `${JSON.stringify(tensorsToJsonDocument(result.outputs, record.outputs.npy), null, 2)}\n`)
    if (record.artifact.file !== record.outputs.file) write(record.artifact.file, result.artifact.bytes)
    write('record.json', `${JSON.stringify(record, null, 2)}\n`)
    syncFolder(staging)
    moveIntoPlace(staging, target, Boolean(options.replace))
    syncFolder(parent)
  } catch (error) {
    removeStaging()
    throw error
  } finally {
    release()
  }
  return target
}

/**
 * Throws unless `outDir` is missing or an empty folder, so a run fails before its work, not after.
 * @example
 * checkOutDirAvailable('out/spiral')
 */
export function checkOutDirAvailable(outDir: string): void {
  if (!checkOutFolder(outDir)) return
  if (readdirSync(outDir).length > 0)
    throw new UsageError(`output folder ${outDir} already exists and is not empty: choose another --out or remove it`)
}

function moveIntoPlace(staging: string, target: string, replace: boolean): void {
  let old: string | undefined
  try {
    renameSync(staging, target)
    return
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error
  }
  if (readdirSync(target).length === 0) rmdirSync(target)
  else if (replace) {
    old = `${staging}.old`
    renameSync(target, old)
  } else throw new UsageError(`output folder ${target} already exists and is not empty: choose another --out or remove it`)
  renameSync(staging, target)
  if (old) rmSync(old, { recursive: true, force: true })
}

function syncFolder(folder: string): void {
  let fd: number | undefined
  try {
    fd = openSync(folder, 'r')
    fsyncSync(fd)
  } catch {
    // Some file systems cannot fsync a folder; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
