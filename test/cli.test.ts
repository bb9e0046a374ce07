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
})
