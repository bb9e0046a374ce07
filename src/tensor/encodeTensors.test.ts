import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { decodeTensors } from './decodeTensors.js'
import type { TensorSet } from './dtypes.js'
import { compareUtf8, encodeTensors, tensorHash } from './encodeTensors.js'

// Golden vector: every tensor kind docs/formats.md section 2 names, bytes written out by hand from the spec.
const GOLDEN_SET: TensorSet = {
  x: { type: 'float32', dims: [2], data: new Float32Array([1, -0.5]) },
  n: { type: 'int64', dims: [], data: new BigInt64Array([-2n]) }, // rank 0
  b: { type: 'bool', dims: [3], data: new Uint8Array([1, 0, 1]) },
  s: { type: 'string', dims: [2], data: ['a', 'é'] },
  h: { type: 'float16', dims: [1], data: new Uint16Array([0x3c00]) }, // 1.0
  e: { type: 'float32', dims: [0, 3], data: new Float32Array(0) }, // empty
}
const GOLDEN_HEX = [
  '494d5431 06000000', // "IMT1", count 6; then sorted by name: b, e, h, n, s, x
  '01000000 62 09 01000000 0300000000000000 0300000000000000 010001',
  '01000000 65 01 02000000 0000000000000000 0300000000000000 0000000000000000',
  '01000000 68 0a 01000000 0100000000000000 0200000000000000 003c',
  '01000000 6e 07 00000000 0800000000000000 feffffffffffffff',
  '01000000 73 08 01000000 0200000000000000 0b00000000000000 01000000 61 02000000 c3a9',
  '01000000 78 01 01000000 0200000000000000 0800000000000000 0000803f 000000bf',
]
  .join('')
  .replaceAll(' ', '')
// sha256 of the bytes above, computed with Python's hashlib.
const GOLDEN_HASH = '0x7c24aab395ecc09a3e6bdde00c6b5354a4fa91bd99ade3f8499d1d6f6dc8650c'

describe('imo-tensor-v1 encoding', () => {
  it('encodes the golden set to the exact bytes and hash', () => {
    const bytes = encodeTensors(GOLDEN_SET)
    assert.equal(Buffer.from(bytes).toString('hex'), GOLDEN_HEX)
    assert.equal(tensorHash(GOLDEN_SET), GOLDEN_HASH)
    assert.equal(tensorHash(bytes), `0x${createHash('sha256').update(Buffer.from(GOLDEN_HEX, 'hex')).digest('hex')}`)
  })

  it('encodes the empty set as IMT1 + zero count', () => {
    assert.equal(Buffer.from(encodeTensors({})).toString('hex'), '494d543100000000')
    assert.equal(tensorHash({}), '0x17b5dbf5309fe692a2d83fb4166d4821604f50b3a1296ebc8f7befc58ba24ea8')
  })

  it('decodes back to equal tensors that re-encode to the same bytes', () => {
    const decoded = decodeTensors(Buffer.from(GOLDEN_HEX, 'hex'))
    assert.deepEqual(Object.keys(decoded).sort(), ['b', 'e', 'h', 'n', 's', 'x'])
    assert.deepEqual(decoded.s, GOLDEN_SET.s)
    assert.deepEqual([...(decoded.n!.data as BigInt64Array)], [-2n])
    assert.deepEqual(decoded.n!.dims, [])
    assert.deepEqual(decoded.e!.dims, [0, 3])
    assert.equal(decoded.h!.type, 'float16')
    assert.equal(Buffer.from(encodeTensors(decoded)).toString('hex'), GOLDEN_HEX)
  })

  it('sorts names by UTF-8 bytes, not UTF-16 code units', () => {
    // U+FF5E sorts after U+1F600 in UTF-16 (0xFF5E > 0xD83D) but before it in UTF-8 (EF < F0).
    const set: TensorSet = {
      '\u{1F600}': { type: 'uint8', dims: [1], data: new Uint8Array([1]) },
      '\uFF5E': { type: 'uint8', dims: [1], data: new Uint8Array([2]) },
    }
    const bytes = Buffer.from(encodeTensors(set))
    assert.ok(bytes.indexOf(Buffer.from('\uFF5E')) < bytes.indexOf(Buffer.from('\u{1F600}')))
    assert.deepEqual(['\u{1F600}', '\uFF5E'].sort(compareUtf8), ['\uFF5E', '\u{1F600}'])
  })

  it('keeps NaN payloads and the sign of zero as the runtime holds them', () => {
    const data = new Float32Array(new Uint32Array([0x7fc00001, 0xffc00000, 0x80000000]).buffer)
    const bytes = encodeTensors({ v: { type: 'float32', dims: [3], data } })
    assert.equal(Buffer.from(bytes).subarray(-12).toString('hex'), '0100c07f0000c0ff00000080')
  })

  it('refuses data whose length does not fit the dims', () => {
    assert.throws(() => encodeTensors({ v: { type: 'float32', dims: [2, 2], data: new Float32Array(3) } }), {
      message: 'tensor "v" has 3 values but dims [2, 2] need 4',
    })
  })

  it('rejects malformed encodings with one-line reasons', () => {
    const good = Buffer.from(GOLDEN_HEX, 'hex')
    assert.throws(
      () => decodeTensors(Buffer.from('IMT2\0\0\0\0'), 'x.imt'),
      /x\.imt is not valid imo-tensor-v1: it does not start with IMT1/,
    )
    assert.throws(() => decodeTensors(Buffer.concat([good, Buffer.from([0])])), /trailing bytes/)
    assert.throws(() => decodeTensors(good.subarray(0, good.length - 1)), /truncated/)
    const unsorted = encodeTensors({ a: GOLDEN_SET.x!, b: GOLDEN_SET.b! })
    const swapped = Buffer.from(unsorted)
    swapped[12] = 0x63 // rename "a" to "c", now after "b"
    assert.throws(() => decodeTensors(swapped), /names are not sorted and unique/)
    const badCode = Buffer.from(good)
    badCode[13] = 99 // first tensor's dtype code
    assert.throws(() => decodeTensors(badCode), /unknown data type code 99/)
    const badBool = Buffer.from(good)
    badBool[34] = 2 // first data byte of "b"
    assert.throws(() => decodeTensors(badBool), /a bool element is not 0 or 1/)
  })
})
