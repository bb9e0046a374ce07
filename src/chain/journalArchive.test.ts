import assert from 'node:assert/strict'
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { JournalArchive, type SettledRecord } from './journalArchive.js'

const hex = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as const
const settled = (id: string, nonce: number): SettledRecord => ({
  type: 'settled',
  id,
  label: id,
  value: '0',
  dataHash: hex(1),
  nonce,
  hash: hex(nonce),
  gas: '21000',
  status: 'success',
  blockNumber: String(nonce),
  blockHash: hex(2),
  gasUsed: '21000',
  at: '2026-01-01T00:00:00.000Z',
})

function withArchive(fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'imo-archive-'))
  try {
    fn(join(dir, 'signer.archive.jsonl'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('the journal archive', () => {
  it('finds every step of three batches, through its index, without it, and with a batch of entries lost', () => {
    withArchive((path) => {
      const archive = new JournalArchive(path)
      const batches = [0, 1, 2].map((b) =>
        Array.from({ length: 700 }, (_, i) => settled(`fulfill:0xc:${b * 700 + i}`, b * 700 + i)),
      )
      for (const batch of batches) archive.append(batch)
      archive.append([settled('deposit:t:"quoted"\\id', 9999)]) // an id that JSON escapes
      const everyId = [...batches.flat().map((r) => r.id), 'deposit:t:"quoted"\\id']
      const check = (label: string) => {
        const fresh = new JournalArchive(path)
        for (const id of everyId) assert.equal(fresh.find(id).length, 1, `${label}: ${id}`)
        assert.deepEqual(fresh.find('fulfill:0xc:2100'), [], label)
      }
      check('with the index')
      assert.deepEqual(archive.find('fulfill:0xc:5')[0], settled('fulfill:0xc:5', 5))
      const index = readFileSync(archive.indexPath)
      assert.equal(index.length, (2100 + 1) * 16)
      // The middle batch's entries lost (a crash between the archive's append and the index's): a gap.
      writeFileSync(archive.indexPath, Buffer.concat([index.subarray(0, 700 * 16), index.subarray(1400 * 16)]))
      check('with a gap in the index')
      writeFileSync(archive.indexPath, index.subarray(0, 700 * 16 + 5)) // the rest lost, the last entry torn
      check('with the tail of the index lost')
      rmSync(archive.indexPath)
      check('without an index')
    })
  })

  it('a line torn by a crash is skipped and closed by the next append; prefix queries keep the order, each id once', () => {
    withArchive((path) => {
      const archive = new JournalArchive(path)
      archive.append([settled('claim:t:a:1', 1), settled('deposit:t:5:s0#1', 2)])
      appendFileSync(path, '{"type":"settled","id":"deposit:t:5:s0#2","lab') // torn
      archive.append([settled('deposit:t:5:s0#3', 3), settled('deposit:t:5:s0#1', 2)]) // a duplicate (crash mid-compaction)
      const fresh = new JournalArchive(path)
      assert.deepEqual(fresh.idsWithPrefix('deposit:t:5:'), ['deposit:t:5:s0#1', 'deposit:t:5:s0#3'])
      assert.equal(fresh.find('deposit:t:5:s0#3').length, 1)
      assert.equal(fresh.find('deposit:t:5:s0#1').length, 2)
      assert.deepEqual(fresh.find('deposit:t:5:s0#2'), [])
      // Another process appends: a reader that looked before sees it at its next look-up.
      new JournalArchive(path).append([settled('deposit:t:5:s0#4', 4)])
      assert.equal(fresh.find('deposit:t:5:s0#4').length, 1)
    })
  })
})
