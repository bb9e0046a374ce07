import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { hashField, packBytes, promptField, promptLatent, publicSignals, unpackBytes } from './publicSignals.js'
import { bmpPrefix, paletteColours, payloadOrder, zkImageBytes } from './zkImage.js'

const utf8 = (s: string) => new TextEncoder().encode(s)

describe('zk public signals (docs/formats.md section 11)', () => {
  it('prompt field and latent: the first 31 bytes and the first L bytes (int8) of keccak256(prompt)', () => {
    // keccak256("") = c5d24601 86f7233c … 045d85a470 (the well-known empty-input digest)
    assert.equal(promptField(new Uint8Array()), 0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a4n)
    assert.deepEqual(promptLatent(new Uint8Array(), 4), [-59, -46, 70, 1])
    // keccak256("abc") = 4e03657a ea45a94f …
    assert.deepEqual(promptLatent(utf8('abc'), 3), [78, 3, 101])
    assert.equal(hashField(`0x${'ff'.repeat(31)}00`), 2n ** 248n - 1n)
  })

  it('packs 31 bytes per field element, big-endian, and unpacks them', () => {
    const payload = Uint8Array.from({ length: 70 }, (_, i) => i + 1)
    const fields = packBytes(payload)
    assert.equal(fields.length, 3)
    assert.equal(fields[0], 0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1fn)
    assert.equal(fields[2], 0x3f40414243444546n)
    assert.ok(fields.every((f) => f < 2n ** 248n))
    assert.deepEqual(unpackBytes(fields, 70), payload)
    assert.throws(() => unpackBytes([2n ** 248n], 31), /does not fit 31 bytes/)
  })

  it('orders the signals as the circuit does: outputs, model, prompt, recipient', () => {
    const signals = publicSignals({
      modelHash: `0x${'ab'.repeat(32)}`,
      prompt: utf8('abc'),
      payload: Uint8Array.of(1, 2),
      recipient: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    })
    assert.deepEqual(signals, [
      258n,
      BigInt(`0x${'ab'.repeat(31)}`),
      promptField(utf8('abc')),
      0x70997970c51812dc3a010c7d01b50e0d17dc79c8n,
    ])
  })
})

describe('zk-image BMP (docs/formats.md section 11)', () => {
  it('writes a top-down 8-bit palette BMP whose prefix is fixed and whose pixels are the output bytes', () => {
    const layout = { channels: 1, height: 2, width: 4 } as const
    const palette = ['#000000', '#ff8000']
    const bmp = zkImageBytes(layout, palette, [0, 1, 2, 3, 255, 254, 253, 128])
    const view = Buffer.from(bmp)
    assert.equal(view.toString('latin1', 0, 2), 'BM')
    assert.equal(view.readUInt32LE(2), 1078 + 8)
    assert.equal(view.readUInt32LE(10), 1078)
    assert.equal(view.readInt32LE(18), 4)
    assert.equal(view.readInt32LE(22), -2)
    assert.equal(view.readUInt16LE(28), 8)
    assert.equal(view.readUInt32LE(46), 256)
    // entry 255 is the last key colour, stored blue, green, red, 0
    assert.deepEqual([...view.subarray(54 + 255 * 4, 54 + 256 * 4)], [0x00, 0x80, 0xff, 0])
    assert.deepEqual([...bmp.subarray(1078)], [0, 1, 2, 3, 255, 254, 253, 128])
    assert.deepEqual(bmp.subarray(0, 1078), bmpPrefix(layout, palette))
    assert.equal(
      createHash('sha256').update(bmp).digest('hex'),
      '5a70ac824b664fcbed43f9c43108e048288de5e7d6e045446d23c85477816828',
    )
  })

  it('lays three channels out as blue, green, red per pixel', () => {
    assert.deepEqual(payloadOrder({ channels: 3, height: 1, width: 4 }), [8, 4, 0, 9, 5, 1, 10, 6, 2, 11, 7, 3])
    assert.equal(bmpPrefix({ channels: 3, height: 1, width: 4 }).length, 54)
  })

  it('interpolates the palette in integers between evenly spread key colours', () => {
    const colours = paletteColours(['#000000', '#ffffff', '#000000'])
    assert.deepEqual(colours[0], [0, 0, 0])
    assert.deepEqual(colours[255], [0, 0, 0])
    assert.deepEqual(colours[127], [254, 254, 254])
    assert.throws(() => paletteColours(['#000000']), /2 to 256 key colours/)
    assert.throws(() => paletteColours(['#000000', 'red']), /"red" is not "#rrggbb"/)
  })
})
