import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

export interface WriteFileAtomicOptions {
  /** File mode of the new file, e.g. 0o600 for secrets. */
  mode?: number
}

/**
 * Writes a file so that readers see either the old content or the whole new content, never a
 * half-written file: write a temporary sibling, fsync it, rename it over the target.
 * @param path - the file to (re)place; its folder is created when missing.
 * @param data - the bytes or UTF-8 text to write.
 * @example
 * import { writeFileAtomic } from './util/writeFileAtomic.js'
 * writeFileAtomic('out/manifest.txt', 'imo-model-v1\n')
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: WriteFileAtomicOptions = {}): void {
  const folder = dirname(path)
  mkdirSync(folder, { recursive: true })
  const temporary = join(folder, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`)
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
    renameSync(temporary, path)
  } catch (error) {
    rmSync(temporary, { force: true })
    throw error
  }
}
