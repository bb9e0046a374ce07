import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { Journal } from './journal.js'

describe('Journal.open', () => {
  it('creates nothing until the first record (a command failing before it sends leaves no .imo/)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'imo-journal-'))
    try {
      const root = join(dir, '.imo')
      const journal = Journal.open(31337, '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', root)
      assert.equal(existsSync(root), false)
      assert.deepEqual(journal.all(), [])
      journal.append({ type: 'intent', id: 'step:1', label: 'test', at: '2026-01-01T00:00:00.000Z' } as never)
      assert.equal(readFileSync(journal.path, 'utf8').split('\n').filter(Boolean).length, 1)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('Journal memory', () => {
  const signer = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
  const withJournal = (fn: (journal: Journal, root: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), 'imo-journal-'))
    try {
      const root = join(dir, '.imo')
      fn(Journal.open(31337, signer, root), root)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const intent = (id: string) => ({ type: 'intent', id, label: id, at: '2026-01-01T00:00:00.000Z' }) as never
  const signed = (id: string, nonce: number) =>
    ({ type: 'signed', id, nonce, hash: `0x${String(nonce).padStart(64, '0')}`, raw: '0x00', gas: '21000', at: '' }) as never

  it('re-reads the file after the lock was taken, and while it is held only when the file changed', () => {
    withJournal((journal, root) => {
      const other = Journal.open(31337, signer, root)
      other.append(intent('a'))
      journal.lock()
      journal.reload()
      assert.ok(journal.state('a').intent, 'read after taking the lock')
      journal.append(intent('b'))
      journal.forget(['a']) // in memory only: a re-read would bring it back
      journal.reload()
      assert.ok(journal.state('b').intent)
      assert.equal(journal.state('a').intent, undefined, 'no re-read while the lock is held and the file is as written')
      other.append(intent('same-process')) // another Journal object of this process (it shares the lock)
      journal.reload()
      assert.ok(journal.state('same-process').intent, 'a file that grew behind this object is re-read')
      journal.unlock()
      other.append(intent('c')) // another process, once the lock is free
      journal.lock()
      journal.reload()
      assert.ok(journal.state('c').intent, 'a lock taken again means a fresh read')
      journal.unlock()
    })
  })

  it('forget() drops steps from memory but keeps the file and the highest signed nonce', () => {
    withJournal((journal) => {
      journal.lock()
      journal.append(intent('x'))
      journal.append(signed('x', 7))
      journal.append(intent('y'))
      journal.forget(['x'])
      assert.deepEqual(journal.state('x'), {})
      assert.deepEqual(
        journal.all().map((r) => r.id),
        ['y'],
      )
      assert.equal(journal.lastSignedNonce(), 7)
      assert.equal(readFileSync(journal.path, 'utf8').split('\n').filter(Boolean).length, 3)
      journal.unlock()
      journal.reload()
      assert.equal(journal.state('x').signed?.nonce, 7, 'a reload brings it back')
    })
  })
})
