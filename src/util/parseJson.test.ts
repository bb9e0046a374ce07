import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseJson } from './parseJson.js'

describe('parseJson', () => {
  it('parses JSON, brackets inside strings do not count as nesting', () => {
    assert.deepEqual(parseJson('{"a": ["[[[{{{", "\\\\\\"["], "b": 1}', 'x.json', { maxDepth: 2 }), {
      a: ['[[[{{{', '\\"['],
      b: 1,
    })
  })
  it('refuses deep nesting with a one-line UsageError instead of a stack overflow later', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`
    assert.throws(() => parseJson(deep, 'deep.json'), {
      name: 'UsageError',
      message: 'deep.json nests deeper than 64 levels',
    })
    assert.throws(() => parseJson(`{"x":${deep}}`, 'mint.json', { expected: 'a mint record' }), {
      message: 'mint.json nests deeper than 64 levels, so not a mint record',
    })
  })
  it('refuses text over the size limit, and text that is not JSON', () => {
    assert.throws(() => parseJson('[1, 2, 3]', 'big.json', { maxLength: 4 }), {
      message: 'big.json is too large (9 characters, at most 4)',
    })
    assert.throws(() => parseJson('{"x": ', 'in.json'), { name: 'UsageError', message: /^in\.json is not valid JSON: / })
  })
})
