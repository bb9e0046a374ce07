import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { expiryOf, liveSnapshotIds } from './readClaimable.js'

describe('liveSnapshotIds', () => {
  it('lists the latest claimWindow snapshots, none before the first', () => {
    assert.deepEqual(liveSnapshotIds(0, 12), [])
    assert.deepEqual(liveSnapshotIds(1, 12), [1])
    assert.deepEqual(liveSnapshotIds(5, 2), [4, 5])
    assert.deepEqual(liveSnapshotIds(5, 1), [5])
    assert.deepEqual(liveSnapshotIds(3, 4_294_967_295), [1, 2, 3])
  })
})

describe('expiryOf', () => {
  const token = { currentId: 5, claimWindow: 3, nextSnapshotAt: 10_000, snapshotInterval: 60 }
  it('expires snapshot N with snapshot N + claimWindow, one interval per snapshot still to come', () => {
    // Snapshot 3 expires with 6, the very next one.
    assert.deepEqual(expiryOf(3, token), { expiresWithSnapshot: 6, earliestExpiryAt: 10_000 })
    // Snapshot 5 expires with 8: two more snapshots after the next one.
    assert.deepEqual(expiryOf(5, token), { expiresWithSnapshot: 8, earliestExpiryAt: 10_120 })
  })
})
