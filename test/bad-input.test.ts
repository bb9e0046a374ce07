/**
 * Bad input is exit 2 (or 9 for a failed check) with a one-line message, never exit 1 (issue 11
 * item 5): deeply nested JSON, --out under a file or a dangling symlink, an 80-digit amount, and
 * mint.json records with a bad-checksum collection or no tokenIdHex. On a real anvil (issue 21 items
 * 8 and 18): a mixed-case address with a wrong EIP-55 checksum in every flag and file that takes one,
 * a mint.json naming an EOA or the token as its collection, 80-digit ids.
 */
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { client } from './helpers/deployFixture.js'
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

describe('addresses and ids on a real chain', () => {
  let anvil: Anvil
  let work: string
  let minted: string
  const imo = (args: string[]) =>
    runCli([...args, '--rpc-url', anvil.rpcUrl], { cwd: work, env: { IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey } })
  /** The address with one letter's case changed: mixed case whose EIP-55 checksum fails. */
  const typo = (address: string) => {
    const at = address.slice(2).search(/[a-fA-F]/) + 2
    const letter = address[at]!
    return `${address.slice(0, at)}${letter === letter.toLowerCase() ? letter.toUpperCase() : letter.toLowerCase()}${address.slice(at + 1)}`
  }
  const checksumError = (flag: string, address: string) =>
    new RegExp(`^error: ${flag} ${typo(address)} has mixed case that does not match its EIP-55 checksum: it may be mistyped`)

  before(async () => {
    anvil = await startAnvil()
    work = mkdtempSync(join(tmpdir(), 'imo-bad-chain-'))
    const deployed = await imo(['deploy', '--model', CPPN, '--name', 'T', '--symbol', 'T', '--supply', '1000', '--yes'])
    assert.equal(deployed.code, 0, deployed.stderr)
    minted = join(work, 'minted')
    const mint = await imo(['infer-and-mint', 'a prompt', '--out', minted])
    assert.equal(mint.code, 0, mint.stderr)
  })
  after(async () => {
    await anvil.stop()
    rmSync(work, { recursive: true, force: true })
  })

  it('a mixed-case address with a wrong EIP-55 checksum is refused everywhere (exit 2, nothing sent)', async () => {
    const other = anvil.accounts[1]!.address
    const sender = anvil.accounts[0]!.address
    const nonce = await client(anvil.rpcUrl).getTransactionCount({ address: sender })
    const csv = join(work, 'list.csv')
    writeFileSync(csv, `${other}\n${typo(anvil.accounts[2]!.address)},5\n`)
    const cases: Array<[string[], RegExp]> = [
      [['request', 'a red spiral', '--to', typo(other), '--yes'], checksumError('--to', other)],
      [
        [
          'deploy',
          '--model-hash',
          `0x${'ab'.repeat(32)}`,
          '--name',
          'X',
          '--symbol',
          'X',
          '--supply',
          '1',
          '--recipient',
          typo(other),
          '--deployment',
          join(work, 'x.json'),
          '--yes',
        ],
        checksumError('--recipient', other),
      ],
      [
        [
          'deploy',
          '--model-hash',
          `0x${'ab'.repeat(32)}`,
          '--name',
          'X',
          '--symbol',
          'X',
          '--supply',
          '1',
          '--attester',
          typo(other),
          '--deployment',
          join(work, 'x.json'),
          '--yes',
        ],
        checksumError('--attester', other),
      ],
      [
        [
          'offer',
          'create',
          '--amount',
          '10',
          '--price',
          '0.001',
          '--start',
          'now',
          '--duration',
          '60',
          '--allowlist',
          csv,
          '--yes',
        ],
        new RegExp(
          `^error: .*list\\.csv line 2: ${typo(anvil.accounts[2]!.address)} has mixed case that does not match its EIP-55 checksum`,
        ),
      ],
      [['offer', 'status', '--sale', typo(other)], checksumError('--sale', other)],
      [['claimable', typo(other)], checksumError('ADDRESS', other)],
      [['status', '--address', typo(other)], checksumError('--address', other)],
      [['requests', '--mine', '--address', typo(other)], checksumError('--address', other)],
      [['infer-and-mint', 'another prompt', '--to', typo(other)], checksumError('--to', other)],
      [['mint', minted, '--to', typo(other)], checksumError('--to', other)],
      [['verify', minted, '--collection', typo(other)], checksumError('--collection', other)],
    ]
    for (const [args, message] of cases) assertOneLine(await imo(args), 2, message)
    assert.equal(await client(anvil.rpcUrl).getTransactionCount({ address: sender }), nonce, 'nothing sent')
    // All lower case carries no checksum and is taken as typed.
    const lower = await imo(['claimable', other.toLowerCase(), '--json'])
    assert.equal(lower.code, 0, lower.stderr)
  })

  it('verify of a mint.json whose collection is an EOA or the IMO token fails its checks in one line (exit 9, not 1)', async () => {
    const deployment = JSON.parse(readFileSync(join(work, '.imo', 'deployments', '31337', 'default.json'), 'utf8'))
    for (const [name, collection, why] of [
      ['eoa', anvil.accounts[1]!.address, /returned no data: no contract code there/],
      ['token', deployment.imoToken.address, /reverted/],
    ] as const) {
      const copy = join(work, name)
      cpSync(minted, copy, { recursive: true })
      const mint = JSON.parse(readFileSync(join(copy, 'mint.json'), 'utf8'))
      writeFileSync(join(copy, 'mint.json'), JSON.stringify({ ...mint, collection }))
      const result = await imo(['verify', copy])
      assertOneLine(result, 9, /^error: verification failed: /)
      assert.match(
        result.stdout,
        new RegExp(`FAIL {2}attester .*${collection} is not an imo collection \\(its isAttester\\(\\) ${why.source}`),
      )
    }
  })

  it('an 80-digit request or snapshot id (exit 2, one line)', async () => {
    const id = '9'.repeat(80)
    assertOneLine(await imo(['refund', id]), 2, /^error: REQUEST_ID must be at most 1157920892\d+$/)
    assertOneLine(await imo(['claim', '--snapshot', id]), 2, /^error: --snapshot must be at most 9007199254740991$/)
  })
})
