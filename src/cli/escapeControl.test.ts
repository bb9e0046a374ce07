import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { escapeControl, quoteText } from './escapeControl.js'

/** Every character that must never reach the terminal raw from a value. */
const HOSTILE = [
  ...Array.from({ length: 0x20 }, (_, c) => String.fromCharCode(c)),
  '\u007f',
  ...Array.from({ length: 0x20 }, (_, c) => String.fromCharCode(0x80 + c)),
  '\u061c',
  '\u200e',
  '\u200f',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u2028',
  '\u2029',
]

describe('escapeControl', () => {
  it('escapes C0 (NUL, BEL, BS, TAB, LF, CR, ESC), DEL, C1 (CSI 0x9b) and bidi controls as visible text', () => {
    for (const char of HOSTILE) {
      const out = escapeControl(`a${char}b`)
      assert.match(out, /^a\\(x[0-9a-f]{2}|u[0-9a-f]{4}|[nrt])b$/, JSON.stringify(char))
    }
    assert.equal(
      escapeControl('x\u001b]0;owned\u0007\r\b\u0000\u009b2J\u202eevil\nerror: forged'),
      'x\\x1b]0;owned\\x07\\r\\x08\\x00\\x9b2J\\u202eevil\\nerror: forged',
    )
  })

  it('leaves printable text alone, including non-Latin scripts and emoji', () => {
    const text = 'a red spiral — Spirale «rouge» 红色螺旋 שלום 🌀 \\x1b as typed'
    assert.equal(escapeControl(text), text)
  })

  it('keeps line feeds and only the colour sequences imo uses, when asked (a whole output of its own)', () => {
    const own = 'line one\n\u001b[32m✔\u001b[39m \u001b[2mdim\u001b[22m'
    assert.equal(escapeControl(own, { keepNewlines: true, keepColour: true }), own)
    // conceal, cursor moves, screen clears, title and 256-colour sequences stay escaped
    assert.equal(
      escapeControl('\u001b[8mhidden\u001b[2J\u001b[1A\u001b]0;t\u0007\u001b[38;5;1m\r', {
        keepNewlines: true,
        keepColour: true,
      }),
      '\\x1b[8mhidden\\x1b[2J\\x1b[1A\\x1b]0;t\\x07\\x1b[38;5;1m\\r',
    )
    assert.equal(escapeControl('\u001b[31mred\u001b[39m\n', { keepNewlines: true }), '\\x1b[31mred\\x1b[39m\n')
  })
})

describe('quoteText', () => {
  it('shortens, escapes and quotes a value', () => {
    assert.equal(quoteText('a\u001b[2Jb'), '"a\\x1b[2Jb"')
    assert.equal(quoteText('x'.repeat(50), 40), `"${'x'.repeat(39)}…"`)
  })
})
