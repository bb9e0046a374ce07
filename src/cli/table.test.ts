import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { renderFields, renderTable } from './table.js'

describe('renderTable', () => {
  it('pads columns to the widest cell, right-aligns where asked, trims line ends', () => {
    const text = renderTable(
      [
        ['1', '0.5 ETH', 'a'],
        ['12', '1.25 ETH', ''],
      ],
      { header: ['snapshot', 'amount', 'note'], align: ['right', 'right'] },
    )
    assert.equal(text, ['  snapshot    amount  note', '         1   0.5 ETH  a', '        12  1.25 ETH'].join('\n'))
  })
  it('escapes control and bidi characters in cells (one cell, one line), and handles ragged rows', () => {
    const text = renderTable([['\u001b[31mred\u001b[39m', 'x'], ['a\nb\u202e', 'y'], ['yellow']], { indent: '' })
    assert.equal(text, '\\x1b[31mred\\x1b[39m  x\na\\nb\\u202e           y\nyellow')
  })
  it('renders nothing for no rows', () => {
    assert.equal(renderTable([]), '')
  })
})

describe('renderFields', () => {
  it('aligns values and drops undefined ones', () => {
    assert.equal(
      renderFields([
        ['supply', '1000 PAT'],
        ['path', undefined],
        ['holders', '3'],
      ]),
      '  supply   1000 PAT\n  holders  3',
    )
  })
})
