import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { Journal } from '../chain/journal.js'
import { findOpenStep, listSteps } from './journalSteps.js'

const from = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const hash = (n: number) => `0x${String(n).padStart(64, '0')}` as const

describe('journal steps of a repeatable action', () => {
  it('tells open (interrupted), confirmed and reverted steps apart, in journal order', () => {
    const root = mkdtempSync(join(tmpdir(), 'imo-journal-steps-'))
    try {
      const journal = Journal.open(31337, from, root)
      const at = '2025-01-01T00:00:00.000Z'
      const intent = (id: string) => journal.append({ type: 'intent', id, label: id, from, value: '5', dataHash: hash(0), at })
      const signed = (id: string, n: number) =>
        journal.append({ type: 'signed', id, nonce: n, hash: hash(n), raw: '0x00', gas: '21000', at })
      const receipt = (id: string, n: number, status: 'success' | 'reverted') =>
        journal.append({
          type: 'receipt',
          id,
          hash: hash(n),
          status,
          blockNumber: String(10 + n),
          blockHash: hash(99),
          gasUsed: '1',
          at,
        })
      intent('deposit:t:5:s0#1')
      signed('deposit:t:5:s0#1', 1)
      receipt('deposit:t:5:s0#1', 1, 'success')
      intent('deposit:t:5:s0#2')
      signed('deposit:t:5:s0#2', 2)
      receipt('deposit:t:5:s0#2', 2, 'reverted')
      intent('deposit:t:5:s1#1')
      signed('deposit:t:5:s1#1', 3) // crashed after broadcast: no receipt
      intent('deposit:t:50:s1#1') // another amount: another prefix
      intent('snapshot:t:1') // crashed before signing

      const steps = listSteps(journal, 'deposit:t:5:')
      assert.deepEqual(
        steps.map((step) => [step.id, step.state, step.txHash, step.blockNumber]),
        [
          ['deposit:t:5:s0#1', 'confirmed', hash(1), 11n],
          ['deposit:t:5:s0#2', 'reverted', hash(2), undefined],
          ['deposit:t:5:s1#1', 'open', hash(3), undefined],
        ],
      )
      assert.equal(steps[0]!.value, 5n)
      assert.equal(findOpenStep(journal, 'deposit:t:5:')?.id, 'deposit:t:5:s1#1')
      assert.equal(findOpenStep(journal, 'snapshot:t:')?.id, 'snapshot:t:1')
      assert.equal(findOpenStep(journal, 'claim:t:'), undefined)
      // Another process appended meanwhile: listSteps reloads from disk.
      const other = Journal.open(31337, from, root)
      other.append({
        type: 'receipt',
        id: 'deposit:t:5:s1#1',
        hash: hash(3),
        status: 'success',
        blockNumber: '20',
        blockHash: hash(98),
        gasUsed: '1',
        at,
      })
      assert.equal(findOpenStep(journal, 'deposit:t:5:'), undefined)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})
