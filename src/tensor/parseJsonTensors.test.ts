import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { float16Bits, float16Value } from './float16.js'
import { parseJsonTensors } from './parseJsonTensors.js'
import { tensorToJson } from './tensorToJson.js'
import { toTensorValue } from './toTensorValue.js'

const one = (type: string, data: unknown, dims: number[] = [Array.isArray(data) ? data.length : 1]) =>
  toTensorValue('v', { type, dims, data }, 'in.json')

describe('JSON tensors', () => {
  it('parses every type into the runtime representation', () => {
    const set = parseJsonTensors(
      JSON.stringify({
        f: {
          type: 'float32',
          dims: [2, 2],
          data: [
            [1, 2],
            [3, 'NaN'],
          ],
        },
        d: { type: 'float64', dims: [1], data: [0.1] },
        i: { type: 'int64', dims: [2], data: ['9223372036854775807', -5] },
        u: { type: 'uint64', dims: [1], data: ['18446744073709551615'] },
        b: { type: 'bool', dims: [3], data: [true, false, 1] },
        s: { type: 'string', dims: [1], data: ['héllo'] },
        h: { type: 'float16', dims: [2], data: [1, -2] },
        r: { type: 'int32', dims: [], data: 7 },
      }),
      'in.json',
    )
    assert.ok(set.f!.data instanceof Float32Array && Number.isNaN(set.f!.data[3]))
    assert.deepEqual(set.f!.dims, [2, 2])
    assert.equal((set.d!.data as Float64Array)[0], 0.1)
    assert.deepEqual([...(set.i!.data as BigInt64Array)], [9223372036854775807n, -5n])
    assert.deepEqual([...(set.u!.data as BigUint64Array)], [18446744073709551615n])
    assert.deepEqual([...(set.b!.data as Uint8Array)], [1, 0, 1])
    assert.deepEqual(set.s!.data, ['héllo'])
    assert.deepEqual([...(set.h!.data as Uint16Array)], [0x3c00, 0xc000])
    assert.deepEqual(set.r!.dims, [])
  })

  it('rejects values out of range or of the wrong kind, naming tensor, index and value', () => {
    assert.throws(() => one('uint8', [1, 300]), {
      message: 'in.json: tensor "v", value 1 (300) is out of range for uint8 (0..255)',
    })
    assert.throws(() => one('int32', [1.5]), {
      message: 'in.json: tensor "v", value 0 (1.5) is not a whole number, as int32 needs',
    })
    assert.throws(() => one('int8', [-129]), /out of range for int8 \(-128\.\.127\)/)
    assert.throws(() => one('uint64', ['-1']), /out of range for uint64/)
    assert.throws(() => one('int64', ['9223372036854775808']), /out of range for int64/)
    assert.throws(() => one('int64', [2 ** 60]), /cannot be held exactly by a JSON number; give it as a string/)
    assert.throws(() => one('float32', [1e39]), /\(1e\+39\) is out of range for float32/)
    assert.throws(() => one('float16', [70000]), /out of range for float16/)
    assert.throws(() => one('bool', [2]), /is not a bool/)
    assert.throws(() => one('string', [5]), /\(5\) is not a string/)
    assert.throws(() => one('float32', ['1.5']), /\("1\.5"\) is not a number/)
    assert.throws(() => one('complex64', [1]), /has type "complex64"; expected one of float32, uint8/)
    assert.throws(() => one('float32', [1, 2], [3]), { message: 'in.json: tensor "v" has 2 values but dims [3] need 3' })
    assert.throws(() => one('float32', [1], [-1]), /each must be a whole number >= 0/)
  })

  it('rejects malformed JSON and documents that are not tensor objects', () => {
    assert.throws(() => parseJsonTensors('{"x": ', 'in.json'), /^UsageError: in\.json is not valid JSON: /)
    assert.throws(() => parseJsonTensors('nope\n', 'in.json'), {
      message: "in.json is not valid JSON: Unexpected token 'o'",
    })
    assert.throws(() => parseJsonTensors('[1]', 'in.json'), /in\.json must hold a JSON object of tensors by name/)
    assert.throws(() => parseJsonTensors('{"x": 5}', 'in.json'), /tensor "x" must be an object/)
  })

  it('refuses ragged arrays even when the element count matches the dims', () => {
    const json = (data: unknown, dims: number[]) => JSON.stringify({ x: { type: 'int32', dims, data } })
    assert.throws(
      () =>
        parseJsonTensors(
          json(
            [
              [1, 2],
              [3, 4],
              [5, 6],
            ],
            [2, 3],
          ),
          'in.json',
        ),
      {
        message: 'in.json: tensor "x" is ragged: data has 3 entries where dims [2, 3] need 2',
      },
    )
    assert.throws(
      () =>
        parseJsonTensors(
          json(
            [
              [1, 2, 3],
              [4, [5, 6]],
            ],
            [2, 3],
          ),
          'in.json',
        ),
      /is ragged: data\[1\] has 2 entries/,
    )
    assert.throws(
      () =>
        parseJsonTensors(
          json(
            [
              [1, 2, 3],
              [4, 5, [6]],
            ],
            [2, 3],
          ),
          'in.json',
        ),
      /data\[1\]\[2\] is a list, deeper/,
    )
    assert.throws(() => parseJsonTensors(json([1, [2], 3], [3]), 'in.json'), /data\[1\] is a list/)
    // Nesting deeper than the shape is refused at the first level too deep, without recursing; nesting
    // deeper than any imo format is refused by the JSON reader before it parses (util/parseJson.ts).
    const deep = (n: number) => `{"x": {"type": "int32", "dims": [1], "data": [${'['.repeat(n)}1${']'.repeat(n)}]}}`
    assert.throws(() => parseJsonTensors(deep(20), 'in.json'), /data\[0\] is a list, deeper than dims \[1\]/)
    assert.throws(() => parseJsonTensors(deep(1000), 'in.json'), /in\.json nests deeper than 64 levels/)
    assert.throws(() => parseJsonTensors(deep(200_000), 'in.json'), /in\.json nests deeper than 64 levels/)
    // Flat data and exactly nested data are both fine.
    assert.deepEqual(
      [...(parseJsonTensors(json([1, 2, 3, 4, 5, 6], [2, 3]), 'in.json').x!.data as Int32Array)],
      [1, 2, 3, 4, 5, 6],
    )
    assert.deepEqual(
      [
        ...(parseJsonTensors(
          json(
            [
              [1, 2, 3],
              [4, 5, 6],
            ],
            [2, 3],
          ),
          'in.json',
        ).x!.data as Int32Array),
      ],
      [1, 2, 3, 4, 5, 6],
    )
  })

  it('refuses numbers beyond float64, lone surrogates and invalid UTF-8', () => {
    assert.throws(() => parseJsonTensors('{"x": {"type": "float64", "dims": [1], "data": [1e400]}}', 'in.json'), {
      message: 'in.json: tensor "x", value 0 is beyond the range of a 64-bit float (such as 1e400)',
    })
    assert.throws(
      () => parseJsonTensors('{"x": {"type": "float32", "dims": [1], "data": [-1e400]}}', 'in.json'),
      /beyond the range/,
    )
    assert.throws(
      () => parseJsonTensors('{"s": {"type": "string", "dims": [1], "data": ["a\\ud800b"]}}', 'in.json'),
      /tensor "s", value 0 holds a lone UTF-16 surrogate/,
    )
    assert.throws(
      () => parseJsonTensors('{"\\udc00": {"type": "string", "dims": [1], "data": ["a"]}}', 'in.json'),
      /lone UTF-16 surrogate/,
    )
    const bytes = Buffer.concat([
      Buffer.from('{"s": {"type": "string", "dims": [1], "data": ["'),
      Buffer.from([0xff]),
      Buffer.from('"]}}'),
    ])
    assert.throws(() => parseJsonTensors(bytes, 'in.json'), { message: 'in.json is not valid UTF-8 text' })
    // A proper pair is fine.
    assert.deepEqual(parseJsonTensors('{"s": {"type": "string", "dims": [1], "data": ["\\ud83d\\ude00"]}}', 'in.json').s!.data, [
      '😀',
    ])
  })

  it('writes JSON that parses back to the same tensors', () => {
    const set = parseJsonTensors(
      JSON.stringify({
        i: { type: 'int64', dims: [1], data: ['-9223372036854775808'] },
        f: { type: 'float32', dims: [2], data: ['Infinity', 0.5] },
      }),
      'in.json',
    )
    const json = { i: tensorToJson(set.i!), f: tensorToJson(set.f!) }
    assert.deepEqual(json.i.data, ['-9223372036854775808'])
    assert.deepEqual(json.f.data, ['Infinity', 0.5])
    assert.deepEqual(parseJsonTensors(JSON.stringify(json), 'again'), set)
  })
})

describe('float16', () => {
  it('rounds like NumPy (values from np.array(v, dtype=np.float16))', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66],
      [65504, 0x7bff],
      [65519.99, 0x7bff],
      [1e-8, 0x0000],
      [6e-8, 0x0001],
      [1 / 3, 0x3555],
      [2 ** -14, 0x0400],
    ]
    for (const [value, bits] of cases) assert.equal(float16Bits(value), bits, `float16(${value})`)
    assert.equal(float16Bits(65520), 0x7c00)
    assert.equal(float16Bits(-0), 0x8000)
    assert.ok(Number.isNaN(float16Value(float16Bits(Number.NaN))))
    for (let bits = 0; bits < 0x7c00; bits += 7) assert.equal(float16Bits(float16Value(bits)), bits)
  })
})
