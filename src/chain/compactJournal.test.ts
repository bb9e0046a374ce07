import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { UsageError } from '../errors.js'
import { listSteps } from '../revenue/journalSteps.js'
import { compactIfLarge, compactJournal } from './compactJournal.js'
import { archivePath, Journal } from './journal.js'
import { openJournal } from './openJournal.js'

const signer = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const at = '2026-01-01T00:00:00.000Z'
const hash = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as const

function withJournal(fn: (journal: Journal, root: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'imo-compact-'))
  try {
    const root = join(dir, '.imo')
    fn(Journal.open(31337, signer, root), root)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A step signed with `nonce` and, when `block` is given, mined there with that status. */
function step(journal: Journal, id: string, nonce: number, block?: number, status: 'success' | 'reverted' = 'success') {
  journal.append({
    type: 'intent',
    id,
    label: `label ${id}`,
    from: signer,
    to: signer,
    value: '7',
    dataHash: hash(1000 + nonce),
    at,
  })
  journal.append({ type: 'signed', id, nonce, hash: hash(nonce), raw: `0x${'ab'.repeat(600)}`, gas: '21000', at })
  if (block !== undefined)
    journal.append({
      type: 'receipt',
      id,
      hash: hash(nonce),
      status,
      blockNumber: String(block),
      blockHash: hash(5000 + block),
      gasUsed: '21000',
      effectiveGasPrice: '3',
      at,
    })
}

const comparable = (journal: Journal, id: string) => {
  const state = journal.state(id)
  return {
    intent: state.intent && { ...state.intent, from: state.intent.from.toLowerCase() },
    signed: state.signed && { ...state.signed, raw: undefined },
    receipt: state.receipt,
  }
}

describe('journal compaction', () => {
  it('moves settled steps below the depth to the archive; every step reads the same, the highest nonce and a torn tail stay', () => {
    withJournal((journal) => {
      journal.lock()
      for (let i = 0; i < 100; i++) step(journal, `mint:c:${i}`, i, 10 + i) // blocks 10..109
      step(journal, 'deposit:t:5:s0#1', 100, 110)
      step(journal, 'deposit:t:5:s0#2', 101, 111, 'reverted')
      journal.append({ type: 'dropped', id: 'deposit:t:5:s0#2', hash: hash(101), reason: 'reverted', at })
      step(journal, 'deposit:t:5:s0#2', 102) // re-sent, no receipt yet: open
      step(journal, 'claim:t:a:1', 103) // open
      step(journal, 'snapshot:t:9', 104, 40) // mined in block 40, deep
      const ids = [
        'mint:c:0',
        'mint:c:45',
        'mint:c:46',
        'mint:c:99',
        'deposit:t:5:s0#1',
        'deposit:t:5:s0#2',
        'claim:t:a:1',
        'snapshot:t:9',
      ]
      const before = new Map(ids.map((id) => [id, comparable(journal, id)]))
      const mintsBefore = listSteps(journal, 'mint:c:').map((s) => [s.id, s.state, s.hash, s.blockNumber, s.value])
      appendFileSync(journal.path, '{"type":"receipt","id":"claim:t:a:1","ha') // a torn last line (crash mid-write)
      journal.reload({ force: true })
      const size = journal.sizeOnDisk()

      const result = compactJournal(journal)!
      // Newest receipt: block 111; depth 64: blocks <= 47 move (mint 0..37, and the snapshot in 40).
      assert.equal(result.archived, 39)
      assert.equal(result.bytesBefore, size)
      assert.ok(result.bytesAfter < size * 0.7, `${result.bytesAfter} < 0.7 * ${size}`)
      for (const id of ids) assert.deepEqual(comparable(journal, id), before.get(id), id)
      assert.equal(journal.state('mint:c:0').archived, true)
      assert.equal(journal.state('mint:c:45').archived, undefined)
      assert.equal(journal.lastSignedNonce(), 104)
      assert.equal(journal.archivedSteps(), 39)
      assert.match(journal.tornLine() ?? '', /^\{"type":"receipt","id":"claim:t:a:1","ha$/)
      assert.deepEqual(
        listSteps(journal, 'mint:c:').map((s) => [s.id, s.state, s.hash, s.blockNumber, s.value]),
        mintsBefore,
      )
      const live = readFileSync(journal.path, 'utf8').split('\n')
      assert.match(live[0]!, /^\{"type":"checkpoint","nonce":104,"archived":39,/)
      assert.ok(!live.some((line) => line.includes('"id":"mint:c:0"')))
      assert.equal(readFileSync(archivePath(journal.path), 'utf8').trim().split('\n').length, 39)

      // A fresh reader (another process) sees the same, and a second compaction moves nothing new.
      journal.unlock()
      const other = Journal.open(31337, signer, join(journal.path, '..', '..', '..'))
      for (const id of ids) assert.deepEqual(comparable(other, id), before.get(id), id)
      assert.equal(other.lastSignedNonce(), 104)
      other.lock()
      assert.equal(compactJournal(other), undefined)
      other.unlock()
    })
  })

  it('a crash after the archive was written but before the live file was replaced reads the same', () => {
    withJournal((journal) => {
      journal.lock()
      for (let i = 0; i < 80; i++) step(journal, `mint:c:${i}`, i, 10 + i)
      const before = comparable(journal, 'mint:c:3')
      const liveBefore = readFileSync(journal.path)
      compactJournal(journal)
      writeFileSync(journal.path, liveBefore) // as if the rename never happened: the steps are in both files
      journal.reload({ force: true })
      assert.deepEqual(comparable(journal, 'mint:c:3'), before)
      assert.deepEqual(listSteps(journal, 'mint:c:3'), listSteps(journal, 'mint:c:3'))
      assert.equal(listSteps(journal, 'mint:c:').length, 80)
      compactJournal(journal) // archives them again: duplicates read as one
      assert.deepEqual(comparable(journal, 'mint:c:3'), before)
      assert.equal(listSteps(journal, 'mint:c:').length, 80)
      journal.unlock()
    })
  })

  it('compactIfLarge waits for the size, needs the lock, and does not re-read a file that held nothing to move', () => {
    withJournal((journal) => {
      for (let i = 0; i < 5; i++) step(journal, `open:${i}`, i) // nothing settled
      assert.throws(() => compactJournal(journal), /needs the journal lock/)
      journal.lock()
      assert.equal(compactIfLarge(journal, { atBytes: 1 << 30 }), undefined)
      assert.equal(compactIfLarge(journal, { atBytes: 100 }), undefined) // nothing to move
      const reads: string[] = []
      const size = journal.sizeOnDisk()
      step(journal, 'open:5', 5) // grows by less than half the threshold (4 KB)
      assert.ok(journal.sizeOnDisk() - size < 4000)
      assert.equal(compactIfLarge(journal, { atBytes: 8000 }), undefined, reads.join())
      journal.unlock()
    })
  })
})

describe('openJournal', () => {
  it('compacts a live file past the size before reading it, unless another imo holds the lock', () => {
    withJournal((journal, root) => {
      for (let i = 0; i < 100; i++) step(journal, `mint:c:${i}`, i, 10 + i)
      process.env.IMO_TEST_JOURNAL_COMPACT_BYTES = '10000'
      try {
        writeFileSync(`${journal.path}.lock`, String(process.ppid)) // another process, alive, sending
        const busy = openJournal(31337, signer, { root })
        assert.equal(busy.archivedSteps(), 0)
        assert.equal(busy.all().length, 300, 'read whole')
        rmSync(`${journal.path}.lock`)
        const opened = openJournal(31337, signer, { root })
        assert.equal(opened.archivedSteps(), 36) // newest receipt in block 109: blocks 10..45 moved
        assert.equal(opened.all().length, 64 * 3)
        assert.equal(opened.isLocked(), false)
        assert.equal(opened.state('mint:c:0').receipt?.status, 'success')
      } finally {
        delete process.env.IMO_TEST_JOURNAL_COMPACT_BYTES
      }
    })
  })
})

describe('a damaged journal', () => {
  it('a line in the middle that is not a record: exit 2 naming the file and the line; a torn head closed by a later append is skipped', () => {
    withJournal((journal) => {
      step(journal, 'a', 0, 10)
      appendFileSync(journal.path, '{"type":"signed","id":"b","no\n') // the head of a torn record, closed later
      step(journal, 'c', 1)
      journal.reload()
      assert.equal(journal.state('c').signed?.nonce, 1)
      const lines = readFileSync(journal.path, 'utf8').split('\n')
      lines.splice(2, 0, 'garbage written by hand')
      writeFileSync(journal.path, lines.join('\n'))
      const error = (() => {
        try {
          journal.reload()
        } catch (e) {
          return e
        }
      })() as UsageError
      assert.ok(error instanceof UsageError, String(error))
      assert.equal(error.exitCode, 2)
      assert.equal(
        error.shortMessage,
        `the journal ${journal.path} is damaged at line 3: it is not a journal record; nothing was sent`,
      )
      assert.match(error.hint ?? '', /restore the file from a backup, or delete line 3/)
      lines[2] = '{"json": "but not a record"}'
      writeFileSync(journal.path, lines.join('\n'))
      assert.throws(() => journal.reload(), /damaged at line 3/)
    })
  })

  it('a FIFO as the journal or its lock: exit 2 at once, no hang', () => {
    withJournal((journal, root) => {
      const folder = join(root, 'journal', '31337')
      step(journal, 'a', 0) // creates the folder
      rmSync(journal.path)
      execFileSync('mkfifo', [journal.path])
      assert.throws(
        () => Journal.open(31337, signer, root),
        (e: unknown) => e instanceof UsageError && /it is a FIFO/.test(e.message),
      )
      rmSync(journal.path)
      execFileSync('mkfifo', [`${journal.path}.lock`])
      const fresh = Journal.open(31337, signer, root)
      assert.throws(
        () => fresh.lock(),
        (e: unknown) =>
          e instanceof UsageError && /the journal lock .*\.lock is a FIFO \(named pipe\), not a regular file/.test(e.message),
      )
      assert.ok(existsSync(folder))
    })
  })
})
