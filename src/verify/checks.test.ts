import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { renderChecks } from './checks.js'

describe('renderChecks', () => {
  it('prints each detail on one escaped line (details quote what records and token URIs hold)', () => {
    const text = renderChecks({
      kind: 'record',
      subject: 'out/x',
      ok: false,
      status: 'failed',
      checks: [{ name: 'token URI', status: 'fail', detail: 'tokenURI is ipfs://x\u001b]0;owned\u0007\nPASS  forged' }],
    })
    assert.equal(text.split('\n')[0], 'FAIL  token URI  tokenURI is ipfs://x\\x1b]0;owned\\x07\\nPASS  forged')
    assert.doesNotMatch(text, /^PASS/m)
  })
})
