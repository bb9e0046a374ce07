import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { progressBar, renderProgress } from './progress.js'

/** A stream that is a terminal of 80 columns, or a pipe. */
function fakeStream(isTTY: boolean, columns = 80): NodeJS.WriteStream & { written: string } {
  const stream = {
    isTTY,
    columns,
    written: '',
    write(text: string) {
      stream.written += text
      return true
    },
  }
  return stream as unknown as NodeJS.WriteStream & { written: string }
}

describe('progress', () => {
  it('renders bytes done / total, rate and time left', () => {
    assert.equal(renderProgress(512 * 2 ** 20, 2 ** 30, 2), '[##########----------]  512.0 MiB / 1.0 GiB  256.0 MiB/s  ETA 2s')
    assert.equal(renderProgress(0, 100, 0), '[--------------------]  0 B / 100 B  0 B/s  ETA --')
    assert.equal(renderProgress(2 ** 30, 2 ** 32, 10), '[#####---------------]  1.0 GiB / 4.0 GiB  102.4 MiB/s  ETA 30s')
    assert.equal(renderProgress(2 ** 30, 2 ** 36, 10).endsWith('ETA 10m30s'), true)
  })

  it('draws one \\r line on a terminal once the delay has passed, and clears it', (t) => {
    // A terminal that can animate (canAnimate): not under CI, not TERM=dumb.
    const saved = { CI: process.env.CI, TERM: process.env.TERM }
    delete process.env.CI
    process.env.TERM = 'xterm'
    t.after(() => {
      for (const [key, value] of Object.entries(saved))
        if (value === undefined) delete process.env[key]
        else process.env[key] = value
    })
    const tty = fakeStream(true)
    const bar = progressBar('hashing', tty, 0)
    bar.update(1, 2)
    bar.update(2, 2)
    assert.equal(tty.written.split('\r').length - 1, 2)
    assert.match(tty.written, /^\rhashing \[#{10}-{10}\] {2}1 B \/ 2 B/)
    bar.stop()
    assert.ok(tty.written.endsWith('\r\x1b[K'))
  })

  it('draws nothing without a terminal, or before the delay', () => {
    const pipe = fakeStream(false)
    const a = progressBar('hashing', pipe, 0)
    a.update(1, 2)
    a.stop()
    assert.equal(pipe.written, '')
    const tty = fakeStream(true)
    const b = progressBar('hashing', tty, 60_000)
    b.update(1, 2)
    b.stop()
    assert.equal(tty.written, '')
    const narrow = fakeStream(true, 0) // a terminal that reports no width (issue 21 item 23)
    const c = progressBar('hashing', narrow, 0)
    c.update(1, 2)
    c.stop()
    assert.equal(narrow.written, '')
  })
})
