import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runCli } from './helpers/runCli.js'

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
