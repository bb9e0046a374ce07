/**
 * The settled part of a signer's journal (`<signer>.archive.jsonl` beside `<signer>.jsonl`): one
 * `settled` line per step whose receipt was deep enough when the journal was compacted
 * (src/chain/compactJournal.ts), append-only and flushed like the journal. A settled step keeps what
 * a later run asks of it (its inputs' hash, its transaction, its receipt) but not the raw signed
 * transaction, which only an unsettled step needs.
 *
 * Nothing of it is read at start-up. The first lookup of an id loads its index (`<signer>.archive.idx`,
 * 16 bytes per step: a 32-bit hash of the id, the line's length and byte offset, appended after each
 * batch of lines) into a hash table of typed arrays; a hit is confirmed by reading that line. Lines the
 * index lacks (a crash between the two appends) are found by scanning the archive where the entries
 * leave a gap, and after the last one. A prefix query scans the archive.
 */
import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Address, Hex } from 'viem'
import { forEachLine } from '../util/forEachLine.js'

/** A step as the archive keeps it: its intent, its last live signed transaction and its receipt, in one line. */
export interface SettledRecord {
  type: 'settled'
  id: string
  label: string
  to?: Address
  value: string
  dataHash: Hex
  nonce: number
  hash: Hex
  gas: string
  contractAddress?: Address
  status: 'success' | 'reverted'
  blockNumber: string
  blockHash: Hex
  gasUsed: string
  effectiveGasPrice?: string
  /** When the step's intent was recorded. */
  at: string
}

/** Every settled line starts with these bytes, then the id (JSON.stringify keeps the key order). */
const HEAD = Buffer.from('{"type":"settled","id":"')
const EMPTY = 0
/** An index entry: u32 hash of the id, u32 length of its line (newline included), f64 its byte offset. */
const ENTRY = 16

/** FNV-1a over bytes: the table's key (collisions only cost a line read). */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193)
  return hash >>> 0
}

/** Where the JSON string that starts at `start` ends (its closing quote), or -1. */
function closingQuote(line: Buffer, start: number): number {
  for (let i = start; i < line.length; i++) {
    if (line[i] === 92)
      i++ // a backslash escapes the next byte
    else if (line[i] === 34) return i
  }
  return -1
}

/**
 * Calls onLine with every whole line that `needle` (a newline and the line's first bytes) starts,
 * found by the native search over 1 MiB chunks: no per-line work for the lines that do not match.
 */
function linesStarting(path: string, needle: Buffer, onLine: (line: Buffer) => void): void {
  const fd = openSync(path, 'r')
  try {
    const chunk = Buffer.allocUnsafe(1 << 20)
    let carry = Buffer.from('\n') // the first line has no newline before it
    for (let position = 0; ; ) {
      const n = readSync(fd, chunk, 0, chunk.length, position)
      position += n
      const data = n === 0 ? carry : Buffer.concat([carry, chunk.subarray(0, n)])
      let keep = Math.max(0, data.length - needle.length + 1) // a needle cut by the chunk's end is found next time
      for (let at = data.indexOf(needle); at !== -1; at = data.indexOf(needle, at + 1)) {
        const end = data.indexOf(10, at + 1)
        if (end === -1) {
          keep = at // its line goes on in the next chunk
          break
        }
        onLine(data.subarray(at + 1, end))
      }
      if (n === 0) return // what is left is a line cut short at the end of the file
      carry = Buffer.from(data.subarray(keep))
    }
  } finally {
    closeSync(fd)
  }
}

/** The id's bytes as they appear in a line (JSON-escaped). */
function idBytes(id: string): Buffer {
  return Buffer.from(JSON.stringify(id).slice(1, -1), 'utf8')
}

/**
 * @example
 * const archive = new JournalArchive('.imo/journal/31337/0xf39f….archive.jsonl')
 * archive.find('mint:0x5fbd…:0x12ab…') // [{ type: 'settled', status: 'success', … }]
 */
export class JournalArchive {
  readonly path: string
  private keys = new Uint32Array(0)
  /** Line offset + 1 per slot (0: empty). */
  private offsets = new Float64Array(0)
  private count = 0
  /** Bytes of the file read into the table. */
  private indexed = 0
  /** Bytes of the index file read into the table. */
  private indexRead = 0
  readonly indexPath: string

  constructor(path: string) {
    this.path = path
    this.indexPath = path.replace(/(\.jsonl)?$/, '.idx')
  }

  /** The settled records of one id, oldest first (usually one). */
  find(id: string): SettledRecord[] {
    this.catchUp()
    if (this.count === 0) return []
    const bytes = idBytes(id)
    const key = hashBytes(bytes, 0, bytes.length)
    const mask = this.keys.length - 1
    const offsets = new Set<number>()
    for (let slot = key & mask; this.offsets[slot] !== EMPTY; slot = (slot + 1) & mask)
      if (this.keys[slot] === key) offsets.add(this.offsets[slot]! - 1)
    return [...offsets]
      .sort((a, b) => a - b)
      .map((offset) => this.readAt(offset))
      .filter((record): record is SettledRecord => record?.id === id)
  }

  /** Ids starting with `prefix`, in the order the archive holds them, each once. */
  idsWithPrefix(prefix: string): string[] {
    if (!this.exists()) return []
    const ids = new Set<string>()
    linesStarting(this.path, Buffer.concat([Buffer.from('\n'), HEAD, idBytes(prefix)]), (line) => {
      try {
        ids.add((JSON.parse(line.toString('utf8')) as SettledRecord).id)
      } catch {
        // a line torn by a crash: not a record
      }
    })
    return [...ids]
  }

  /** Appends settled records, flushed to disk before it returns. */
  append(records: SettledRecord[]): void {
    if (records.length === 0) return
    mkdirSync(dirname(this.path), { recursive: true })
    const lines = records.map((record) => Buffer.from(`${JSON.stringify(record)}\n`, 'utf8'))
    const entries = Buffer.alloc(lines.length * ENTRY)
    const fd = openSync(this.path, 'a+', 0o600)
    try {
      // A line torn by a crash in an earlier append is closed first (it is skipped when read).
      const size = statSync(this.path).size
      const closeTorn = size > 0 && !this.endsInNewline(fd, size) ? '\n' : ''
      let offset = size + closeTorn.length
      for (const [index, line] of lines.entries()) {
        entries.writeUInt32LE(hashBytes(line, HEAD.length, closingQuote(line, HEAD.length)), index * ENTRY)
        entries.writeUInt32LE(line.length, index * ENTRY + 4)
        entries.writeDoubleLE(offset, index * ENTRY + 8)
        offset += line.length
      }
      const bytes = Buffer.concat([Buffer.from(closeTorn), ...lines])
      let written = 0
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    // The index follows the archive: lines it lacks after a crash are found by a scan.
    appendFileSync(this.indexPath, entries, { mode: 0o600 })
  }

  private exists(): boolean {
    try {
      return statSync(this.path).isFile()
    } catch {
      return false
    }
  }

  private endsInNewline(fd: number, size: number): boolean {
    const last = Buffer.alloc(1)
    readSync(fd, last, 0, 1, size - 1)
    return last[0] === 10
  }

  /** Indexes what was appended since the last lookup (by this process or another). */
  private catchUp(): void {
    let size: number
    try {
      size = statSync(this.path).size
    } catch {
      return
    }
    if (size < this.indexed) {
      // Replaced by a shorter file (restored from a backup): start over, without the index.
      this.keys = new Uint32Array(0)
      this.offsets = new Float64Array(0)
      this.count = 0
      this.indexed = 0
      this.indexRead = Number.POSITIVE_INFINITY
    }
    if (size === this.indexed) return
    this.readIndex(size)
    this.scan(this.indexed, size)
  }

  /** Indexes the whole lines in [from, to) and moves `indexed` past them when they continue it. */
  private scan(from: number, to: number): void {
    if (from >= to) return
    const scan = forEachLine(
      this.path,
      'the journal archive',
      (line, offset) => {
        if (line.length <= HEAD.length || !line.subarray(0, HEAD.length).equals(HEAD)) return // a torn line
        const end = closingQuote(line, HEAD.length)
        if (end !== -1) this.insert(hashBytes(line, HEAD.length, end), offset)
      },
      { from, to },
    )
    if (from === this.indexed) this.indexed = scan.end
  }

  /** Loads the index entries not read yet (lines within the archive's size), scanning the gaps between them. */
  private readIndex(size: number): void {
    if (this.indexRead === Number.POSITIVE_INFINITY) return
    let bytes: Buffer
    try {
      bytes = readFileSync(this.indexPath)
    } catch {
      return
    }
    const whole = bytes.length - (bytes.length % ENTRY)
    this.reserve(this.count + (whole - this.indexRead) / ENTRY)
    const view = new DataView(bytes.buffer, bytes.byteOffset, whole)
    for (let at = this.indexRead; at < whole; at += ENTRY) {
      const length = view.getUint32(at + 4, true)
      const offset = view.getFloat64(at + 8, true)
      if (offset < this.indexed || offset + length > size) continue
      if (offset > this.indexed) this.scan(this.indexed, offset) // lines whose entries were lost
      this.insert(view.getUint32(at, true), offset)
      this.indexed = offset + length
    }
    this.indexRead = whole
  }

  /** Makes room for `count` entries at most half full, in one step (not by repeated doubling). */
  private reserve(count: number): void {
    if (count * 2 <= this.keys.length) return
    let size = Math.max(1024, this.keys.length)
    while (size < count * 2) size *= 2
    this.rehash(size)
  }

  private insert(key: number, offset: number): void {
    if ((this.count + 1) * 2 > this.keys.length) this.rehash(Math.max(1024, this.keys.length * 2))
    const mask = this.keys.length - 1
    let slot = key & mask
    while (this.offsets[slot] !== EMPTY) slot = (slot + 1) & mask
    this.keys[slot] = key
    this.offsets[slot] = offset + 1
    this.count++
  }

  private rehash(size: number): void {
    const oldKeys = this.keys
    const oldOffsets = this.offsets
    this.keys = new Uint32Array(size)
    this.offsets = new Float64Array(size)
    this.count = 0
    for (let slot = 0; slot < oldKeys.length; slot++)
      if (oldOffsets[slot] !== EMPTY) this.insert(oldKeys[slot]!, oldOffsets[slot]! - 1)
  }

  private readAt(offset: number): SettledRecord | undefined {
    const fd = openSync(this.path, 'r')
    try {
      let buffer = Buffer.allocUnsafe(1024)
      let length = 0
      for (;;) {
        if (length === buffer.length) buffer = Buffer.concat([buffer, Buffer.allocUnsafe(buffer.length)])
        const n = readSync(fd, buffer, length, buffer.length - length, offset + length)
        const newline = buffer.subarray(length, length + n).indexOf(10)
        if (newline !== -1) return JSON.parse(buffer.toString('utf8', 0, length + newline)) as SettledRecord
        if (n === 0) return undefined
        length += n
      }
    } catch {
      return undefined
    } finally {
      closeSync(fd)
    }
  }
}
