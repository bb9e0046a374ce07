/**
 * Bad input is exit 2 (or 9 for a failed check) with a one-line message, never exit 1 (issue 11
 * item 5): deeply nested JSON, --out under a file or a dangling symlink, an 80-digit amount, and
 * mint.json records with a bad-checksum collection or no tokenIdHex.
 */
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type CliResult, repoRoot, runCli } from './helpers/runCli.js'

const CPPN = join(repoRoot, 'models', 'cppn')
const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`
let dir: string
let record: string
const errorLines = (result: CliResult) => result.stderr.split('\n').filter((line) => line.startsWith('error:'))
const assertOneLine = (result: CliResult, code: number, message: RegExp) => {
  assert.equal(result.code, code, result.stderr)
  const lines = errorLines(result)
  assert.equal(lines.length, 1, result.stderr)
  assert.match(lines[0]!, message)
  assert.doesNotMatch(result.stderr, /internal error|at .*\.js:\d+/)
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'imo-bad-input-'))
  record = join(dir, 'record')
  assert.equal((await runCli(['infer', '--model', CPPN, '--prompt', 'p', '--out', record], { cwd: dir })).code, 0)
})
after(() => rmSync(dir, { recursive: true, force: true }))

describe('bad input is not an internal error', () => {
  it('deeply nested JSON: --input tensors (exit 2) and record.json (exit 9)', async () => {
    const input = join(dir, 'deep.json')
    writeFileSync(input, `{"z": {"type": "float32", "dims": [1], "data": ${deep(100_000)}}}`)
    assertOneLine(
      await runCli(['infer', '--model', CPPN, '--input', input], { cwd: dir }),
      2,
      /deep\.json nests deeper than 64 levels$/,
    )
    const copy = join(dir, 'deep-record')
    cpSync(record, copy, { recursive: true })
    const text = readFileSync(join(copy, 'record.json'), 'utf8')
    writeFileSync(join(copy, 'record.json'), text.replace(/}\s*$/, `, "x": ${deep(100_000)}}`))
    assertOneLine(
      await runCli(['verify', copy], { cwd: dir }),
      9,
      /^error: verification failed: record format: .*record\.json nests deeper than 64 levels, so not an inference record$/,
    )
  })

  it('mint.json with a bad-checksum collection or without tokenIdHex fails its check (exit 9)', async () => {
    const mint = {
      format: 'imo-mint-record-v1',
      chainId: 31337,
      collection: '0x5FbDB2315678afecb367f032d93F642f64180aA3', // one letter's case changed
      tokenId: '1',
      tokenIdHex: `0x${'0'.repeat(63)}1`,
      to: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
      modelHash: `0x${'1'.repeat(64)}`,
      commitment: `0x${'2'.repeat(64)}`,
      promptHash: `0x${'3'.repeat(64)}`,
      aigcDataHash: `0x${'4'.repeat(64)}`,
      aigcDataMode: 'digest',
      proof: '0x',
      proofScheme: 'ecdsa',
      signer: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
      attester: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
      tokenUri: '',
      metadata: { file: 'metadata.json' },
      artifact: { file: 'image.png' },
      mintFeeWei: '0',
      status: 'minted',
    }
    const check = async (name: string, value: object, field: string) => {
      const copy = join(dir, name)
      cpSync(record, copy, { recursive: true })
      writeFileSync(join(copy, 'mint.json'), JSON.stringify(value))
      assertOneLine(
        await runCli(['verify', copy], { cwd: dir }),
        9,
        new RegExp(
          `^error: verification failed: mint record: .*mint\\.json is not a valid imo mint record \\(imo-mint-record-v1\\): ${field} must be `,
        ),
      )
    }
    await check('bad-checksum', mint, 'collection')
    const { tokenIdHex: _, ...withoutTokenIdHex } = mint
    await check(
      'no-token-id-hex',
      { ...withoutTokenIdHex, collection: '0x5FbDB2315678afecb367f032d93F642f64180aa3' },
      'tokenIdHex',
    )
  })

  it('--out under a file or a dangling symlink (exit 2)', async () => {
    const file = join(dir, 'a-file')
    writeFileSync(file, 'x')
    const dangling = join(dir, 'dangling')
    symlinkSync(join(dir, 'nowhere'), dangling)
    const infer = (out: string) => runCli(['infer', '--model', CPPN, '--prompt', 'p', '--out', out], { cwd: dir })
    assertOneLine(await infer(join(file, 'sub')), 2, /^error: --out .*a-file\/sub is under a file, not a folder \(.*a-file\)$/)
    assertOneLine(await infer(dangling), 2, /^error: --out .*dangling is a symlink: give the real folder's path$/)
    const mint = (out: string) => runCli(['mint', record, '--out', out, '--rpc-url', 'http://127.0.0.1:9'], { cwd: dir })
    assertOneLine(await mint(join(file, 'sub')), 2, /is under a file, not a folder/)
    assertOneLine(await mint(dangling), 2, /is a symlink/)
  })

  it('an 80-digit redeem amount (exit 2, before any RPC)', async () => {
    const amount = '9'.repeat(80)
    assertOneLine(
      await runCli(['redeem', amount, '--rpc-url', 'http://127.0.0.1:9'], { cwd: dir }),
      2,
      /^error: AMOUNT is too large: "9{80}" does not fit in a uint256 of base units$/,
    )
  })
})
