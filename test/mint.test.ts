/**
 * imo mint / infer-and-mint end to end: real anvil, real onnxruntime, the built CLI.
 */
import assert from 'node:assert/strict'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Address, createPublicClient, getAddress, http, keccak256, type PublicClient } from 'viem'
import { aigcCollectionAbi, imoTokenAbi } from '../contracts-abi/index.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { computeCommitment } from '../src/inference/commitment.js'
import { aigcDataBytes } from '../src/inference/erc7007.js'
import { computeCid } from '../src/mint/computeCid.js'
import { sha256Hex } from '../src/tensor/encodeTensors.js'
import { journalLines } from './helpers/deployFixture.js'
import { type CliResult, repoRoot, runCli } from './helpers/runCli.js'

const CPPN = join(repoRoot, 'models', 'cppn')
const FEE = 10_000_000_000_000_000n // 0.01 ETH
let anvil: Anvil
let dir: string
let client: PublicClient
let token: Address
let collection: Address

const errorLines = (result: CliResult) =>
  result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('…') && !line.startsWith('✔'))
const imo = (args: string[], extra: Record<string, string> = {}) =>
  runCli([...args, '--rpc-url', anvil.rpcUrl], { cwd: dir, env: { IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey, ...extra } })
const nonce = () => client.getTransactionCount({ address: anvil.accounts[0]!.address })
const tokenBalance = () => client.getBalance({ address: token })
const pendingRevenue = () =>
  client.readContract({ address: token, abi: imoTokenAbi, functionName: 'pendingRevenue' }) as Promise<bigint>

before(async () => {
  anvil = await startAnvil()
  dir = mkdtempSync(join(tmpdir(), 'imo-mint-'))
  client = createPublicClient({ transport: http(anvil.rpcUrl) }) as PublicClient
  const deployed = await imo([
    'deploy',
    '--model',
    CPPN,
    '--name',
    'T',
    '--symbol',
    'T',
    '--supply',
    '1000',
    '--mint-fee',
    '0.01',
    '--json',
  ])
  assert.equal(deployed.code, 0, deployed.stderr)
  const deployment = JSON.parse(readFileSync(join(dir, '.imo', 'deployments', '31337', 'default.json'), 'utf8'))
  token = deployment.imoToken.address
  collection = deployment.aigcCollection.address
})
after(async () => {
  await anvil?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('imo infer-and-mint', () => {
  it('mints with the fee reaching the IMO token, writes metadata whose CID is the token URI', async () => {
    const [balance, pending] = [await tokenBalance(), await pendingRevenue()]
    const result = await imo(['infer-and-mint', 'a red spiral', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const out = JSON.parse(result.stdout)
    const minted = out.outcomes[0]
    assert.equal(minted.status, 'minted')
    assert.equal(out.mintFeeWei, FEE.toString())
    assert.equal(await tokenBalance(), balance + FEE)
    assert.equal(await pendingRevenue(), pending + FEE)
    const tokenId = BigInt(minted.tokenId)
    assert.equal(
      await client.readContract({ address: collection, abi: aigcCollectionAbi, functionName: 'ownerOf', args: [tokenId] }),
      anvil.accounts[0]!.address,
    )
    const folder = minted.outDir
    assert.deepEqual(readdirSync(folder).sort(), [
      'image.npy',
      'image.png',
      'inputs.imt',
      'metadata.json',
      'mint.json',
      'outputs.imt',
      'outputs.json',
      'record.json',
    ])
    const metadataBytes = readFileSync(join(folder, 'metadata.json'))
    const uri = await client.readContract({
      address: collection,
      abi: aigcCollectionAbi,
      functionName: 'tokenURI',
      args: [tokenId],
    })
    assert.equal(uri, `ipfs://${computeCid(metadataBytes)}`)
    const metadata = JSON.parse(metadataBytes.toString('utf8'))
    assert.equal(metadata.prompt, 'a red spiral')
    assert.equal(metadata.aigc_type, 'image')
    assert.equal(metadata.proof_type, 'fraud')
    assert.equal(metadata.image, `ipfs://${computeCid(readFileSync(join(folder, 'image.png')))}`)
    assert.equal(metadata.aigc_data, metadata.image)
    const record = JSON.parse(readFileSync(join(folder, 'record.json'), 'utf8'))
    assert.equal(metadata.commitment, record.commitment)
    assert.equal(metadata.model_hash, record.modelHash)
    const mint = JSON.parse(readFileSync(join(folder, 'mint.json'), 'utf8'))
    assert.equal(mint.status, 'minted')
    assert.equal(mint.txHash, minted.txHash)
  })

  it('reports an already minted prompt with the same data (exit 0, nothing sent, no fee)', async () => {
    const [before, balance] = [await nonce(), await tokenBalance()]
    const result = await imo(['infer-and-mint', 'a red spiral', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const out = JSON.parse(result.stdout)
    assert.equal(out.outcomes[0].status, 'existing')
    assert.equal(await nonce(), before)
    assert.equal(await tokenBalance(), balance)
  })

  it('refuses the same prompt with other data (exit 3, nothing sent, no folder written)', async () => {
    const before = await nonce()
    const result = await imo(['infer-and-mint', 'a red spiral', '--aigc-data', 'inline', '--out', 'out/inline'])
    assert.equal(result.code, 3)
    const [line, hint] = errorLines(result)
    assert.match(
      line!,
      /^error: "a red spiral" is already minted as token 0x[0-9a-f]{64} with other aigcData \(on chain 0x[0-9a-f]{64}, this inference 0x[0-9a-f]{64}\); nothing was sent$/,
    )
    assert.equal(
      hint,
      'hint: a prompt mints one token: change the prompt, or verify the existing token with `imo verify --token`',
    )
    assert.equal(await nonce(), before)
    assert.equal(existsSync(join(dir, 'out', 'inline')), false)
    assert.doesNotMatch(result.stderr, /at .*\.js:\d+/)
  })

  it('--prompts mints several prompts pipelined: all signed and journalled before any receipt', async () => {
    const prompts = join(dir, 'prompts.txt')
    writeFileSync(prompts, '# batch\nthe sea at dawn\n\nlichen on stone\n# done\nneon rain\n')
    const balance = await tokenBalance()
    const result = await imo(['infer-and-mint', '--prompts', prompts, '--out', 'out/batch', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const out = JSON.parse(result.stdout)
    assert.deepEqual(
      out.outcomes.map((o: { prompt: string; status: string }) => [o.prompt, o.status]),
      [
        ['the sea at dawn', 'minted'],
        ['lichen on stone', 'minted'],
        ['neon rain', 'minted'],
      ],
    )
    assert.equal(await tokenBalance(), balance + 3n * FEE)
    assert.equal(readdirSync(join(dir, 'out', 'batch')).length, 3)
    const journal = readFileSync(
      join(dir, '.imo', 'journal', '31337', `${anvil.accounts[0]!.address.toLowerCase()}.jsonl`),
      'utf8',
    )
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    const ids = new Set(out.outcomes.map((o: { tokenIdHex: string }) => `mint:${collection.toLowerCase()}:${o.tokenIdHex}`))
    const mine = journal.filter((r: { id: string }) => ids.has(r.id)).map((r: { type: string }) => r.type)
    assert.deepEqual(
      mine.filter((t: string) => t !== 'intent'),
      ['signed', 'signed', 'signed', 'receipt', 'receipt', 'receipt'],
    )
    assert.equal(
      new Set(
        journal
          .filter((r: { id: string; type: string }) => ids.has(r.id) && r.type === 'signed')
          .map((r: { nonce: number }) => r.nonce),
      ).size,
      3,
    )
  })

  it('rejects duplicate prompts in the file up front (exit 2, nothing sent)', async () => {
    const prompts = join(dir, 'dupes.txt')
    writeFileSync(prompts, 'one\ntwo\none\n')
    const before = await nonce()
    const result = await imo(['infer-and-mint', '--prompts', prompts])
    assert.equal(result.code, 2)
    assert.deepEqual(errorLines(result), [
      `error: ${prompts} repeats the prompt "one" (lines 1 and 3): each prompt mints one token`,
    ])
    assert.equal(await nonce(), before)
  })

  it('resumes a mint interrupted after its transaction was journalled (fee paid once)', async () => {
    const balance = await tokenBalance()
    const crashed = await imo(['infer-and-mint', 'interrupted prompt'], { IMO_TEST_CRASH_AT: 'after-journal:mint:' })
    assert.equal(crashed.signal, 'SIGKILL')
    assert.equal(await tokenBalance(), balance)
    const resumed = await imo(['infer-and-mint', 'interrupted prompt', '--json'])
    assert.equal(resumed.code, 0, resumed.stderr)
    assert.equal(JSON.parse(resumed.stdout).outcomes[0].status, 'resumed')
    assert.equal(await tokenBalance(), balance + FEE)
    const again = await imo(['infer-and-mint', 'interrupted prompt', '--json'])
    assert.equal(JSON.parse(again.stdout).outcomes[0].status, 'existing')
    assert.equal(await tokenBalance(), balance + FEE)
  })

  it('a mint whose run ended before its receipt was journalled is reported existing with its transaction', async () => {
    const crashed = await imo(['infer-and-mint', 'broadcast then killed'], { IMO_TEST_CRASH_AT: 'after-broadcast:mint:' })
    assert.equal(crashed.signal, 'SIGKILL')
    const signed = journalLines(dir)
      .filter((r) => r.type === 'signed')
      .at(-1)!
    const again = await imo(['infer-and-mint', 'broadcast then killed', '--json'])
    assert.equal(again.code, 0, again.stderr)
    const outcome = JSON.parse(again.stdout).outcomes[0]
    assert.equal(outcome.status, 'existing')
    assert.equal(outcome.txHash, signed.hash, 'the journalled transaction, found on chain')
  })

  it("refuses a model whose hash is not the deployment's before anything is sent (exit 2)", async () => {
    const before = await nonce()
    const result = await imo(['infer-and-mint', 'x', '--model', join(repoRoot, 'models', 'cppn', 'model.onnx')])
    assert.equal(result.code, 2)
    assert.match(
      errorLines(result)[0]!,
      /^error: the model .*model\.onnx hashes to 0x[0-9a-f]{64}, but the deployment's collection is bound to 0x[0-9a-f]{64}; nothing was sent$/,
    )
    assert.equal(await nonce(), before)
  })

  it('refuses a signer that is not an attester (exit 2)', async () => {
    const result = await runCli(['infer-and-mint', 'y', '--rpc-url', anvil.rpcUrl], {
      cwd: dir,
      env: { IMO_PRIVATE_KEY: anvil.accounts[1]!.privateKey },
    })
    assert.equal(result.code, 2)
    assert.equal(
      errorLines(result)[0],
      `error: ${anvil.accounts[1]!.address} is not an attester of the collection ${getAddress(collection)}: its proofs would not verify`,
    )
  })
})

describe('imo mint RECORD', () => {
  it('mints a record from imo infer with a data: token URI holding the metadata', async () => {
    const out = join(dir, 'rec')
    mkdirSync(out)
    const inferred = await runCli(['infer', '--model', CPPN, '--prompt', 'from a record', '--out', out], { cwd: dir })
    assert.equal(inferred.code, 0, inferred.stderr)
    const result = await imo(['mint', out, '--token-uri-mode', 'data', '--to', anvil.accounts[2]!.address, '--json'])
    assert.equal(result.code, 0, result.stderr)
    const minted = JSON.parse(result.stdout).outcomes[0]
    const tokenId = BigInt(minted.tokenId)
    assert.equal(
      await client.readContract({ address: collection, abi: aigcCollectionAbi, functionName: 'ownerOf', args: [tokenId] }),
      anvil.accounts[2]!.address,
    )
    const uri = (await client.readContract({
      address: collection,
      abi: aigcCollectionAbi,
      functionName: 'tokenURI',
      args: [tokenId],
    })) as string
    assert.ok(uri.startsWith('data:application/json;base64,'))
    assert.equal(
      Buffer.from(uri.slice('data:application/json;base64,'.length), 'base64').toString('utf8'),
      readFileSync(join(out, 'metadata.json'), 'utf8'),
    )
  })

  it('--dry-run simulates and sends nothing, writes nothing', async () => {
    const out = join(dir, 'rec2')
    mkdirSync(out)
    assert.equal((await runCli(['infer', '--model', CPPN, '--prompt', 'dry', '--out', out], { cwd: dir })).code, 0)
    const before = await nonce()
    const result = await imo(['mint', out, '--dry-run', '--json'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(JSON.parse(result.stdout).outcomes[0].status, 'dry-run')
    assert.equal(await nonce(), before)
    assert.equal(existsSync(join(out, 'metadata.json')), false)
  })
})

describe('imo mint RECORD refuses a record that does not match its files or its model (issue 11 item 2)', () => {
  let base: string
  let other: string
  before(async () => {
    base = join(dir, 'tamper-base')
    other = join(dir, 'tamper-other')
    for (const [out, prompt] of [
      [base, 'tamper base'],
      [other, 'another prompt'],
    ] as const)
      assert.equal((await runCli(['infer', '--model', CPPN, '--prompt', prompt, '--out', out], { cwd: dir })).code, 0)
  })
  const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'))
  /** A copy of the base record with `change` applied; the record is re-made consistent when `consistent`. */
  // biome-ignore lint/suspicious/noExplicitAny: a record.json being tampered with, any shape
  const tamper = (name: string, change: (copy: string, record: any) => void, consistent = false) => {
    const copy = join(dir, `tamper-${name}`)
    cpSync(base, copy, { recursive: true })
    const record = readJson(join(copy, 'record.json'))
    change(copy, record)
    if (consistent) {
      const bytes = (file: string) => new Uint8Array(readFileSync(join(copy, file)))
      record.outputHash = sha256Hex(bytes(record.outputs.file))
      record.outputs.size = bytes(record.outputs.file).length
      record.artifact.sha256 = sha256Hex(bytes(record.artifact.file))
      record.artifact.size = bytes(record.artifact.file).length
      record.aigcDataHash = keccak256(aigcDataBytes(bytes(record.artifact.file), record.aigcDataMode))
      record.commitment = computeCommitment(record as never)
    }
    writeFileSync(join(copy, 'record.json'), JSON.stringify(record, null, 2))
    return copy
  }
  const assertRefused = async (copy: string, failing: RegExp) => {
    const [before, balance] = [await nonce(), await tokenBalance()]
    const result = await imo(['mint', copy, '--json'])
    assert.equal(result.code, 9, result.stderr)
    const error = JSON.parse(result.stdout).error
    assert.match(error.message, /^refusing to sign .*; nothing was signed or sent$/)
    assert.match(error.details, failing)
    assert.doesNotMatch(result.stderr, /at .*\.js:\d+/)
    assert.equal(await nonce(), before, 'nothing sent')
    assert.equal(await tokenBalance(), balance, 'no fee paid')
    assert.equal(existsSync(join(copy, 'mint.json')), false, 'nothing signed')
    assert.equal(existsSync(join(copy, 'metadata.json')), false)
  }
  const otherHash = (hash: string) => `0x${hash.slice(2, 3) === '0' ? '1' : '0'}${hash.slice(3)}`

  it('a changed outputHash, commitment or configHash', async () => {
    await assertRefused(
      tamper('output-hash', (_, r) => {
        r.outputHash = otherHash(r.outputHash)
      }),
      /FAIL {2}output hash/,
    )
    await assertRefused(
      tamper('commitment', (_, r) => {
        r.commitment = otherHash(r.commitment)
      }),
      /FAIL {2}commitment/,
    )
    await assertRefused(
      tamper('config-hash', (_, r) => {
        r.configHash = otherHash(r.configHash)
      }),
      /FAIL {2}config hash/,
    )
  })

  it('a flipped byte in outputs.imt, also with every hash of the record recomputed', async () => {
    const flip = (copy: string) => {
      const file = join(copy, 'outputs.imt')
      const bytes = readFileSync(file)
      bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 1
      writeFileSync(file, bytes)
    }
    await assertRefused(tamper('flipped', flip), /FAIL {2}output hash/)
    await assertRefused(tamper('flipped-consistent', flip, true), /FAIL {2}re-execution +outputs differ/)
  })

  it('model.path pointing to another model', async () => {
    const model = join(dir, 'another-model')
    cpSync(CPPN, model, { recursive: true })
    const onnx = readFileSync(join(model, 'model.onnx'))
    onnx[onnx.length - 40] = onnx[onnx.length - 40]! ^ 1
    writeFileSync(join(model, 'model.onnx'), onnx)
    await assertRefused(
      tamper('model-path', (_, r) => {
        r.model.path = model
        r.model.absolutePath = model
      }),
      /FAIL {2}model hash +.*another-model hashes to 0x[0-9a-f]{64}, the record says/,
    )
  })

  it('outputs from another prompt, with every hash of the record recomputed', async () => {
    const copy = tamper(
      'other-prompt',
      (c) => {
        for (const file of ['outputs.imt', 'outputs.json', 'image.npy', 'image.png']) cpSync(join(other, file), join(c, file))
      },
      true,
    )
    await assertRefused(copy, /FAIL {2}re-execution +outputs differ/)
  })
})
