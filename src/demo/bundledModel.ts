/**
 * Where imo itself is installed, and the model it ships (`models/cppn`): found from this module's
 * own location (src/ when run from sources, dist/ when bundled), never from the working folder.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ImoError } from '../errors.js'

/**
 * The imo package root: the nearest folder above this module with a package.json named "imo".
 * @returns an absolute path.
 * @example
 * import { imoPackageRoot } from './bundledModel.js'
 * imoPackageRoot() // '/usr/lib/node_modules/imo'
 */
export function imoPackageRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 8; i++) {
    const manifest = join(folder, 'package.json')
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'imo') return folder
      } catch {
        // not ours; keep climbing
      }
    }
    const parent = dirname(folder)
    if (parent === folder) break
    folder = parent
  }
  throw new ImoError('cannot find the imo package folder (package.json named "imo") above this installation')
}

/**
 * A bundled model folder: `cppn` (prompt -> PNG, the default), `tinylm` (a tiny text model) or `zk`
 * (`models/zkcppn`, prompt -> BMP with a proof the chain checks).
 * @returns the absolute path of `models/<name>` in the imo package.
 * @throws ImoError when the installation lacks it.
 * @example
 * import { bundledModelPath } from './bundledModel.js'
 * bundledModelPath() // '/…/imo/models/cppn'
 */
export function bundledModelPath(name: 'cppn' | 'tinylm' | 'zk' = 'cppn'): string {
  const path = join(imoPackageRoot(), 'models', name === 'zk' ? 'zkcppn' : name)
  if (!existsSync(join(path, 'model.onnx'))) throw new ImoError(`the bundled model is missing: ${path}/model.onnx`)
  return path
}
