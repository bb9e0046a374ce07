/**
 * Keeps a signer's journal small (issue 21 item 29: ~2.3 KB per fulfilled request, read whole at
 * every start). Under the journal lock, when the live file passes COMPACT_AT_BYTES, every step that is
 * settled (its live signed transaction has a receipt) in a block at least `depth` blocks below the
 * newest receipt the journal holds moves to the archive as one summary line (src/chain/journalArchive.ts),
 * and the live file is rewritten without it, starting with a checkpoint that keeps the highest nonce ever
 * signed. Everything a resume needs stays in the live file: unsettled steps with their raw transactions,
 * dropped records, recent receipts (a reorg may still remove them), a torn last line.
 *
 * Two streaming passes (the file is never one string): the first folds each step's records (without the
 * raw transactions), the second copies the lines of the steps that stay. Crash safety: the archive is
 * appended and flushed first, then the new live file is written beside the old one, flushed and renamed
 * over it; a crash in between leaves a step in both, which reads the same.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { ImoError } from '../errors.js'
import { forEachLine } from '../util/forEachLine.js'
import { type CheckpointRecord, foldState, type Journal, type JournalRecord, parseRecord, readRecordLine } from './journal.js'
import type { SettledRecord } from './journalArchive.js'

/** The live file's size (bytes) past which a sending run compacts it. */
export const COMPACT_AT_BYTES = 4 * 1024 * 1024
/** Blocks below the newest journalled receipt before a step counts as settled for good. */
export const ARCHIVE_DEPTH = 64

export interface CompactionResult {
  /** Steps moved to the archive by this compaction. */
  archived: number
  bytesBefore: number
  bytesAfter: number
}

/**
 * The size past which to compact: COMPACT_AT_BYTES, or IMO_TEST_JOURNAL_COMPACT_BYTES in tests.
 * @example
 * compactAtBytes() // 4194304
 */
export function compactAtBytes(): number {
  const test = Number(process.env.IMO_TEST_JOURNAL_COMPACT_BYTES)
  return Number.isSafeInteger(test) && test > 0 ? test : COMPACT_AT_BYTES
}

/**
 * Compacts the journal when its live file is past the size (it holds the lock).
 * @param journal - a locked journal.
 * @param options - depth: blocks below the newest receipt (default ARCHIVE_DEPTH); atBytes: the size.
 * @returns what moved, or undefined when the file is small or nothing is settled deep enough.
 * @example
 * compactIfLarge(journal, { depth: 64 }) // { archived: 1790, bytesBefore: 4194990, bytesAfter: 3021 }
 */
export function compactIfLarge(
  journal: Journal,
  options: { depth?: number; atBytes?: number } = {},
): CompactionResult | undefined {
  const threshold = options.atBytes ?? compactAtBytes()
  const size = journal.sizeOnDisk()
  // A file that held nothing to move is read again only once it has grown by half the threshold.
  const checked = checkedAt.get(journal)
  if (size <= threshold || (checked !== undefined && size < checked + threshold / 2)) return undefined
  const result = compactJournal(journal, options)
  checkedAt.set(journal, result ? result.bytesAfter : size)
  return result
}

/** The live file's size after the last compaction attempt of each journal (this process). */
const checkedAt = new WeakMap<Journal, number>()

/**
 * Moves the settled steps of a locked journal to its archive and rewrites its live file.
 * @param journal - the journal, locked by this process.
 * @param options - depth: blocks below the newest journalled receipt (default ARCHIVE_DEPTH).
 * @returns what moved, or undefined when nothing is settled deep enough.
 * @throws ImoError when the journal is not locked; UsageError (2) for a damaged or unreadable file.
 * @example
 * compactJournal(journal) // { archived: 1790, bytesBefore: 4194990, bytesAfter: 3021 }
 */
export function compactJournal(journal: Journal, options: { depth?: number } = {}): CompactionResult | undefined {
  if (!journal.isLocked()) throw new ImoError('compactJournal needs the journal lock')
  const depth = BigInt(options.depth ?? ARCHIVE_DEPTH)
  const steps = foldSteps(journal.path)
  const settled: SettledRecord[] = []
  for (const [id, texts] of steps.byId) {
    const state = foldState(texts.map((text) => JSON.parse(text) as JournalRecord))
    if (!state.signed || !state.receipt || BigInt(state.receipt.blockNumber) + depth > steps.newestBlock) continue
    const { signed, receipt } = state
    settled.push({
      type: 'settled',
      id,
      label: state.intent?.label ?? id,
      ...(state.intent?.to ? { to: state.intent.to } : {}),
      value: state.intent?.value ?? '0',
      dataHash: state.intent?.dataHash ?? '0x',
      nonce: signed.nonce,
      hash: signed.hash,
      gas: signed.gas,
      ...(signed.contractAddress ? { contractAddress: signed.contractAddress } : {}),
      status: receipt.status,
      blockNumber: receipt.blockNumber,
      blockHash: receipt.blockHash,
      gasUsed: receipt.gasUsed,
      ...(receipt.effectiveGasPrice !== undefined ? { effectiveGasPrice: receipt.effectiveGasPrice } : {}),
      at: state.intent?.at ?? signed.at,
    })
  }
  if (settled.length === 0) return undefined
  journal.archive.append(settled)
  const moved = new Set(settled.map((record) => record.id))
  const checkpoint: CheckpointRecord = {
    type: 'checkpoint',
    ...(steps.highestNonce !== undefined ? { nonce: steps.highestNonce } : {}),
    archived: steps.archived + settled.length,
    at: new Date().toISOString(),
  }
  const bytesBefore = journal.sizeOnDisk()
  rewriteLive(journal.path, checkpoint, moved)
  journal.reload({ force: true })
  return { archived: settled.length, bytesBefore, bytesAfter: journal.sizeOnDisk() }
}

/**
 * Pass 1: each step's records as JSON text without their raw transactions (text: a fraction of the
 * memory parsed records take, for an old journal of hundreds of thousands of steps), the newest
 * receipt's block, the highest nonce and the steps archived before (a damaged line stops it).
 */
function foldSteps(path: string) {
  const byId = new Map<string, string[]>()
  let newestBlock = -1n
  let highestNonce: number | undefined
  let archived = 0
  forEachLine(path, 'the journal', (line, _offset, number) => {
    const record = readRecordLine(line, path, number)
    if (!record) return
    if (record.type === 'checkpoint') {
      archived = Math.max(archived, record.archived)
      if (record.nonce !== undefined) highestNonce = Math.max(highestNonce ?? -1, record.nonce)
      return
    }
    if (record.type === 'signed') highestNonce = Math.max(highestNonce ?? -1, record.nonce)
    const kept = JSON.stringify(record.type === 'signed' ? { ...record, raw: '0x' } : record)
    const list = byId.get(record.id)
    if (list) list.push(kept)
    // A copy of the id: JSON.parse may hand out a slice of the line, which would keep the whole line
    // (raw transaction included) alive as long as the key.
    else byId.set(Buffer.from(record.id).toString(), [kept])
    if (record.type === 'receipt' && BigInt(record.blockNumber) > newestBlock) newestBlock = BigInt(record.blockNumber)
  })
  return { byId, newestBlock, highestNonce, archived }
}

/**
 * The id of a record line (the engine writes `{"type":…,"id":…` first: read without parsing the whole
 * line and its raw transaction), or undefined for a checkpoint or a line that is not a record.
 */
function recordId(line: Buffer): string | undefined {
  const head = /^\{"type":"(intent|signed|receipt|dropped)","id":("(?:[^"\\]|\\.)*")/.exec(line.toString('utf8', 0, 512))
  if (head && line[line.length - 1] === 0x7d) return JSON.parse(head[2]!) as string // a whole record ends in '}'
  const record = parseRecord(line.toString('utf8'))
  return record && record.type !== 'checkpoint' ? record.id : undefined
}

/** Pass 2: the live file again, without the moved steps, behind a new checkpoint; flushed, then renamed over it. */
function rewriteLive(path: string, checkpoint: CheckpointRecord, moved: Set<string>): void {
  const temporary = `${path}.compacting`
  const fd = openSync(temporary, 'w', 0o600)
  try {
    let pending: Buffer[] = [Buffer.from(`${JSON.stringify(checkpoint)}\n`)]
    let size = 0
    const flush = () => {
      const bytes = Buffer.concat(pending)
      let written = 0
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written)
      pending = []
      size = 0
    }
    const scan = forEachLine(path, 'the journal', (line) => {
      const id = recordId(line)
      if (id === undefined || moved.has(id)) return // checkpoints and torn heads go too

      pending.push(Buffer.from(line), Buffer.from('\n'))
      size += line.length + 1
      if (size > 1 << 20) flush()
    })
    if (scan.tail) pending.push(scan.tail) // a torn last line stays last: the next run's check needs it
    flush()
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(temporary, path)
  const folder = openSync(dirname(path), 'r')
  try {
    fsyncSync(folder)
  } finally {
    closeSync(folder)
  }
}
