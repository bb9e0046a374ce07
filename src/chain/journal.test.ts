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
