import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { memorySource, ProtoReader, ProtoWriter, WireType } from './wire.js'

describe('protobuf wire format', () => {
  it('encodes varints as protobuf does (golden bytes)', () => {
    const hex = (w: ProtoWriter) => Buffer.from(w.finish()).toString('hex')
    assert.equal(hex(new ProtoWriter().int(1, 0)), '0800')
    assert.equal(hex(new ProtoWriter().int(1, 150)), '089601')
    assert.equal(hex(new ProtoWriter().int(1, -1)), '08ffffffffffffffffff01')
    assert.equal(hex(new ProtoWriter().int(2, 2 ** 32)), '108080808010')
    assert.equal(hex(new ProtoWriter().string(3, 'hé')), '1a0368c3a9')
    assert.equal(hex(new ProtoWriter().float(4, 1.5)), '250000c03f')
  })

  it('reads back what it writes, through a window smaller than the message', () => {
    const values: (number | bigint)[] = [0, 1, 127, 128, 300, 2 ** 31, 2 ** 53 - 1, -1, -(2 ** 40), 2n ** 63n - 1n, -(2n ** 63n)]
    const w = new ProtoWriter()
    for (const v of values) w.int(1, v)
    const big = new Uint8Array(100_000).fill(7)
    w.bytes(2, big).string(3, 'end').float(5, -2.25)
    const bytes = w.finish()
    const r = new ProtoReader(memorySource(bytes), 16)
    const ints: (number | bigint)[] = []
    let text = ''
    let float = 0
    for (let key = r.next(r.size); key; key = r.next(r.size)) {
      if (key.field === 1) ints.push(r.int64())
      else if (key.field === 2) r.skip(key.wireType, r.size)
      else if (key.field === 3) text = r.string(r.size)
      else if (key.field === 5) float = r.float(r.size)
    }
    assert.deepEqual(ints, values)
    assert.equal(text, 'end')
    assert.equal(float, -2.25)
  })

  it('reads packed and unpacked repeated integers alike', () => {
    const packed = new ProtoWriter().bytes(1, Uint8Array.from([1, 0x96, 0x01, 3])).finish()
    const unpacked = new ProtoWriter().int(1, 1).int(1, 150).int(1, 3).finish()
    for (const bytes of [packed, unpacked]) {
      const r = new ProtoReader(memorySource(bytes))
      const out: (number | bigint)[] = []
      for (let key = r.next(r.size); key; key = r.next(r.size)) r.repeatedInt64(key.wireType, r.size, (v) => out.push(v))
      assert.deepEqual(out, [1, 150, 3])
    }
  })

  it('rejects bad wire types, field 0, over-long varints and lengths past the end', () => {
    const read = (bytes: number[]) => {
      const r = new ProtoReader(memorySource(Uint8Array.from(bytes)))
      for (let key = r.next(r.size); key; key = r.next(r.size)) r.skip(key.wireType, r.size)
    }
    assert.throws(() => read([0x0b]), /invalid wire type 3 at byte 0/)
    assert.throws(() => read([0x0c]), /invalid wire type 4 at byte 0/)
    assert.throws(() => read([0x00, 0x01]), /invalid field number 0 at byte 0/)
    assert.throws(() => read([0x08, ...Array(11).fill(0xff)]), /varint longer than 10 bytes/)
    assert.throws(() => read([0x12, 0x05, 1, 2]), /truncated protobuf: length 5 at byte 1 runs past the end/)
    assert.throws(() => read([0x08]), /truncated protobuf at byte 1/)
    assert.equal(WireType.Fixed32, 5)
  })
})
