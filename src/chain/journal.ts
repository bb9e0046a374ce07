/**
 * The transaction journal (docs/formats.md section 9): append-only JSON lines under
 * `.imo/journal/<chainId>/<signer address>.jsonl`, one file per signer (nonces are per signer),
 * each record flushed to disk (writeSync + fsyncSync) before the next action. Per step, keyed by
 * a stable id: the intent, then the signed raw transaction and its hash BEFORE broadcast, then the
 * receipt. A lock file keeps two imo processes from allocating the same signer's nonces at once.
 * The journal holds no secret: a signed transaction is public once broadcast.
 *
 * Steps settled long enough ago move to `<signer>.archive.jsonl` (src/chain/compactJournal.ts), one
 * summary line each, and the live file then starts with a `checkpoint` record that keeps the highest
 * nonce ever signed; state() and idsWithPrefix() read both, so a compacted step answers as before. The
 * live file is read streaming (src/util/forEachLine.ts), never as one string.
 */
import { closeSync, constants, fstatSync, fsyncSync, mkdirSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'
import { ImoError, NonceConflictError, UsageError } from '../errors.js'
import { forEachLine } from '../util/forEachLine.js'
import { markJournalInUse } from '../util/interrupt.js'
import { isProcessAlive } from '../util/isProcessAlive.js'
import { fileKind } from '../util/readRegularFile.js'
import { JournalArchive, type SettledRecord } from './journalArchive.js'

type Hex = `0x${string}`
type Address = `0x${string}`

export interface IntentRecord {
  type: 'intent'
  id: string
  label: string
  from: Address
  to?: Address
  value: string
  /** keccak256 of the calldata / init code, to notice a reused id with other inputs. */
  dataHash: Hex
  at: string
}
export interface SignedRecord {
  type: 'signed'
  id: string
  nonce: number
  hash: Hex
  raw: Hex
  gas: string
  /** For deployments: the address the contract will have (sender + nonce). */
  contractAddress?: Address
  at: string
}
export interface ReceiptRecord {
  type: 'receipt'
  id: string
  hash: Hex
  status: 'success' | 'reverted'
  blockNumber: string
  blockHash: Hex
  gasUsed: string
  effectiveGasPrice?: string
  contractAddress?: Address
  at: string
}
/** A journalled transaction that no longer counts (reorged out and replaced, or abandoned). */
export interface DroppedRecord {
  type: 'dropped'
  id: string
  hash: Hex
  reason: string
  at: string
}
export type JournalRecord = IntentRecord | SignedRecord | ReceiptRecord | DroppedRecord

/** The first line of a compacted journal: what the steps moved to the archive leave behind. */
export interface CheckpointRecord {
  type: 'checkpoint'
  /** The highest nonce ever signed (archived steps included), for the torn-line check. */
  nonce?: number
  /** Steps moved to the archive so far. */
  archived: number
  at: string
}

export interface StepState {
  intent?: IntentRecord
  /** The latest signed transaction that is not dropped (from the archive: its `raw` is '0x'). */
  signed?: SignedRecord
  /** Its receipt, when journalled. */
  receipt?: ReceiptRecord
  /** The receipt comes from the archive: it was deep enough to be final when it was archived. */
  archived?: boolean
}

/**
 * The path of a journal's archive of settled steps.
 * @example
 * archivePath('/w/.imo/journal/31337/0xf39f….jsonl') // '/w/.imo/journal/31337/0xf39f….archive.jsonl'
 */
export function archivePath(path: string): string {
  return path.replace(/(\.jsonl)?$/, '.archive.jsonl')
}

/**
 * A settled step as the records it stands for (the raw transaction is not kept: '0x').
 * @example
 * settledRecords(journal.archive.find(id)[0]!, signer) // [intent, signed, receipt]
 */
export function settledRecords(settled: SettledRecord, from: Address): [IntentRecord, SignedRecord, ReceiptRecord] {
  const { id, at } = settled
  const contract = settled.contractAddress ? { contractAddress: settled.contractAddress } : {}
  return [
    {
      type: 'intent',
      id,
      label: settled.label,
      from,
      ...(settled.to ? { to: settled.to } : {}),
      value: settled.value,
      dataHash: settled.dataHash,
      at,
    },
    { type: 'signed', id, nonce: settled.nonce, hash: settled.hash, raw: '0x', gas: settled.gas, ...contract, at },
    {
      type: 'receipt',
      id,
      hash: settled.hash,
      status: settled.status,
      blockNumber: settled.blockNumber,
      blockHash: settled.blockHash,
      gasUsed: settled.gasUsed,
      ...(settled.effectiveGasPrice !== undefined ? { effectiveGasPrice: settled.effectiveGasPrice } : {}),
      ...contract,
      at,
    },
  ]
}

/**
 * Journal path for a chain and signer.
 * @example
 * journalPath(31337, '0xf39F…2266') // '/cwd/.imo/journal/31337/0xf39f…2266.jsonl'
 */
export function journalPath(chainId: number, address: string, root = resolve(process.cwd(), '.imo')): string {
  return resolve(root, 'journal', String(chainId), `${address.toLowerCase()}.jsonl`)
}

/** What this process calls itself in the lock files it writes (`imo serve` runs until stopped). */
let lockHolder = 'imo'

/**
 * Names this process in the journal locks it takes, so a command that finds the lock taken can say
 * who holds it.
 * @example
 * setJournalLockHolder('imo serve')
 */
export function setJournalLockHolder(name: string): void {
  lockHolder = name
}

/**
 * One signer's journal on one chain.
 * @example
 * import { Journal } from './journal.js'
 * const journal = Journal.open(31337, account.address)
 * journal.append({ type: 'intent', ... })
 */
export class Journal {
  readonly path: string
  private records: JournalRecord[] = []
  /** The records of each step id, oldest first: state() is asked per step, and scanning every record
   * each time made a long-running `imo serve` quadratic in the requests it had fulfilled. */
  private byId = new Map<string, JournalRecord[]>()
  /** The highest nonce signed, from the signed records and the checkpoint. */
  private highestNonce: number | undefined
  /** Steps moved to the archive, as the checkpoint says. */
  private archivedCount = 0
  /** The settled steps moved out of the live file. */
  readonly archive: JournalArchive
  /** The signer, from the file name (archived intents are rebuilt with it). */
  private signer: Address
  /** The file ends in a torn line (a crash mid-write): the next append starts a new line first. */
  private tornTail = false
  /** The torn last line's text, when the file ends in one. */
  private tornText: string | undefined
  private lockPath: string
  private locked = false
  /** Read (or written) while this process held the lock without a break since: memory is the file. */
  private current = false
  /** The file's size as last read or written here (another Journal object of this process could append). */
  private knownSize = 0
  private releaseOnExit = () => this.unlock()

  /** @param options - load: false leaves the file unread until reload() (openJournal compacts a large one first). */
  constructor(path: string, options: { load?: boolean } = {}) {
    this.path = path
    this.lockPath = `${path}.lock`
    this.archive = new JournalArchive(archivePath(path))
    const name = basename(path, '.jsonl')
    this.signer = /^0x[0-9a-fA-F]{40}$/.test(name) ? (name as Address) : ZERO
    if (options.load !== false) this.reload()
  }

  /** Opens the journal for a chain and signer; its folder is created on the first write, so a command that fails before sending leaves no empty `.imo/`. */
  static open(chainId: number, address: string, root?: string): Journal {
    return new Journal(journalPath(chainId, address, root))
  }

  /**
   * Re-reads the file, unless this object has held the lock since it last read it and the file has the
   * size it read or wrote (only the lock holder appends; the size catches another Journal object of this
   * process, which shares the lock: a long-running `imo serve` re-read its whole journal twice per batch).
   * The file is read streaming, line by line. A torn last line (crash mid-write) is ignored and reported
   * by tornLine(); so is a torn line that a later append closed (the head of a record, cut short), while
   * any other unreadable line stops with a UsageError naming the file and the line.
   * @throws UsageError (2) for a damaged line, or a journal path that is not a regular file (a FIFO).
   */
  reload(options: { force?: boolean } = {}): void {
    if (!options.force && this.locked && this.current && this.sizeOnDisk() === this.knownSize) return
    this.current = this.locked
    this.knownSize = 0
    this.records = []
    this.byId = new Map()
    this.highestNonce = undefined
    this.archivedCount = 0
    this.tornTail = false
    this.tornText = undefined
    if (!this.fileExists()) return
    const scan = forEachLine(this.path, 'the journal', (bytes, _offset, number) => {
      const record = readRecordLine(bytes, this.path, number)
      if (record) this.remember(record)
    })
    this.knownSize = scan.end + (scan.tail?.length ?? 0)
    if (!scan.tail) return
    this.tornTail = true
    const text = scan.tail.toString('utf8')
    const record = parseRecord(text) // whole, only its newline missing
    if (record) this.remember(record)
    else if (text.trim()) this.tornText = text
  }

  /** The torn last line (a write cut short by a crash or a full disk), if the file ends in one. */
  tornLine(): string | undefined {
    return this.tornText
  }

  /** The highest nonce the journal ever signed with, if any (dropped and archived transactions included). */
  lastSignedNonce(): number | undefined {
    return this.highestNonce
  }

  /** Steps moved to the archive so far (as the checkpoint says). */
  archivedSteps(): number {
    return this.archivedCount
  }

  /** Every record of the live file (not the archive's settled steps), oldest first. */
  all(): readonly JournalRecord[] {
    return this.records
  }

  /**
   * The ids of every step, archived or live, that start with `prefix`, oldest first, each once.
   * @example
   * journal.idsWithPrefix('deposit:0x5fbd…:') // ['deposit:0x5fbd…:1000000000000000000:s0#1']
   */
  idsWithPrefix(prefix: string): string[] {
    const ids = new Set(this.archive.idsWithPrefix(prefix))
    for (const record of this.records) if (record.id.startsWith(prefix)) ids.add(record.id)
    return [...ids]
  }

  /**
   * The live (not dropped) signed transactions of the live file with nonces in [from, to), lowest
   * first: what must be mined before a transaction with nonce `to` can be.
   * @example
   * journal.signedWithNonces(4, 6).map((signed) => signed.nonce) // [4, 5]
   */
  signedWithNonces(from: number, to: number): SignedRecord[] {
    const found = new Map<number, SignedRecord>()
    for (const record of this.records)
      if (
        record.type === 'signed' &&
        record.nonce >= from &&
        record.nonce < to &&
        this.state(record.id).signed?.hash === record.hash
      )
        found.set(record.nonce, record)
    return [...found.values()].sort((a, b) => a.nonce - b.nonce)
  }

  /** Appends one record and flushes it to disk before returning. */
  append(record: JournalRecord): void {
    // Only this process appends while it holds the lock, so the tail seen at reload() is still the tail.
    const prefix = this.tornTail ? '\n' : ''
    mkdirSync(dirname(this.path), { recursive: true })
    const fd = openSync(this.path, 'a', 0o600)
    const bytes = Buffer.from(`${prefix}${JSON.stringify(record)}\n`, 'utf8')
    try {
      let written = 0
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    this.tornTail = false
    this.knownSize += bytes.length
    this.remember(record)
  }

  /** The live file's size in bytes (0 when there is none). */
  sizeOnDisk(): number {
    try {
      return statSync(this.path).size
    } catch {
      return 0
    }
  }

  private fileExists(): boolean {
    try {
      statSync(this.path)
      return true
    } catch {
      return false
    }
  }

  private remember(record: JournalRecord | CheckpointRecord): void {
    if (record.type === 'checkpoint') {
      this.archivedCount = Math.max(this.archivedCount, record.archived)
      if (record.nonce !== undefined) this.highestNonce = Math.max(this.highestNonce ?? -1, record.nonce)
      return
    }
    this.records.push(record)
    if (record.type === 'signed') this.highestNonce = Math.max(this.highestNonce ?? -1, record.nonce)
    const list = this.byId.get(record.id)
    if (list) list.push(record)
    else this.byId.set(record.id, [record])
  }

  /**
   * Drops steps' records from memory (the file keeps them): a long-running `imo serve` forgets
   * the fulfilments it no longer watches, so its memory does not grow with every request it served.
   * The highest signed nonce is kept; a reload() brings everything back.
   */
  forget(ids: Iterable<string>): void {
    const gone = new Set<JournalRecord>()
    for (const id of ids) {
      for (const record of this.byId.get(id) ?? []) gone.add(record)
      this.byId.delete(id)
    }
    if (gone.size > 0) this.records = this.records.filter((record) => !gone.has(record))
  }

  /** What the journal knows about one step: its archived records (if any), then its live ones. */
  state(id: string): StepState {
    const live = this.byId.get(id) ?? []
    const archived = this.archive.find(id)
    if (archived.length === 0) return foldState(live)
    const state = foldState([...archived.flatMap((settled) => settledRecords(settled, this.signer)), ...live])
    if (state.receipt && !live.includes(state.receipt)) state.archived = true
    return state
  }

  /** Takes the signer's lock (stale locks of dead processes are replaced). */
  lock(): void {
    if (this.locked) return
    mkdirSync(dirname(this.lockPath), { recursive: true })
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.lockPath, 'wx')
        writeSync(fd, `${process.pid} ${lockHolder}`)
        closeSync(fd)
        this.locked = true
        markJournalInUse() // an interrupt now says the journal is intact and a re-run resumes
        this.current = false // another process may have appended while we did not hold it
        process.once('exit', this.releaseOnExit)
        return
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
        const { pid, holder } = readLockHolder(this.lockPath)
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isProcessAlive(pid))
          throw holder === 'imo serve'
            ? new NonceConflictError(
                `imo serve (pid ${pid}) is sending from this signer on this chain and runs until stopped: give serve a key of its own`,
                {
                  hint: 'run serve with its own attester key that pays the fulfilment gas (IMO_SERVE_KEYSTORE and IMO_SERVE_PASSWORD_FILE in .env; imo init sets it up; README "A key for imo serve"), or stop serve (Ctrl-C) while this runs',
                },
              )
            : new NonceConflictError(
                `another imo process (pid ${pid}) is sending from this signer on this chain; wait for it to finish`,
                { hint: `if no imo is running, remove ${this.lockPath}` },
              )
        rmSync(this.lockPath, { force: true })
      }
    }
    throw new ImoError(`could not take the journal lock ${this.lockPath}`)
  }

  /** Whether this process holds the signer's lock. */
  isLocked(): boolean {
    return this.locked
  }

  /** Releases the lock. */
  unlock(): void {
    if (!this.locked) return
    this.locked = false
    this.current = false
    process.removeListener('exit', this.releaseOnExit)
    rmSync(this.lockPath, { force: true })
  }
}

const ZERO = '0x0000000000000000000000000000000000000000' as const

/**
 * One step's state from its records, oldest first: the last signed transaction that is not dropped,
 * its receipt, the last intent.
 * @example
 * foldState([intent, signed, receipt]).receipt?.status // 'success'
 */
export function foldState(records: readonly JournalRecord[]): StepState {
  const state: StepState = {}
  const dropped = new Set<string>()
  for (const record of records) if (record.type === 'dropped') dropped.add(record.hash)
  for (const record of records) {
    if (record.type === 'intent') state.intent = record
    else if (record.type === 'signed' && !dropped.has(record.hash)) {
      state.signed = record
      state.receipt = undefined
    } else if (record.type === 'receipt' && state.signed && record.hash === state.signed.hash) state.receipt = record
  }
  return state
}

/**
 * A journal line's record, or undefined when it is not one (torn, or not a journal record).
 * @example
 * parseRecord('{"type":"dropped","id":"a","hash":"0x…","reason":"reverted","at":"…"}')?.type // 'dropped'
 */
export function parseRecord(text: string): JournalRecord | CheckpointRecord | undefined {
  let value: { type?: unknown; id?: unknown } | null
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!value || typeof value !== 'object') return undefined
  if (value.type === 'checkpoint') return value as CheckpointRecord
  const known = value.type === 'intent' || value.type === 'signed' || value.type === 'receipt' || value.type === 'dropped'
  return known && typeof value.id === 'string' ? (value as JournalRecord) : undefined
}

/**
 * A whole line of the live file as a record: undefined for a blank line or the head of a record cut
 * short by a crash (closed by a later append); any other line that is not a record is damage.
 * @param bytes - the line without its newline.
 * @param path - the journal, for the message.
 * @param number - the line's number, for the message.
 * @throws UsageError (2) naming the file and the line.
 * @example
 * readRecordLine(Buffer.from('{"type":"intent","id":"a",…}'), path, 1)?.type // 'intent'
 */
export function readRecordLine(bytes: Buffer, path: string, number: number): JournalRecord | CheckpointRecord | undefined {
  const line = bytes.toString('utf8')
  if (!line.trim()) return undefined
  const record = parseRecord(line)
  if (record || line.startsWith('{"type":"')) return record
  throw damagedLine(path, number)
}

/** A line in the middle of the journal that is not a record: changed by hand or a disk fault. */
function damagedLine(path: string, line: number): UsageError {
  return new UsageError(`the journal ${path} is damaged at line ${line}: it is not a journal record; nothing was sent`, {
    hint: `restore the file from a backup, or delete line ${line} if you know which transaction it recorded (the journal is what keeps a re-run from sending twice: do not move the whole file aside)`,
  })
}

/** The pid and holder ("imo serve") in a lock file; a lock path that is not a regular file (reading a FIFO would block) is refused. */
function readLockHolder(path: string): { pid: number; holder: string } {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch {
    return { pid: Number.NaN, holder: '' } // gone meanwhile: the next attempt takes it
  }
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile())
      throw new UsageError(`the journal lock ${path} is ${fileKind(stat)}, not a regular file`, {
        hint: 'remove it: imo creates the lock while it sends and removes it after',
      })
    const buffer = Buffer.alloc(64)
    const n = readSync(fd, buffer, 0, buffer.length, 0)
    // "<pid> [holder]", e.g. "4242 imo serve"
    const [pidText = '', ...holder] = buffer.toString('utf8', 0, n).trim().split(' ')
    return { pid: Number(pidText), holder: holder.join(' ') }
  } finally {
    closeSync(fd)
  }
}
