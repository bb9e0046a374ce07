import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { appendFileSync, closeSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { UsageError } from '../errors.js'
import { hashFileSync, hashFiles } from './hashFiles.js'

const root = mkdtempSync(join(tmpdir(), 'imo-hash-files-'))
after(() => rmSync(root, { recursive: true, force: true }))

const sizes = [0, 1, 1023, 1024, 1025, 4096, 10_000]
const files = sizes.map((size, i) => {
  const data = Buffer.alloc(size)
  for (let j = 0; j < size; j++) data[j] = (j * 31 + i) & 0xff
  const absolute = join(root, `f${i}.bin`)
  writeFileSync(absolute, data)
  return { absolute, size, sha256: createHash('sha256').update(data).digest('hex') }
})

describe('hashFiles', () => {
  it('is exact at chunk boundaries on the main thread, on workers, and in hashFileSync', async () => {
    const expected = files.map((f) => ({ sha256: f.sha256, size: f.size }))
    assert.deepEqual(await hashFiles(files, { chunkSize: 1024 }), expected)
    assert.deepEqual(await hashFiles(files, { chunkSize: 1024, inlineBelow: 0 }), expected)
    assert.deepEqual(await hashFiles(files, { chunkSize: 1024, inlineBelow: 0, concurrency: 2 }), expected)
    assert.deepEqual(
      files.map((f) => hashFileSync(f.absolute, Buffer.alloc(1024))),
      expected,
    )
    assert.deepEqual(await hashFiles([]), [])
  })

  for (const [where, options] of [
    ['the main thread', {}],
    ['a worker', { inlineBelow: 0, concurrency: 1 }],
  ] as const) {
    it(`turns an unreadable file on ${where} into a one-line usage error`, async () => {
      const missing = join(root, 'gone.bin')
      await assert.rejects(hashFiles([...files, { absolute: missing, size: 5 }], options), (error: unknown) => {
        assert.ok(error instanceof UsageError)
        assert.equal(error.shortMessage, `cannot read ${missing} (ENOENT)`)
        return true
      })
    })
  }

  it('refuses a file truncated, grown or rewritten while it is hashed (its digest would be of neither version)', () => {
    const path = join(root, 'changing.bin')
    const cases: [string, () => void][] = [
      ['truncated', () => truncateSync(path, 1500)],
      ['grown', () => appendFileSync(path, Buffer.alloc(10))],
      [
        'rewritten in place, same size',
        () => {
          const fd = openSync(path, 'r+')
          writeSync(fd, Buffer.from('x'), 0, 1, 9000)
          closeSync(fd)
        },
      ],
    ]
    for (const [what, change] of cases) {
      writeFileSync(path, Buffer.alloc(10_000, 7))
      let first = true
      assert.throws(
        () =>
          hashFileSync(path, Buffer.alloc(1024), () => {
            if (first) change()
            first = false
          }),
        (error: unknown) => {
          assert.ok(error instanceof UsageError, what)
          assert.match(error.shortMessage, new RegExp(`^${path} changed while it was hashed`), what)
          return true
        },
      )
    }
  })

  for (const [where, options] of [
    ['the main thread', {}],
    ['a worker', { inlineBelow: 0, concurrency: 1 }],
  ] as const) {
    it(`on ${where}, refuses a file whose size changed after it was listed`, async () => {
      const path = join(root, `listed-${where.length}.bin`)
      writeFileSync(path, Buffer.alloc(2000, 1))
      const listed = { absolute: path, size: 2000 }
      truncateSync(path, 1000)
      await assert.rejects(hashFiles([listed], options), (error: unknown) => {
        assert.ok(error instanceof UsageError)
        assert.equal(
          error.shortMessage,
          `${path} changed while it was hashed (1000 bytes read, 2000 expected); hash it again when nothing is writing to it`,
        )
        return true
      })
    })
  }
})
