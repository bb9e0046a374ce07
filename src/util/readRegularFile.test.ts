import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { UsageError } from '../errors.js'
import { readFileInFolder } from './readRegularFile.js'

let root: string
let folder: string
before(() => {
  root = mkdtempSync(join(tmpdir(), 'imo-read-in-folder-'))
  folder = join(root, 'shared')
  mkdirSync(folder)
  writeFileSync(join(root, 'secret.txt'), 'not for the worker\n')
  writeFileSync(join(folder, 'ok.imt'), 'IMT1 bytes')
})
after(() => rmSync(root, { recursive: true, force: true }))

/** Runs `read` in a child process with a deadline, so a read that blocks fails the test instead of hanging it. */
function readInChild(name: string, maxBytes: number): { code: number | null; out: string } {
  const script = `
    import { readFileInFolder } from ${JSON.stringify(new URL('./readRegularFile.ts', import.meta.url).pathname)}
    try { readFileInFolder(process.argv[1], process.argv[2], 'the outputs file', { maxBytes: Number(process.argv[3]) }); console.log('read') }
    catch (error) { console.log(error.message) }`
  try {
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script, folder, name, String(maxBytes)],
      {
        timeout: 15_000,
        encoding: 'utf8',
      },
    )
    return { code: 0, out: out.trim() }
  } catch (error) {
    return { code: (error as { status: number | null }).status, out: String((error as { stdout?: string }).stdout ?? '') }
  }
}

const refused = (name: string, maxBytes: number, message: RegExp) =>
  assert.throws(
    () => readFileInFolder(folder, name, 'the outputs file', { maxBytes }),
    (error: Error) => error instanceof UsageError && message.test(error.message) && !error.message.includes('\n'),
  )

describe('readFileInFolder: a file someone else names in a shared folder', () => {
  it('reads a regular file of the folder', () => {
    assert.equal(readFileInFolder(folder, 'ok.imt', 'the outputs file', { maxBytes: 100 }).toString(), 'IMT1 bytes')
  })

  it('a FIFO is refused at once, without blocking (it used to hang the reader for good)', () => {
    execFileSync('mkfifo', [join(folder, 'fifo.imt')])
    const { code, out } = readInChild('fifo.imt', 100)
    assert.equal(code, 0, 'the read returned (no hang)')
    assert.match(out, /cannot read the outputs file .*fifo\.imt: it is a FIFO \(named pipe\), not a regular file/)
  })

  it('a symlink to another file is not followed', () => {
    symlinkSync(join(root, 'secret.txt'), join(folder, 'link.imt'))
    refused('link.imt', 100, /link\.imt: it is a symlink, which imo does not follow here$/)
  })

  it('a hard link to a file elsewhere is refused', () => {
    linkSync(join(root, 'secret.txt'), join(folder, 'hard.imt'))
    refused('hard.imt', 100, /hard\.imt: it has 2 hard links \(another name of a file elsewhere\)$/)
  })

  it('a huge sparse file is refused by its size before any byte is read', () => {
    writeFileSync(join(folder, 'sparse.imt'), '')
    truncateSync(join(folder, 'sparse.imt'), 2 * 1024 ** 3)
    const before = process.memoryUsage().rss
    refused('sparse.imt', 1024 * 1024, /is too large: 2147483648 bytes, more than the 1048576 bytes imo reads for it$/)
    assert.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024, 'nothing of it was loaded')
  })

  it('names with a folder part, or naming a folder, are refused', () => {
    for (const name of ['../secret.txt', '/etc/passwd', 'a/b', '..', '.', '']) refused(name, 100, /is not a plain file name in /)
    mkdirSync(join(folder, 'sub'))
    refused('sub', 100, /sub: it is a folder$/)
  })
})
