import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type BlockRange, findLatestLogs, readAllLogs } from './findLatestLogs.js'

/** A log source over blocks 0-99 with one log at each block in `at`, refusing ranges wider than `limit` blocks. */
function source(at: bigint[], limit: bigint) {
  let calls = 0
  const query = async ({ fromBlock, toBlock }: BlockRange) => {
    calls++
    if (toBlock - fromBlock + 1n > limit) throw new Error(`query exceeds max block range ${limit}`)
    return at.filter((block) => block >= fromBlock && block <= toBlock)
  }
  return { query, calls: () => calls }
}

describe('chunked log reads', () => {
  it('readAllLogs returns every log of the range in order, with progress, when the node limits ranges', async () => {
    const logs = source([3n, 40n, 41n, 99n], 7n)
    const progress: Array<[bigint, bigint]> = []
    const found = await readAllLogs(logs.query, {
      fromBlock: 0n,
      toBlock: 99n,
      chunk: 32n,
      onProgress: (done, total) => progress.push([done, total]),
    })
    assert.deepEqual(found, [3n, 40n, 41n, 99n])
    assert.deepEqual(progress.at(-1), [100n, 100n])
    assert.ok(progress.every(([done], i) => i === 0 || done > progress[i - 1]![0]))
  })

  it('findLatestLogs stops at the newest chunk with logs', async () => {
    const logs = source([3n, 40n, 41n], 10n)
    assert.deepEqual(await findLatestLogs(logs.query, { fromBlock: 0n, toBlock: 99n, chunk: 10n }), [40n, 41n])
  })

  it('one query when the node takes the whole range', async () => {
    const logs = source([3n, 40n], 1000n)
    assert.deepEqual(await readAllLogs(logs.query, { fromBlock: 0n, toBlock: 99n }), [3n, 40n])
    assert.equal(logs.calls(), 1)
  })
})
