/**
 * Reads a file that must be a regular file: opened without blocking (a FIFO with no writer would
 * otherwise hang the process beyond the reach of Ctrl-C, since the open blocks the main thread),
 * checked with fstat on the very descriptor that is read (no race between check and open), and
 * capped in size so a huge file is refused before it is loaded.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs'
import { UsageError } from '../errors.js'

export interface ReadRegularFileOptions {
  /** Refuse files larger than this many bytes (default: no cap). */
  maxBytes?: number
}

/**
 * A file-system error in plain words (never the raw errno code alone).
 * @example
 * describeReadError(Object.assign(new Error(), { code: 'ENOENT' })) // 'no such file'
 */
export function describeReadError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return 'no such file'
  if (code === 'EISDIR') return 'it is a folder'
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  if (code === 'ENOTDIR') return 'a part of the path is not a folder'
  if (code === 'ELOOP') return 'too many symlinks'
  return code ?? 'error'
}

/**
 * What a non-regular file is, for messages.
 * @example
 * fileKind(statSync('/dev/null')) // 'a device'
 */
export function fileKind(stat: Stats): string {
  if (stat.isDirectory()) return 'a folder'
  if (stat.isFIFO()) return 'a FIFO (named pipe)'
  if (stat.isSocket()) return 'a socket'
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device'
  if (stat.isSymbolicLink()) return 'a symlink'
  return 'a regular file'
}

/**
 * Opens a file for reading without blocking and checks, on that very descriptor, that it is a regular
 * file; the caller closes the descriptor.
 * @param path - the file.
 * @param label - how messages name it.
 * @returns the descriptor and its fstat.
 * @throws UsageError (exit 2) naming the file: missing, unreadable, or not a regular file.
 * @example
 * const { fd, stat } = openRegularFile('.imo/journal/31337/0xf39f….jsonl', 'the journal')
 */
export function openRegularFile(path: string, label: string): { fd: number; stat: Stats } {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    throw new UsageError(`cannot read ${label} ${path}: ${describeReadError(error)}`, { cause: error })
  }
  try {
    const stat = fstatSync(fd)
    if (stat.isDirectory()) throw new UsageError(`cannot read ${label} ${path}: it is a folder`)
    if (!stat.isFile()) throw new UsageError(`cannot read ${label} ${path}: it is ${fileKind(stat)}, not a regular file`)
    return { fd, stat }
  } catch (error) {
    closeSync(fd)
    throw error
  }
}

/**
 * Reads a whole regular file.
 * @param path - the file.
 * @param label - how messages name it, e.g. 'input file' or 'the password file'.
 * @param options - size cap.
 * @returns the file's bytes.
 * @throws UsageError (exit 2) naming the file: missing, unreadable, not a regular file (FIFO, device,
 *   socket, folder), larger than the cap, or changed in size while read.
 * @example
 * import { readRegularFile } from './util/readRegularFile.js'
 * readRegularFile('inputs.json', 'input file', { maxBytes: 64 * 1024 * 1024 }).toString('utf8')
 */
export function readRegularFile(path: string, label: string, options: ReadRegularFileOptions = {}): Buffer {
  const { fd, stat } = openRegularFile(path, label)
  try {
    const cap = options.maxBytes
    if (cap !== undefined && stat.size > cap)
      throw new UsageError(`${label} ${path} is too large: ${stat.size} bytes, more than the ${cap} bytes imo reads for it`)
    const buffer = Buffer.allocUnsafe(stat.size)
    let read = 0
    while (read < stat.size) {
      const n = readSync(fd, buffer, read, stat.size - read, read)
      if (n === 0) break
      read += n
    }
    // A short read, or bytes beyond the size fstat gave: the file changed while it was read.
    const extra = readSync(fd, Buffer.allocUnsafe(1), 0, 1, read)
    if (read !== stat.size || extra !== 0)
      throw new UsageError(`${label} ${path} changed while it was read (it was ${stat.size} bytes); try again`)
    return buffer
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new UsageError(`cannot read ${label} ${path}: ${describeReadError(error)}`, { cause: error })
  } finally {
    closeSync(fd)
  }
}
