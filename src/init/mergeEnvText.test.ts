import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parse } from 'dotenv'
import { formatEnvValue, mergeEnvText } from './mergeEnvText.js'

describe('mergeEnvText', () => {
  it('replaces in place, keeps other lines, drops removed variables, appends new ones', () => {
    const existing = '# mine\nexport IMO_RPC_URL=http://old\nOTHER=1\nIMO_PRIVATE_KEY=0xabc\n\nIMO_RPC_URL=http://dup\n'
    const merged = mergeEnvText(existing, { IMO_RPC_URL: 'http://new', IMO_KEYSTORE: '.imo/keystores/a.json' }, [
      'IMO_PRIVATE_KEY',
    ])
    assert.equal(merged.text, '# mine\nIMO_RPC_URL=http://new\nOTHER=1\n\nIMO_KEYSTORE=.imo/keystores/a.json\n')
    assert.deepEqual(merged.replaced, ['IMO_RPC_URL'])
    assert.deepEqual(merged.added, ['IMO_KEYSTORE'])
    assert.deepEqual(merged.removed, ['IMO_PRIVATE_KEY'])
  })
  it('starts a new file with the header as comments', () => {
    assert.equal(mergeEnvText(undefined, { A: 'b' }, [], ['hello']).text, '# hello\nA=b\n')
    assert.equal(mergeEnvText('', { A: 'b' }, [], ['hello']).text, 'A=b\n')
  })
  it('quotes values dotenv would misread, and dotenv reads them back exactly', () => {
    for (const value of ['http://h:8545/v2/key?x=1&y=2', '/path with spaces/k.json', 'a#b', 'q"uote', "it's \\", 'it\'s "x"']) {
      const text = mergeEnvText(undefined, { V: value }, []).text
      assert.equal(parse(text).V, value, `${value} -> ${formatEnvValue(value)}`)
    }
  })
  it('refuses values dotenv cannot hold', () => {
    assert.throws(() => formatEnvValue('a\nb'), /cannot contain a line break/)
    assert.throws(() => formatEnvValue('a\'b"c`d'), /cannot contain all of/)
  })
})
