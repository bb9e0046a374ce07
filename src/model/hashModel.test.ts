import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import ort from 'onnxruntime-node'
import { writeFolder, writeOnnxModel, writeOnnxWithLocation, writeSingleFile } from '../../test/helpers/modelFixtures.js'
import { UsageError } from '../errors.js'
import { buildManifest } from './buildManifest.js'
import { hashModel } from './hashModel.js'

const root = mkdtempSync(join(tmpdir(), 'imo-hash-model-'))
after(() => rmSync(root, { recursive: true, force: true }))

/** The manifest as GNU coreutils computes it, in the model's root. */
function sha256sumManifest(cwd: string, paths: string[]): string {
  return `imo-model-v1\n${execFileSync('sha256sum', ['--', ...paths], { cwd, encoding: 'utf8' })}`
}

function sha256sumOf(text: string): string {
  return `0x${execFileSync('sha256sum', { input: text, encoding: 'utf8' }).slice(0, 64)}`
}

describe('hashModel golden vectors (imo-model-v1)', () => {
  it('a single file', async () => {
    const result = await hashModel(writeSingleFile(join(root, 'single')))
    const manifest = 'imo-model-v1\n5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03  hello.txt\n'
    assert.equal(result.manifest, manifest)
    assert.equal(result.modelHash, '0x692bb1cb12ffad02410b720dcd3e0e546a0913f7335f4085421c74f88756be64')
    assert.equal(result.root, join(root, 'single'))
    assert.deepEqual(result.files, [
      { path: 'hello.txt', size: 6, sha256: '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03' },
    ])
    assert.equal(result.onnx, undefined)
    assert.equal(sha256sumManifest(result.root, ['hello.txt']), manifest)
    assert.equal(sha256sumOf(manifest), result.modelHash)
  })

  it('a folder: byte order of paths, dot-files skipped at every level', async () => {
    const folder = writeFolder(join(root, 'f'))
    const result = await hashModel(folder)
    const manifest =
      'imo-model-v1\n' +
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a-b.txt\n' +
      '87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7  a.txt\n' +
      '40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880  a/z.bin\n' +
      '0263829989b6fd954f72baaf2fc64bc2e2f01d692d4de72986ea808f6e99813f  b.txt\n' +
      'a2bbdb2de53523b8099b37013f251546f3d65dbe7a0774fa41af0a4176992fd4  é.txt\n'
    assert.equal(result.manifest, manifest)
    assert.equal(result.modelHash, '0x80ce27b1db8765b904dfdf07e07c5bd604dceb53f14a1babf148db8dc2c98691')
    assert.equal(sha256sumManifest(folder, ['a-b.txt', 'a.txt', 'a/z.bin', 'b.txt', 'é.txt']), manifest)
    assert.equal(sha256sumOf(manifest), result.modelHash)
    assert.deepEqual(
      result.files.map((f) => [f.path, f.size]),
      [
        ['a-b.txt', 0],
        ['a.txt', 2],
        ['a/z.bin', 256],
        ['b.txt', 2],
        ['é.txt', 2],
      ],
    )
  })

  it('a .onnx file with external data in a subfolder and in a node attribute; the folder adds the other files', async () => {
    const { folder, onnx } = writeOnnxModel(join(root, 'o'))
    const fromFile = await hashModel(onnx)
    const manifest =
      'imo-model-v1\n' +
      'd99e58435243d9fef9c88273b8d553b4fba4d0baf8009d29eae74fa99e0d9f57  const.bin\n' +
      'e1ca2e67bd28b8472ff8062ad810fdca1a42b2b771855055528ae86bf7f01d30  model.onnx\n' +
      'ad73b9acd6e4a74b2f5bb5386658ce3bb146cd040a1867646ab3b973fb6632b1  weights/w.bin\n'
    assert.equal(fromFile.manifest, manifest)
    assert.equal(fromFile.modelHash, '0x135ca77fa7249721f2533df887f5619820c9269d3eab30c6caddf565b90656c6')
    assert.equal(fromFile.root, folder)
    assert.equal(sha256sumManifest(folder, ['const.bin', 'model.onnx', 'weights/w.bin']), manifest)
    assert.equal(sha256sumOf(manifest), fromFile.modelHash)
    assert.deepEqual(fromFile.onnx?.inputs, [{ name: 'x', elemType: 1, shape: ['batch', 4] }])
    assert.deepEqual(fromFile.onnx?.externalDataLocations, ['const.bin', 'weights/w.bin'])

    const fromFolder = await hashModel(folder)
    assert.equal(fromFolder.modelHash, '0xd768cfed42dc77052d00adbe88daafb85b467ac5577a6e096c168323c09be82f')
    assert.deepEqual(
      fromFolder.files.map((f) => f.path),
      ['const.bin', 'model.onnx', 'notes.txt', 'weights/w.bin'],
    )
    assert.deepEqual(fromFolder.onnx, fromFile.onnx)

    // The model really is what the manifest covers: onnxruntime loads the external data.
    const session = await ort.InferenceSession.create(onnx)
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 1, 1, 1]), [1, 4]) })
    assert.deepEqual(Array.from(out.y!.data as Float32Array), [1, 1.5, 2, 2.5])
  })

  it('a byte changed in an external-data file changes the model hash', async () => {
    const { onnx, folder } = writeOnnxModel(join(root, 'changed'))
    writeFileSync(join(folder, 'weights', 'w.bin'), new Uint8Array(new Float32Array([1, 2, 3, 5]).buffer))
    const result = await hashModel(onnx)
    assert.notEqual(result.modelHash, '0x135ca77fa7249721f2533df887f5619820c9269d3eab30c6caddf565b90656c6')
  })
})

describe('hashModel in parallel', () => {
  it('gives the same result on the main thread, main thread + workers, one worker, and three workers; progress reaches the total', async () => {
    const folder = join(root, 'parallel')
    mkdirSync(join(folder, 'shards'), { recursive: true })
    const block = Buffer.alloc(1024 * 1024)
    for (let i = 0; i < block.length; i++) block[i] = (i * 2654435761) >>> 24
    const names: string[] = []
    for (let f = 0; f < 6; f++) {
      const size = (2 + f) * block.length + f * 4099
      const data = Buffer.alloc(size)
      for (let at = 0; at < size; at += block.length) {
        block.writeUInt32LE(f * 1000 + at, 0)
        block.copy(data, at)
      }
      const name = `shards/part-${f}.bin`
      writeFileSync(join(folder, name), data)
      names.push(name)
    }
    const inline = await hashModel(folder, { inlineBelow: Number.POSITIVE_INFINITY })
    const seen: [number, number][] = []
    const hybrid = await hashModel(folder, { inlineBelow: 0, onProgress: (d, t) => seen.push([d, t]) })
    const one = await hashModel(folder, { inlineBelow: 0, concurrency: 1 })
    const pool = await hashModel(folder, { inlineBelow: 0, concurrency: 3 })
    assert.deepEqual(hybrid, inline)
    assert.deepEqual(one, inline)
    assert.deepEqual(pool, inline)
    assert.equal(inline.manifest, sha256sumManifest(folder, names))
    const total = inline.files.reduce((sum, f) => sum + f.size, 0)
    assert.deepEqual(seen.at(-1), [total, total])
  })
})

describe('hashModel rejects bad input with one-line usage errors', () => {
  const cases: [string, () => string, RegExp][] = [
    ['a missing path', () => join(root, 'missing'), /^no such file or folder: .*\/missing$/],
    [
      'an empty folder',
      () => {
        mkdirSync(join(root, 'empty'))
        return join(root, 'empty')
      },
      /^empty model folder: .*\/empty \(no files, names starting with '\.' are skipped\)$/,
    ],
    [
      'a folder of dot-files only',
      () => {
        mkdirSync(join(root, 'dots', '.git'), { recursive: true })
        writeFileSync(join(root, 'dots', '.env'), 'x')
        writeFileSync(join(root, 'dots', '.git', 'HEAD'), 'x')
        return join(root, 'dots')
      },
      /^empty model folder: /,
    ],
    [
      'a symlink in a folder',
      () => {
        mkdirSync(join(root, 'link', 'sub'), { recursive: true })
        writeFileSync(join(root, 'link', 'a.bin'), 'a')
        symlinkSync('../a.bin', join(root, 'link', 'sub', 'b.bin'))
        return join(root, 'link')
      },
      /^symlink in the model folder: sub\/b\.bin \(in .*\/link\)$/,
    ],
    [
      'a path with a newline',
      () => {
        mkdirSync(join(root, 'nl'))
        writeFileSync(join(root, 'nl', 'a\nb.bin'), 'a')
        return join(root, 'nl')
      },
      /^path contains a newline: "a\\nb\.bin" in /,
    ],
    [
      'a path with a backslash (sha256sum would escape it)',
      () => {
        mkdirSync(join(root, 'bs'))
        writeFileSync(join(root, 'bs', 'a\\b.bin'), 'a')
        return join(root, 'bs')
      },
      /^path contains a backslash: "a\\\\b\.bin" in /,
    ],
    [
      'external data escaping the folder (../x)',
      () => {
        writeFileSync(join(root, 'outside.bin'), 'x')
        return writeOnnxWithLocation(join(root, 'esc'), 'm.onnx', '../outside.bin')
      },
      /^external data location escapes the model folder: \.\.\/outside\.bin \(in .*m\.onnx\)$/,
    ],
    [
      'external data escaping after normalisation (a/../../x)',
      () => writeOnnxWithLocation(join(root, 'esc2'), 'm.onnx', 'a/../../outside.bin'),
      /^external data location escapes the model folder: a\/\.\.\/\.\.\/outside\.bin/,
    ],
    [
      'an absolute external data location',
      () => writeOnnxWithLocation(join(root, 'abs'), 'm.onnx', '/etc/hostname'),
      /^external data location is absolute: \/etc\/hostname \(in .*m\.onnx\)$/,
    ],
    [
      'external data through a symlinked folder',
      () => {
        mkdirSync(join(root, 'elsewhere'))
        writeFileSync(join(root, 'elsewhere', 'w.bin'), 'x')
        mkdirSync(join(root, 'via'))
        symlinkSync('../elsewhere', join(root, 'via', 'data'))
        return writeOnnxWithLocation(join(root, 'via'), 'm.onnx', 'data/w.bin')
      },
      /^external data location escapes the model folder: data\/w\.bin/,
    ],
    [
      'a missing external data file',
      () => writeOnnxWithLocation(join(root, 'noext'), 'm.onnx', 'weights.bin'),
      /^external data file not found: weights\.bin \(named by .*m\.onnx\)$/,
    ],
    [
      'a missing external data file in a model folder',
      () => {
        writeOnnxWithLocation(join(root, 'noext2'), 'm.onnx', 'weights.bin')
        return join(root, 'noext2')
      },
      /^external data file not found: weights\.bin/,
    ],
    [
      'an empty .onnx file',
      () => {
        mkdirSync(join(root, 'e'))
        writeFileSync(join(root, 'e', 'm.onnx'), '')
        return join(root, 'e', 'm.onnx')
      },
      /^not an ONNX model: .*m\.onnx \(empty file\)$/,
    ],
    [
      'a truncated .onnx file',
      () => {
        const { onnx } = writeOnnxModel(join(root, 't'))
        const bytes = execFileSync('head', ['-c', '100', onnx])
        writeFileSync(onnx, bytes)
        return onnx
      },
      /^not an ONNX model: .*model\.onnx \(truncated protobuf/,
    ],
    [
      'random bytes in a .onnx file',
      () => {
        mkdirSync(join(root, 'r'))
        writeFileSync(
          join(root, 'r', 'm.onnx'),
          Buffer.from('8f3a9c01d2e4ff77aa0b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9001', 'hex'),
        )
        return join(root, 'r', 'm.onnx')
      },
      /^not an ONNX model: .*m\.onnx \(/,
    ],
    [
      'a folder whose only .onnx is not ONNX',
      () => {
        mkdirSync(join(root, 'fo'))
        writeFileSync(join(root, 'fo', 'model.onnx'), 'not protobuf at all')
        return join(root, 'fo')
      },
      /^not an ONNX model: .*fo\/model\.onnx \(/,
    ],
  ]
  for (const [what, make, message] of cases) {
    it(what, async () => {
      const path = make()
      await assert.rejects(hashModel(path), (error: unknown) => {
        assert.ok(error instanceof UsageError, String(error))
        assert.equal(error.exitCode, 2)
        assert.match(error.shortMessage, message)
        assert.doesNotMatch(error.shortMessage, /\n/)
        return true
      })
    })
  }
})

describe('buildManifest', () => {
  it('sorts by UTF-8 bytes, not UTF-16 code units, and rejects duplicates and bad digests', () => {
    const d = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    // JavaScript's default order puts U+1F600 (surrogate 0xD83D) before U+FF5E; by UTF-8 bytes EF BD 9E < F0 9F 98 80.
    const { manifest } = buildManifest([
      { path: '\u{1F600}', sha256: d },
      { path: '\uFF5E', sha256: d },
      { path: 'Z', sha256: d },
    ])
    assert.equal(manifest, `imo-model-v1\n${d}  Z\n${d}  \uFF5E\n${d}  \u{1F600}\n`)
    assert.throws(
      () =>
        buildManifest([
          { path: 'a', sha256: d },
          { path: 'a', sha256: d },
        ]),
      /duplicate manifest path: a/,
    )
    assert.throws(() => buildManifest([{ path: 'a', sha256: d.toUpperCase() }]), /not a lowercase hex SHA-256/)
  })
})
