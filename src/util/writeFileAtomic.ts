import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, realpathSync, renameSync, rmSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { UsageError } from '../errors.js'
import { describeReadError, fileKind } from './readRegularFile.js'

export interface WriteFileAtomicOptions {
  /** File mode of the new file, e.g. 0o600 for secrets. */
  mode?: number
}

/**
 * Where a write to `path` lands: the path itself, or for a symlink the file it points to (written
 * through, so the link stays a link). Refuses targets that are not regular files (a folder, a
 * device such as /dev/full, a FIFO, a socket) and dangling symlinks: renaming over them would
 * replace a device node or a folder entry with a plain file.
 */
function writeTarget(path: string): string {
  let stat: ReturnType<typeof lstatSync>
  try {
    stat = lstatSync(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return path
    throw new UsageError(`cannot write ${path}: ${describeReadError(error)}`, { cause: error })
  }
  if (stat.isFile()) return path
  if (stat.isSymbolicLink()) {
    let real: string
    try {
      real = realpathSync(path)
    } catch {
      throw new UsageError(`cannot write ${path}: it is a symlink to nothing (dangling); remove it or point it at a file`)
    }
    const target = lstatSync(real)
    if (!target.isFile()) throw new UsageError(`cannot write ${path}: it is a symlink to ${fileKind(target)}, not a regular file`)
    return real
  }
  throw new UsageError(`cannot write ${path}: it is ${fileKind(stat)}, not a regular file; imo only replaces regular files`)
}

/**
 * Writes a file so that readers see either the old content or the whole new content, never a
 * half-written file: write a temporary sibling, fsync it, rename it over the target. A symlink is
 * written through (the file it points to is replaced); a folder, device, FIFO or socket is refused.
 * @param path - the file to (re)place; its folder is created when missing.
 * @throws UsageError (exit 2) when the target is not a regular file or its folder cannot be made.
 * @param data - the bytes or UTF-8 text to write.
 * @example
 * import { writeFileAtomic } from './util/writeFileAtomic.js'
 * writeFileAtomic('out/manifest.txt', 'imo-model-v1\n')
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: WriteFileAtomicOptions = {}): void {
  const target = writeTarget(path)
  const folder = dirname(target)
  try {
    mkdirSync(folder, { recursive: true })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'EEXIST' || code === 'ENOTDIR')
      throw new UsageError(`cannot write ${path}: a part of its folder is a file, not a folder`, { cause: error })
    throw error
  }
  const temporary = join(folder, `.${basename(target)}.${process.pid}.${Date.now()}.tmp`)
  const fd = openSync(temporary, 'w', options.mode ?? 0o644)
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
    let written = 0
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written)
    fsyncSync(fd)
  } catch (error) {
    closeSync(fd)
    rmSync(temporary, { force: true })
    throw error
  }
  closeSync(fd)
  try {
    renameSync(temporary, target)
  } catch (error) {
    rmSync(temporary, { force: true })
    throw error
  }
}
