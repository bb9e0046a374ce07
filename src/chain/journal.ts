/**
 * The transaction journal (DESIGN section 6): append-only JSON lines under
 * `.imo/journal/<chainId>/<signer address>.jsonl`, one file per signer (nonces are per signer),
 * each record flushed to disk (writeSync + fsyncSync) before the next action. Per step, keyed by
 * a stable id: the intent, then the signed raw transaction and its hash BEFORE broadcast, then the
 * receipt. A lock file keeps two imo processes from allocating the same signer's nonces at once.
 * The journal holds no secret: a signed transaction is public once broadcast.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { ImoError, NonceConflictError } from '../errors.js'
import { isProcessAlive } from '../util/isProcessAlive.js'
import { readRegularFile } from '../util/readRegularFile.js'

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

export interface StepState {
  intent?: IntentRecord
  /** The latest signed transaction that is not dropped. */
  signed?: SignedRecord
  /** Its receipt, when journalled. */
  receipt?: ReceiptRecord
}

/**
 * Journal path for a chain and signer.
 * @example
 * journalPath(31337, '0xf39F…2266') // '/cwd/.imo/journal/31337/0xf39f…2266.jsonl'
 */
export function journalPath(chainId: number, address: string, root = resolve(process.cwd(), '.imo')): string {
  return resolve(root, 'journal', String(chainId), `${address.toLowerCase()}.jsonl`)
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
  private highestSigned: SignedRecord | undefined
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

  constructor(path: string) {
    this.path = path
    this.lockPath = `${path}.lock`
    this.reload()
  }

  /** Opens the journal for a chain and signer; its folder is created on the first write, so a command that fails before sending leaves no empty `.imo/`. */
  static open(chainId: number, address: string, root?: string): Journal {
    return new Journal(journalPath(chainId, address, root))
  }

  /**
   * Re-reads the file, unless this object has held the lock since it last read it and the file has the
   * size it read or wrote (only the lock holder appends; the size catches another Journal object of this
   * process, which shares the lock: a long-running `imo serve` re-read its whole journal twice per batch). A torn last line (crash mid-write) is ignored and reported by tornLine(); so is a torn
   * line that a later append closed (the head of a record, cut short), while any other unreadable line
   * stops with an error.
   */
  reload(): void {
    if (this.locked && this.current && this.sizeOnDisk() === this.knownSize) return
    this.current = this.locked
    this.knownSize = 0
    this.records = []
    this.byId = new Map()
    this.highestSigned = undefined
    this.tornTail = false
    this.tornText = undefined
    if (!existsSync(this.path)) return
    // A regular file only: a FIFO in its place would block this read (and every later one) for good.
    const text = readRegularFile(this.path, 'the journal').toString('utf8')
    this.knownSize = Buffer.byteLength(text, 'utf8')
    this.tornTail = text.length > 0 && !text.endsWith('\n')
    const lines = text.split('\n')
    for (const [index, line] of lines.entries()) {
      if (!line.trim()) continue
      try {
        this.remember(JSON.parse(line) as JournalRecord)
      } catch (error) {
        if (index === lines.length - 1) this.tornText = line
        else if (!line.startsWith('{"type":"'))
          throw new ImoError(`the journal ${this.path} is corrupt at line ${index + 1}; move it aside to start over`, {
            cause: error,
          })
      }
    }
  }

  /** The torn last line (a write cut short by a crash or a full disk), if the file ends in one. */
  tornLine(): string | undefined {
    return this.tornText
  }

  /** The signed record with the highest nonce, if any. */
  lastSigned(): SignedRecord | undefined {
    return this.highestSigned
  }

  /** Every record, oldest first. */
  all(): readonly JournalRecord[] {
    return this.records
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

  private sizeOnDisk(): number {
    try {
      return statSync(this.path).size
    } catch {
      return 0
    }
  }

  private remember(record: JournalRecord): void {
    this.records.push(record)
    if (record.type === 'signed' && (!this.highestSigned || record.nonce > this.highestSigned.nonce)) this.highestSigned = record
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

  /** What the journal knows about one step. */
  state(id: string): StepState {
    const state: StepState = {}
    const dropped = new Set<string>()
    const records = this.byId.get(id) ?? []
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

  /** Takes the signer's lock (stale locks of dead processes are replaced). */
  lock(): void {
    if (this.locked) return
    mkdirSync(dirname(this.lockPath), { recursive: true })
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.lockPath, 'wx')
        writeSync(fd, String(process.pid))
        closeSync(fd)
        this.locked = true
        this.current = false // another process may have appended while we did not hold it
        process.once('exit', this.releaseOnExit)
        return
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
        const pid = Number(readRegularFile(this.lockPath, 'the journal lock', { maxBytes: 64 }).toString('utf8').trim())
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isProcessAlive(pid))
          throw new NonceConflictError(
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
