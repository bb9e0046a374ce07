/**
 * Writes a manifest file atomically, and tells whether a later hash of the same model folder would
 * pick the manifest up as one of the model's files (it sits in the folder under a name that is not
 * skipped), which would change the model hash.
 */
import { statSync } from 'node:fs'
import { relative, resolve, sep } from 'node:path'
import { writeFileAtomic } from '../util/writeFileAtomic.js'

/**
 * Writes `manifest` to `file` (temporary sibling, fsync, rename).
 * @param file - where to write.
 * @param manifest - the manifest text from hashModel.
 * @param model - the path that was hashed and the result's root folder.
 * @returns `insideModel: true` when hashing `model.input` again would include the manifest file.
 * @example
 * import { writeManifest } from './model/writeManifest.js'
 * writeManifest('model.manifest', result.manifest, { input: './model', root: result.root }) // { insideModel: false }
 */
export function writeManifest(file: string, manifest: string, model: { input: string; root: string }): { insideModel: boolean } {
  writeFileAtomic(file, manifest)
  const inside = relative(model.root, resolve(file))
  const skipped = inside === '' || inside.startsWith('..') || inside.split(sep).some((part) => part.startsWith('.'))
  return { insideModel: !skipped && statSync(model.input).isDirectory() }
}
