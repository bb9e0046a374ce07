/**
 * The spinner animates only where it can (issue 21 item 23): `imo infer` in a real pseudo-terminal
 * that reports 0 columns used to redraw without end (22 MB of cursor-up/erase in 20 s, never exiting),
 * even with CI=true TERM=dumb. It now animates on a terminal with a width, and prints plain lines
 * on one of 0 columns, under CI and with TERM=dumb.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { cleanEnv, imoBin, repoRoot } from './helpers/runCli.js'

const driver = fileURLToPath(new URL('./helpers/ptyDrive.py', import.meta.url))
let dir: string

interface PtyResult {
  code: number
  terminal: string
  raw_bytes: number
  cursor_hidden: boolean
  error?: string
}

/** `imo infer` on the text model in a pseudo-terminal of `columns` columns (stdin and stderr are the terminal). */
function inferInTerminal(columns: number, env: Record<string, string | undefined>): PtyResult {
  const cmd = [process.execPath, imoBin, 'infer', '--model', join(repoRoot, 'models', 'tinylm'), '--prompt', 'The river']
  const run = spawnSync('python3', [driver], {
    input: JSON.stringify({
      cmd: [...cmd, '--max-new-tokens', '32', '--out', join(dir, `out-${columns}-${env.TERM}-${env.CI}`)],
      cwd: dir,
      env: cleanEnv({ NO_COLOR: undefined, ...env }),
      size: [24, columns],
      timeout: 40,
    }),
    encoding: 'utf8',
    timeout: 60_000,
  })
  assert.equal(run.status, 0, run.stderr)
  return JSON.parse(run.stdout) as PtyResult
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'imo-spinner-'))
})
after(() => rmSync(dir, { recursive: true, force: true }))

describe('spinner', () => {
  it('animates on a terminal with a width', () => {
    const result = inferInTerminal(100, { CI: undefined, TERM: 'xterm-256color' })
    assert.equal(result.error, undefined)
    assert.equal(result.code, 0, result.terminal)
    assert.equal(result.cursor_hidden, true, result.terminal)
  })

  for (const [what, columns, env] of [
    ['0 columns', 0, { CI: undefined, TERM: 'xterm-256color' }],
    ['CI=true TERM=dumb, 0 columns', 0, { CI: 'true', TERM: 'dumb' }],
    ['TERM=dumb', 100, { CI: undefined, TERM: 'dumb' }],
    ['CI=true', 100, { CI: 'true', TERM: 'xterm-256color' }],
  ] as const)
    it(`prints plain lines and ends with ${what}`, () => {
      const result = inferInTerminal(columns, env)
      assert.equal(result.error, undefined)
      assert.equal(result.code, 0, result.terminal.slice(0, 2000))
      assert.equal(result.cursor_hidden, false)
      assert.ok(result.raw_bytes < 20_000, `${result.raw_bytes} bytes on the terminal`)
      assert.match(result.terminal, /inference done in \d+ ms/)
    })
})
