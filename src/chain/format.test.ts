import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatGwei, formatNative, parseAmount, parseGwei } from './format.js'

describe('parseAmount', () => {
  it('refuses an amount that does not fit in a uint256 (exit 2, not an encoding crash)', () => {
    assert.throws(() => parseAmount('1'.repeat(80), { name: 'AMOUNT' }), {
      name: 'UsageError',
      message: `AMOUNT is too large: "${'1'.repeat(80)}" does not fit in a uint256 of base units`,
    })
  })
  it('parses decimal native amounts into wei', () => {
    assert.equal(parseAmount('1.5'), 1_500_000_000_000_000_000n)
    assert.equal(parseAmount('0.000000000000000001'), 1n)
    assert.equal(parseAmount('3'), 3n * 10n ** 18n)
    assert.equal(parseAmount('.5'), 5n * 10n ** 17n)
    assert.equal(parseAmount('0', { allowZero: true }), 0n)
  })
  it('rejects negative, zero, malformed and over-precise amounts with one-line errors', () => {
    assert.throws(() => parseAmount('-1', { name: 'AMOUNT' }), { message: 'AMOUNT must be positive, not "-1"' })
    assert.throws(() => parseAmount('0', { name: 'AMOUNT' }), { message: 'AMOUNT must be greater than zero' })
    assert.throws(() => parseAmount('1e18', { name: 'AMOUNT' }), {
      message: 'AMOUNT must be a decimal number like 1.5, not "1e18"',
    })
    assert.throws(() => parseAmount('abc'), /must be a decimal number/)
    assert.throws(() => parseAmount('.'), /must be a decimal number/)
    assert.throws(() => parseAmount('0.0000000000000000001'), /more than 18 decimals/)
  })
  it('parses gwei', () => {
    assert.equal(parseGwei('1.5', '--max-fee-per-gas'), 1_500_000_000n)
  })
})

describe('formatNative', () => {
  it('trims trailing zeros and names the symbol', () => {
    assert.equal(formatNative(1_500_000_000_000_000_000n), '1.5 ETH')
    assert.equal(formatNative(1n, 'POL'), '0.000000000000000001 POL')
    assert.equal(formatNative(0n), '0 ETH')
    assert.equal(formatGwei(1_500_000_000n), '1.5 gwei')
  })
})
