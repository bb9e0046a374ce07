/**
 * Reads a regular file line by line in 1 MiB chunks, so a file of any size is read with flat memory
 * (a file read into one string stops at Node's 512 MiB string limit). Opened without blocking and
 * checked with fstat on the descriptor it reads, like readRegularFile: a FIFO never hangs the process.
 */
import { closeSync, readSync } from 'node:fs'
import { UsageError } from '../errors.js'
import { describeReadError, openRegularFile } from './readRegularFile.js'

export interface LineScan {
  /** Bytes up to and including the last newline. */
  end: number
  /** The bytes after the last newline (a line cut short), when the file does not end in one. */
  tail?: Buffer
}

const CHUNK = 1 << 20

/**
 * @param path - the file.
 * @param label - how messages name it, e.g. 'the journal'.
 * @param onLine - called with each complete line (without its newline; the buffer is only valid during
 *   the call), its byte offset and its 1-based number (counted from `from`).
 * @param range - from: the byte offset to start at (a line boundary); to: stop before this offset.
 * @returns where the complete lines end, and the torn tail if any.
 * @throws UsageError (2) when the path is missing, unreadable or not a regular file.
 * @example
 * import { forEachLine } from './util/forEachLine.js'
 * forEachLine('.imo/journal/31337/0xf39f….jsonl', 'the journal', (line) => records.push(JSON.parse(line.toString('utf8'))))
 */
export function forEachLine(
  path: string,
  label: string,
  onLine: (line: Buffer, offset: number, number: number) => void,
  range: { from?: number; to?: number } = {},
): LineScan {
  const from = range.from ?? 0
  const to = range.to ?? Number.POSITIVE_INFINITY
  const { fd } = openRegularFile(path, label)
  try {
    let carry = Buffer.alloc(0)
    let carryOffset = from
    let position = from
    let number = 0
    const chunk = Buffer.allocUnsafe(CHUNK)
    for (;;) {
      const n = readSync(fd, chunk, 0, Math.min(CHUNK, to - position), position)
      if (n === 0) break
      position += n
      const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n)
      let start = 0
      for (let newline = data.indexOf(10, start); newline !== -1; newline = data.indexOf(10, start)) {
        onLine(data.subarray(start, newline), carryOffset + start, ++number)
        start = newline + 1
      }
      // The unfinished line is copied: the chunk buffer is reused by the next read.
      carry = Buffer.from(data.subarray(start))
      carryOffset += start
    }
    return { end: carryOffset, ...(carry.length > 0 ? { tail: carry } : {}) }
  } catch (error) {
    // A file-system error (it has an errno code) in plain words; anything onLine threw goes on as it is.
    if (typeof (error as NodeJS.ErrnoException).code !== 'string') throw error
    throw new UsageError(`cannot read ${label} ${path}: ${describeReadError(error)}`, { cause: error })
  } finally {
    closeSync(fd)
  }
}
