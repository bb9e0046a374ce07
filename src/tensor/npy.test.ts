import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { readNpy, writeNpy } from './npy.js'

// Files written by NumPy 2.4 (np.save), as hex.
const header = (dict: string) => {
  const text = `${dict}${' '.repeat(128 - 10 - dict.length - 1)}\n`
  return `934e554d50590100${Buffer.from([text.length & 0xff, text.length >> 8]).toString('hex')}${Buffer.from(text, 'latin1').toString('hex')}`
}
const NUMPY_INT32 = `${header("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }")}010000000200000003000000`
const NUMPY_FLOAT16 = `${header("{'descr': '<f2', 'fortran_order': False, 'shape': (1, 2), }")}003e00c0`
const NUMPY_BOOL_SCALAR = `${header("{'descr': '|b1', 'fortran_order': False, 'shape': (), }")}01`
const NUMPY_UNICODE = `${header("{'descr': '<U5', 'fortran_order': False, 'shape': (2,), }")}${'61000000'}${'00'.repeat(16)}${'68000000e90000006c0000006c0000006f000000'}`

describe('.npy files', () => {
  it('reads files NumPy wrote', () => {
    const ints = readNpy(Buffer.from(NUMPY_INT32, 'hex'), 'a.npy')
    assert.equal(ints.type, 'int32')
    assert.deepEqual(ints.dims, [3])
    assert.deepEqual([...(ints.data as Int32Array)], [1, 2, 3])
    const halves = readNpy(Buffer.from(NUMPY_FLOAT16, 'hex'), 'h.npy')
    assert.equal(halves.type, 'float16')
    assert.deepEqual([...(halves.data as Uint16Array)], [0x3e00, 0xc000]) // 1.5, -2
    const flag = readNpy(Buffer.from(NUMPY_BOOL_SCALAR, 'hex'), 'b.npy')
    assert.deepEqual([flag.type, flag.dims, [...(flag.data as Uint8Array)]], ['bool', [], [1]])
    const strings = readNpy(Buffer.from(NUMPY_UNICODE, 'hex'), 's.npy')
    assert.deepEqual([strings.type, strings.data], ['string', ['a', 'héllo']])
  })

  it('writes byte for byte what NumPy writes', () => {
    assert.equal(
      Buffer.from(writeNpy({ type: 'int32', dims: [3], data: new Int32Array([1, 2, 3]) })).toString('hex'),
      NUMPY_INT32,
    )
    assert.equal(
      Buffer.from(writeNpy({ type: 'float16', dims: [1, 2], data: new Uint16Array([0x3e00, 0xc000]) })).toString('hex'),
      NUMPY_FLOAT16,
    )
    assert.equal(Buffer.from(writeNpy({ type: 'bool', dims: [], data: new Uint8Array([1]) })).toString('hex'), NUMPY_BOOL_SCALAR)
    assert.equal(Buffer.from(writeNpy({ type: 'string', dims: [2], data: ['a', 'héllo'] })).toString('hex'), NUMPY_UNICODE)
  })

  it('reads big-endian data by swapping bytes', () => {
    const bigEndian = `${header("{'descr': '>i4', 'fortran_order': False, 'shape': (3,), }")}000000010000000200000003`
    assert.deepEqual([...(readNpy(Buffer.from(bigEndian, 'hex'), 'be.npy').data as Int32Array)], [1, 2, 3])
  })

  it('refuses Fortran order, object arrays, bad magic and wrong lengths', () => {
    const fortran = Buffer.from(
      `${header("{'descr': '<i4', 'fortran_order': True, 'shape': (3,), }")}010000000200000003000000`,
      'hex',
    )
    assert.throws(() => readNpy(fortran, 'f.npy'), {
      message:
        'f.npy is not a usable .npy file: Fortran (column-major) order is not supported; save it with np.ascontiguousarray first',
    })
    const object = Buffer.from(`${header("{'descr': '|O', 'fortran_order': False, 'shape': (3,), }")}00`, 'hex')
    assert.throws(() => readNpy(object, 'o.npy'), /dtype '\|O' is not supported/)
    assert.throws(() => readNpy(Buffer.from('{"x": 1}'), 'j.npy'), /j\.npy is not a usable \.npy file: it does not start with/)
    assert.throws(
      () => readNpy(Buffer.from(NUMPY_INT32, 'hex').subarray(0, -1), 't.npy'),
      /data is 11 bytes, shape \(3\) of <i4 needs 12/,
    )
  })

  it('parses the header as the Python literal it is: duplicate keys, extra keys and strings cannot fool it', () => {
    const npy = (dict: string) => Buffer.from(`${header(dict)}010000000200000003000000`, 'hex')
    // A string value that contains "'fortran_order': False" (a regular expression took it for the key).
    const sneaky = npy("{'descr': '<i4', 'x': \"'fortran_order': False\", 'fortran_order': True, 'shape': (3,), }")
    assert.throws(
      () => readNpy(sneaky, 's.npy'),
      /must hold exactly 'descr', 'fortran_order' and 'shape' \(it holds: descr, fortran_order, shape, x\)/,
    )
    const twice = npy("{'descr': '<i4', 'fortran_order': False, 'fortran_order': True, 'shape': (3,), }")
    assert.throws(() => readNpy(twice, 'd.npy'), /duplicate key 'fortran_order'/)
    assert.throws(
      () => readNpy(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (3), }"), 'p.npy'),
      /'shape' is not a tuple/,
    )
    assert.throws(() => readNpy(npy("{'descr': '<i4', 'fortran_order': 0, 'shape': (3,), }"), 'z.npy'), /not True or False/)
    assert.throws(() => readNpy(npy("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (3,), }"), 'r.npy'), /structured/)
    assert.throws(
      () => readNpy(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), } x"), 't.npy'),
      /text after the dict/,
    )
    // Double quotes, no trailing comma, the other key order: still the same literal.
    const plain = readNpy(npy('{"shape": (3,), "fortran_order": False, "descr": "<i4"}'), 'q.npy')
    assert.deepEqual([...(plain.data as Int32Array)], [1, 2, 3])
  })
})
