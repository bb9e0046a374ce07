/**
 * `imo hash` as a user runs it: the built CLI in a child process (no TTY), checked against GNU
 * coreutils' sha256sum, the manifest format of docs/formats.md section 1, and every bad input's one-line error.
 */
import assert from 'node:assert/strict'
import { execFileSync, execSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { writeFolder, writeOnnxModel, writeOnnxWithLocation, writeSingleFile } from './helpers/modelFixtures.js'
import { runCli } from './helpers/runCli.js'

const root = mkdtempSync(join(tmpdir(), 'imo-hash-cli-'))
after(() => rmSync(root, { recursive: true, force: true }))

const ONNX_HASH = '0x135ca77fa7249721f2533df887f5619820c9269d3eab30c6caddf565b90656c6'

describe('imo hash', () => {
  it('prints the hash, the ONNX facts and a table of files; writes a manifest that sha256sum checks', async () => {
    const { folder, onnx } = writeOnnxModel(join(root, 'onnx'))
    const manifestFile = join(root, 'out', 'model.manifest')
    const { code, stdout, stderr } = await runCli(['hash', onnx, '--manifest', manifestFile])
    assert.equal(code, 0, stderr)
    assert.equal(
      stdout,
      [
        `model hash  ${ONNX_HASH}`,
        `root        ${folder} (3 files, 255 B)`,
        'onnx        IR 8, opset ai.onnx 17',
        'inputs      x: float32[batch, 4]',
        'outputs     y: float32[batch, 4]',
        '',
        'sha256                                                             size  path',
        'd99e58435243d9fef9c88273b8d553b4fba4d0baf8009d29eae74fa99e0d9f57    4 B  const.bin',
        'e1ca2e67bd28b8472ff8062ad810fdca1a42b2b771855055528ae86bf7f01d30  235 B  model.onnx',
        'ad73b9acd6e4a74b2f5bb5386658ce3bb146cd040a1867646ab3b973fb6632b1   16 B  weights/w.bin',
        '',
      ].join('\n'),
    )
    assert.equal(stderr, `manifest written to ${manifestFile}\n`)
    // docs/formats.md section 1: standard tools check the files and give the model hash.
    const checked = execSync(`tail -n +2 '${manifestFile}' | sha256sum -c`, { cwd: folder, encoding: 'utf8' })
    assert.equal(checked, 'const.bin: OK\nmodel.onnx: OK\nweights/w.bin: OK\n')
    assert.equal(`0x${execFileSync('sha256sum', [manifestFile], { encoding: 'utf8' }).slice(0, 64)}`, ONNX_HASH)
    assert.equal(readFileSync(manifestFile, 'utf8').split('\n')[0], 'imo-model-v1')
    // A tampered file fails the standard check.
    writeFileSync(join(folder, 'const.bin'), 'x')
    assert.throws(() => execSync(`tail -n +2 '${manifestFile}' | sha256sum -c`, { cwd: folder, stdio: 'pipe' }))
  })

  it('--json prints one document: hash, manifest, files, onnx facts (null for a plain folder)', async () => {
    const single = await runCli(['hash', writeSingleFile(join(root, 'single')), '--json'])
    assert.equal(single.code, 0)
    assert.equal(single.stderr, '')
    assert.deepEqual(JSON.parse(single.stdout), {
      modelHash: '0x692bb1cb12ffad02410b720dcd3e0e546a0913f7335f4085421c74f88756be64',
      root: join(root, 'single'),
      manifest: 'imo-model-v1\n5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03  hello.txt\n',
      files: [{ path: 'hello.txt', size: 6, sha256: '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03' }],
      onnx: null,
    })
    const folder = await runCli(['hash', writeFolder(join(root, 'f')), '--json'])
    const parsed = JSON.parse(folder.stdout)
    assert.equal(parsed.modelHash, '0x80ce27b1db8765b904dfdf07e07c5bd604dceb53f14a1babf148db8dc2c98691')
    assert.equal(parsed.onnx, null)
    const model = await runCli(['--json', 'hash', writeOnnxModel(join(root, 'o2')).folder])
    assert.deepEqual(JSON.parse(model.stdout).onnx, {
      irVersion: 8,
      opset: [{ domain: '', version: 17 }],
      inputs: [{ name: 'x', elemType: 1, shape: ['batch', 4] }],
      outputs: [{ name: 'y', elemType: 1, shape: ['batch', 4] }],
    })
  })

  it('hashes a folder above the inline threshold on worker threads from the bundle, as sha256sum does', async () => {
    const folder = join(root, 'big')
    mkdirSync(folder)
    const names = ['a.bin', 'b.bin', 'c.bin']
    names.forEach((name, i) => {
      const data = Buffer.alloc(24 * 1024 * 1024 + i, i + 1)
      data.writeUInt32LE(0xdeadbeef, 12345 * (i + 1))
      writeFileSync(join(folder, name), data)
    })
    const { code, stdout, stderr } = await runCli(['hash', folder, '--json'])
    assert.equal(code, 0, stderr)
    const expected = `imo-model-v1\n${execFileSync('sha256sum', names, { cwd: folder, encoding: 'utf8' })}`
    assert.equal(JSON.parse(stdout).manifest, expected)
  })

  it('--threads N hashes on exactly N workers (the bundled worker source runs), with the same result', async () => {
    const folder = writeFolder(join(root, 'threads'))
    const { code, stdout, stderr } = await runCli(['hash', folder, '--threads', '2', '--json'])
    assert.equal(code, 0, stderr)
    assert.equal(JSON.parse(stdout).modelHash, '0x80ce27b1db8765b904dfdf07e07c5bd604dceb53f14a1babf148db8dc2c98691')
    const bad = await runCli(['hash', folder, '--threads', '0'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /argument '0' is invalid\. expected a whole number from 1 to 256/)
  })

  const bad: [string, () => string, string | RegExp][] = [
    ['a missing path', () => join(root, 'nope'), `no such file or folder: ${join(root, 'nope')}`],
    [
      'an empty folder',
      () => {
        mkdirSync(join(root, 'empty'))
        return join(root, 'empty')
      },
      /^empty model folder: /,
    ],
    [
      'a symlink',
      () => {
        mkdirSync(join(root, 'sl'))
        writeFileSync(join(root, 'sl', 'a'), 'a')
        symlinkSync('a', join(root, 'sl', 'b'))
        return join(root, 'sl')
      },
      `symlink in the model folder: b (in ${join(root, 'sl')})`,
    ],
    [
      'a path with a newline',
      () => {
        mkdirSync(join(root, 'nl'))
        writeFileSync(join(root, 'nl', 'x\ny'), 'a')
        return join(root, 'nl')
      },
      `path contains a newline: "x\\ny" in ${join(root, 'nl')}`,
    ],
    [
      'external data at ../x',
      () => writeOnnxWithLocation(join(root, 'up'), 'm.onnx', '../x.bin'),
      `external data location escapes the model folder: ../x.bin (in ${join(root, 'up', 'm.onnx')})`,
    ],
    [
      'external data at an absolute path',
      () => writeOnnxWithLocation(join(root, 'abs'), 'm.onnx', '/etc/passwd'),
      `external data location is absolute: /etc/passwd (in ${join(root, 'abs', 'm.onnx')})`,
    ],
    [
      'a missing external-data file',
      () => writeOnnxWithLocation(join(root, 'miss'), 'm.onnx', 'w.bin'),
      `external data file not found: w.bin (named by ${join(root, 'miss', 'm.onnx')})`,
    ],
    [
      'an empty .onnx file',
      () => {
        writeFileSync(join(root, 'empty.onnx'), '')
        return join(root, 'empty.onnx')
      },
      `not an ONNX model: ${join(root, 'empty.onnx')} (empty file)`,
    ],
    [
      'a truncated .onnx file',
      () => {
        const { onnx } = writeOnnxModel(join(root, 'trunc'))
        writeFileSync(onnx, readFileSync(onnx).subarray(0, 150))
        return onnx
      },
      /^not an ONNX model: .*\/trunc\/model\/model\.onnx \(truncated protobuf/,
    ],
    [
      'random bytes in a .onnx file',
      () => {
        writeFileSync(
          join(root, 'random.onnx'),
          Buffer.from('c3a1f00d9e8b7a6954433221100ffeeddccbbaa99887766554433221100aabbcc', 'hex'),
        )
        return join(root, 'random.onnx')
      },
      /^not an ONNX model: .*random\.onnx \(/,
    ],
  ]
  for (const [what, make, message] of bad) {
    it(`rejects ${what}: one line on stderr, exit 2, no manifest written`, async () => {
      const path = make()
      const outFolder = mkdtempSync(join(root, 'manifest-'))
      const manifestFile = join(outFolder, 'm.txt')
      const { code, stdout, stderr } = await runCli(['hash', path, '--manifest', manifestFile])
      assert.equal(code, 2)
      assert.equal(stdout, '')
      const lines = stderr.trimEnd().split('\n')
      assert.equal(lines.length, 1, stderr)
      assert.ok(lines[0]!.startsWith('error: '), stderr)
      const text = lines[0]!.slice('error: '.length)
      if (typeof message === 'string') assert.equal(text, message)
      else assert.match(text, message)
      assert.equal(existsSync(manifestFile), false)
      assert.deepEqual(readdirSync(outFolder), [])
    })
  }

  it('warns when the manifest is written into the hashed folder under a name a later hash would include', async () => {
    const folder = writeFolder(join(root, 'warn'))
    const inside = await runCli(['hash', folder, '--manifest', join(folder, 'MANIFEST'), '--json'])
    assert.equal(inside.code, 0)
    assert.match(inside.stderr, /^warning: the manifest is inside the model folder: hashing the folder again includes it/m)
    const again = await runCli(['hash', folder, '--json'])
    assert.notEqual(JSON.parse(again.stdout).modelHash, JSON.parse(inside.stdout).modelHash)
    rmSync(join(folder, 'MANIFEST'))
    const hidden = await runCli(['hash', folder, '--manifest', join(folder, '.manifest'), '--json'])
    assert.equal(hidden.stderr, `manifest written to ${join(folder, '.manifest')}\n`)
    assert.equal(JSON.parse(hidden.stdout).modelHash, JSON.parse(inside.stdout).modelHash)
  })

  it('with --json, an error is one JSON document on stdout as well', async () => {
    const { code, stdout } = await runCli(['hash', join(root, 'nope'), '--json'])
    assert.equal(code, 2)
    assert.deepEqual(JSON.parse(stdout), {
      error: { name: 'UsageError', message: `no such file or folder: ${join(root, 'nope')}`, exitCode: 2 },
    })
  })
})
