import { lstatSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { UsageError } from '../errors.js'

/**
 * Checks that an output folder can be made or used, before any work: the path itself is not a
 * symlink (dangling or not: imo never writes through or renames over one) nor a file, and no part
 * of the path above it is a file.
 * @param outDir - the folder as given.
 * @param flag - the flag named in messages (default --out).
 * @returns true when the folder exists, false when it will be created.
 * @throws UsageError (exit 2) naming the problem.
 * @example
 * import { checkOutFolder } from './util/checkOutFolder.js'
 * checkOutFolder('out/run1') // false: it will be created
 */
export function checkOutFolder(outDir: string, flag = '--out'): boolean {
  const target = resolve(outDir)
  const kind = (path: string) => {
    try {
      const stat = lstatSync(path)
      return stat.isSymbolicLink() ? 'symlink' : stat.isDirectory() ? 'folder' : 'file'
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return 'missing'
      if (code === 'ENOTDIR') return 'under-file'
      throw new UsageError(`${flag} ${outDir} cannot be used: ${code ?? 'unreadable'}`)
    }
  }
  const own = kind(target)
  if (own === 'symlink') throw new UsageError(`${flag} ${outDir} is a symlink: give the real folder's path`)
  if (own === 'file') throw new UsageError(`${flag} ${outDir} exists and is not a folder`)
  if (own === 'folder') return true
  for (let above = dirname(target); ; above = dirname(above)) {
    const k = kind(above)
    if (k === 'file' || k === 'under-file') throw new UsageError(`${flag} ${outDir} is under a file, not a folder (${above})`)
    if (k === 'folder' || k === 'symlink' || above === dirname(above)) return false
  }
}
