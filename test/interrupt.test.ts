/**
 * Interrupts say what is true (issue 21 item 19): `imo devnet` stopped by Ctrl-C (SIGINT to its
 * whole process group, anvil included, as a terminal sends it) or by SIGTERM ends with exit 0 and no
 * "anvil stopped unexpectedly" (with --json, one document); `imo hash` interrupted has no journal to
 * call intact.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { cleanEnv, imoBin } from './helpers/runCli.js'

let dir: string
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'imo-interrupt-'))
})
after(() => rmSync(dir, { recursive: true, force: true }))

/** Starts `imo ...args` in a process group of its own; resolves its output once `ready` matches. */
function start(args: string[], cwd: string, ready: (out: { stdout: string; stderr: string }) => boolean) {
  const child = spawn(process.execPath, [imoBin, ...args], {
    cwd,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  const out = { stdout: '', stderr: '' }
  child.stdout.on('data', (chunk) => {
    out.stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    out.stderr += chunk
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  const isReady = async () => {
    const deadline = Date.now() + 30_000
    while (!ready(out)) {
      if (Date.now() > deadline) throw new Error(`not ready: ${out.stderr}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  return { child, out, exited, isReady }
}

describe('interrupts', () => {
  for (const [what, signal, group] of [
    ['Ctrl-C (SIGINT to the process group, anvil too)', 'SIGINT', true],
    ['SIGTERM', 'SIGTERM', false],
  ] as const)
    it(`imo devnet --json stopped by ${what}: exit 0, one JSON document, no error`, async () => {
      const work = mkdtempSync(join(dir, 'devnet-'))
      const run = start(['devnet', '--json'], work, (out) => out.stdout.trim().endsWith('}'))
      await run.isReady()
      process.kill(group ? -run.child.pid! : run.child.pid!, signal)
      assert.equal(await run.exited, 0, run.out.stderr)
      assert.doesNotMatch(run.out.stderr, /error|unexpectedly/, run.out.stderr)
      assert.equal(JSON.parse(run.out.stdout).chainId, 31337) // exactly one document
    })

  it('imo hash interrupted says so, and nothing about a journal (it has none)', async () => {
    const big = join(dir, 'big.bin')
    const fd = openSync(big, 'w')
    writeSync(fd, Buffer.from([1]), 0, 1, 8 * 1024 ** 3 - 1) // sparse: 8 GiB to read, nothing on disk
    closeSync(fd)
    const run = start(['hash', big], dir, () => true)
    await new Promise((resolve) => setTimeout(resolve, 1500))
    run.child.kill('SIGINT')
    assert.equal(await run.exited, 130, run.out.stderr)
    assert.match(run.out.stderr, /interrupted \(SIGINT\)/)
    assert.doesNotMatch(run.out.stderr, /journal/)
  })
})
