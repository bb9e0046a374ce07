import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { cleanEnv, imoBin, runCli } from './helpers/runCli.js'

describe('imo (program)', () => {
  it('prints help with examples and exits 0', async () => {
    const { code, stdout } = await runCli(['--help'])
    assert.equal(code, 0)
    assert.match(stdout, /Usage: imo/)
    assert.match(stdout, /Examples:/)
    assert.match(stdout, /Exit codes:/)
  })

  it('rejects an unknown command with exit 2 and a one-line error, no stack', async () => {
    const { code, stderr, stdout } = await runCli(['no-such-command'])
    assert.equal(code, 2)
    assert.equal(stdout, '')
    assert.match(stderr, /unknown command 'no-such-command'/)
    assert.doesNotMatch(stderr, /\n\s+at /)
  })

  it("a subcommand's usage error: one error line, a hint naming its --help, and with --json one JSON document", async () => {
    const human = await runCli(['claim', '--bogus'])
    assert.equal(human.code, 2)
    assert.equal(human.stdout, '')
    assert.equal(human.stderr, "error: unknown option '--bogus'\nhint: run `imo claim --help` for usage\n")
    const json = await runCli(['revenue', 'deposit', '--json'])
    assert.equal(json.code, 2)
    assert.deepEqual(JSON.parse(json.stdout), {
      error: { name: 'UsageError', message: "missing required argument 'AMOUNT'", exitCode: 2 },
    })
    assert.equal(json.stderr, "error: missing required argument 'AMOUNT'\nhint: run `imo revenue deposit --help` for usage\n")
  })

  it('a --json document far over 64 KiB reaches a slow reader whole (exit does not cut the pipe short)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imo-big-json-'))
    try {
      mkdirSync(join(dir, 'model'))
      for (let i = 0; i < 1500; i++) writeFileSync(join(dir, 'model', `file-with-a-longish-name-${i}.bin`), String(i))
      const child = spawn(process.execPath, [imoBin, 'hash', join(dir, 'model'), '--json'], {
        env: cleanEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
      // Read nothing for 3 s: the command is done by then and exits while most of its output is queued.
      child.stdout.pause()
      await new Promise((resolve) => setTimeout(resolve, 3000))
      let stdout = ''
      child.stdout.on('data', (chunk) => {
        stdout += chunk
      })
      child.stdout.resume()
      assert.equal(await exited, 0)
      assert.ok(stdout.length > 200_000, `${stdout.length} bytes`)
      assert.equal(JSON.parse(stdout).files.length, 1500)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('lists the global flags (--json, --quiet) in every command help', async () => {
    const { code, stdout } = await runCli(['redeem', '--help'])
    assert.equal(code, 0)
    assert.match(stdout, /Global Options:\n(.*\n)* {2}--json /)
  })

  it('verify: a --model that does not exist is a usage error (exit 2), not a failed check (exit 9)', async () => {
    const { code, stdout, stderr } = await runCli(['verify', 'out/x', '--model', '/nonexistent/imo-model', '--json'])
    assert.equal(code, 2)
    assert.equal(stderr, 'error: model not found: /nonexistent/imo-model (--model)\n')
    assert.equal(JSON.parse(stdout).error.exitCode, 2)
  })
})
