/**
 * Reads a file that must be a regular file: opened without blocking (a FIFO with no writer would
 * otherwise hang the process beyond the reach of Ctrl-C, since the open blocks the main thread),
 * checked with fstat on the very descriptor that is read (no race between check and open), and
 * capped in size so a huge file is refused before it is loaded.
 *
 * Files that someone else names (a worker's result in the shared --artifact-dir) are read with
 * readFileInFolder: a plain name, no symlink followed, one hard link, and the descriptor checked to be
 * in the folder, so the name cannot make imo read any other file.
 */
import { closeSync, constants, fstatSync, openSync, readlinkSync, readSync, realpathSync, type Stats } from 'node:fs'
import { dirname, join } from 'node:path'
import { UsageError } from '../errors.js'

export interface ReadRegularFileOptions {
  /** Refuse files larger than this many bytes (default: no cap). */
  maxBytes?: number
  /**
   * Refuse a symlink as the last part of the path (O_NOFOLLOW: it is not opened, let alone followed)
   * and a file with more than one hard link (another name of a file elsewhere).
   */
  noFollow?: boolean
  /** The folder the opened file must be in, checked on the descriptor (Linux: /proc/self/fd). */
  inside?: string
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
export function openRegularFile(
  path: string,
  label: string,
  options: Pick<ReadRegularFileOptions, 'noFollow' | 'inside'> = {},
): { fd: number; stat: Stats } {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (options.noFollow ? constants.O_NOFOLLOW : 0))
  } catch (error) {
    // O_NOFOLLOW on a symlink fails with ELOOP (Linux) or EMLINK (FreeBSD): say what it means.
    const code = (error as NodeJS.ErrnoException).code
    const reason =
      options.noFollow && (code === 'ELOOP' || code === 'EMLINK')
        ? 'it is a symlink, which imo does not follow here'
        : describeReadError(error)
    throw new UsageError(`cannot read ${label} ${path}: ${reason}`, { cause: error })
  }
  try {
    const stat = fstatSync(fd)
    if (stat.isDirectory()) throw new UsageError(`cannot read ${label} ${path}: it is a folder`)
    if (!stat.isFile()) throw new UsageError(`cannot read ${label} ${path}: it is ${fileKind(stat)}, not a regular file`)
    if (options.noFollow && stat.nlink !== 1)
      throw new UsageError(`cannot read ${label} ${path}: it has ${stat.nlink} hard links (another name of a file elsewhere)`)
    if (options.inside !== undefined && !openedInside(fd, options.inside))
      throw new UsageError(`cannot read ${label} ${path}: the file opened is not in ${options.inside}`)
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
  const { fd, stat } = openRegularFile(path, label, options)
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

/**
 * Reads a regular file that someone else named inside `folder` (a worker's file in the shared
 * --artifact-dir): `name` must be a plain file name (no folder part, not `.` or `..`), and the file is
 * read with readRegularFile's no-follow checks (a symlink or a hard link to a file elsewhere is
 * refused, a FIFO or device too, before any byte is read), size-capped, and checked on the descriptor
 * to be in `folder`.
 * @param folder - the folder (the operator's own setting; it may itself be a symlink).
 * @param name - the file name, as the other side gave it.
 * @param label - how messages name the file.
 * @param options - the size cap (required: the other side decides the size).
 * @returns the file's bytes.
 * @throws UsageError naming the file and the reason.
 * @example
 * import { readFileInFolder } from './util/readRegularFile.js'
 * readFileInFolder('/mnt/imo-artifacts', '3fa2….imt', 'the outputs file', { maxBytes: 256 * 1024 * 1024 })
 */
export function readFileInFolder(folder: string, name: string, label: string, options: { maxBytes: number }): Buffer {
  if (!isPlainFileName(name)) throw new UsageError(`${label} ${JSON.stringify(name)} is not a plain file name in ${folder}`)
  return readRegularFile(join(folder, name), label, { maxBytes: options.maxBytes, noFollow: true, inside: folder })
}

/**
 * True for a file name with no folder part, so a name can only point inside its own folder.
 * @example
 * isPlainFileName('image.png') // true
 * isPlainFileName('../secret') // false
 */
export function isPlainFileName(name: string): boolean {
  return name.length > 0 && name !== '.' && name !== '..' && !/[/\\\0]/.test(name)
}

/**
 * Whether an open descriptor is a file directly in `folder`, asked of the system (Linux's
 * /proc/self/fd names the file the descriptor holds, wherever a path led). Without /proc the plain
 * name and O_NOFOLLOW are the check.
 */
function openedInside(fd: number, folder: string): boolean {
  let opened: string
  try {
    opened = readlinkSync(`/proc/self/fd/${fd}`)
  } catch {
    return true
  }
  try {
    return dirname(opened) === realpathSync(folder)
  } catch {
    return false
  }
}
