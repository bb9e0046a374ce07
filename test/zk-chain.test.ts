/**
 * zk models on a chain, end to end with the built CLI (real anvil, circom, snarkjs, onnxruntime; an
 * insecure test ptau): `imo infer --prove` writes a PLONK proof beside the record, `imo deploy
 * --proof-scheme zk` deploys the model's verifier and a ZkAigcCollection, another account (no
 * attester) mints with the proof, `imo verify` checks it offline and on chain. A proof for one output
 * byte changed, another prompt, another model or another recipient is rejected on chain and by
 * `imo verify` (exit 9). One proof of a 4 x 4 model for the whole file (the bundled zkcppn proves in
 * ~30 s of CPU, too slow for the suite's 5 minutes per file on a shared machine; test/zk-demo.test.ts
 * runs it once).
 */
import assert from 'node:assert/strict'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Address, createPublicClient, createWalletClient, type Hex, http, keccak256, type PublicClient, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { imoTokenAbi, imoTokenBytecode, zkAigcCollectionAbi, zkAigcCollectionBytecode } from '../contracts-abi/index.js'
import { buildZkCppnFloat } from '../scripts/build-zk-model.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { encodeZkProof } from '../src/mint/encodeProof.js'
import { compileZkModel } from '../src/zk/compileZkModel.js'
import { proofWords, type ZkProofFile } from '../src/zk/proveZk.js'
import { type CliResult, repoRoot, runCli } from './helpers/runCli.js'
import { TEST_ZK_CACHE, testPtau } from './helpers/zkFixtures.js'

const PROMPT = 'a red spiral'
let anvil: Anvil
let dir: string
let client: PublicClient
let ptau: string
let ZKMODEL: string
let collection: Address
let verifier: Address
let recipient: Address
let proofFile: ZkProofFile
let aigcData: Uint8Array

const imo = (args: string[], key = 0, timeoutMs = 900_000): Promise<CliResult> =>
  runCli([...args, '--rpc-url', anvil.rpcUrl], {
    cwd: dir,
    env: { IMO_PRIVATE_KEY: anvil.accounts[key]!.privateKey, IMO_ZK_CACHE: TEST_ZK_CACHE },
    timeoutMs,
  })
const verifyOnChain = (prompt: string, data: Uint8Array, proof: Hex, on = collection) =>
  client.readContract({
    address: on,
    abi: zkAigcCollectionAbi,
    functionName: 'verify',
    args: [toHex(new TextEncoder().encode(prompt)), toHex(data), proof],
  }) as Promise<boolean>

before(async () => {
  anvil = await startAnvil()
  dir = mkdtempSync(join(tmpdir(), 'imo-zk-chain-'))
  client = createPublicClient({ transport: http(anvil.rpcUrl) }) as PublicClient
  ptau = await testPtau(12)
  const floatPath = join(dir, 'tiny.onnx')
  writeFileSync(floatPath, buildZkCppnFloat({ size: 4, units: 2 }))
  ZKMODEL = (await compileZkModel({ input: floatPath, outDir: join(dir, 'tiny') })).modelFolder!
  recipient = anvil.accounts[2]!.address
  const inferred = await runCli(
    [
      'infer',
      '--model',
      ZKMODEL,
      '--prompt',
      PROMPT,
      '--out',
      'p1',
      '--prove',
      '--to',
      recipient,
      '--ptau',
      ptau,
      '--insecure-ptau',
      '--json',
    ],
    { cwd: dir, env: { IMO_ZK_CACHE: TEST_ZK_CACHE }, timeoutMs: 1_500_000 },
  )
  assert.equal(inferred.code, 0, inferred.stderr)
  const out = JSON.parse(inferred.stdout)
  assert.equal(out.proof.recipient, recipient)
  assert.equal(out.proof.insecure, true)
  assert.ok(out.proof.peakRssBytes > 100 * 2 ** 20 && out.proof.proveMs > 0, JSON.stringify(out.proof))
  assert.match(inferred.stderr, /INSECURE setup/)
  assert.match(inferred.stderr, /peak memory \d/)
  proofFile = JSON.parse(readFileSync(join(dir, 'p1', 'proof.json'), 'utf8'))
  aigcData = new Uint8Array(readFileSync(join(dir, 'p1', 'image.bmp')))
  const deployed = await imo([
    'deploy',
    '--model',
    ZKMODEL,
    '--proof-scheme',
    'zk',
    '--name',
    'Z',
    '--symbol',
    'Z',
    '--supply',
    '1000',
    '--ptau',
    ptau,
    '--insecure-ptau',
    '--json',
  ])
  assert.equal(deployed.code, 0, deployed.stderr)
  const deployment = JSON.parse(deployed.stdout)
  assert.equal(deployment.proofScheme, 'zk')
  collection = deployment.aigcCollection.address
  verifier = deployment.zkVerifier.address
  assert.equal(deployment.zkVerifier.insecure, true)
})
after(async () => {
  await anvil?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('imo deploy --proof-scheme zk', () => {
  it('deploys the verifier and a collection bound to the model hash and that verifier', async () => {
    const read = (functionName: 'modelHash' | 'verifier' | 'payloadLength') =>
      client.readContract({ address: collection, abi: zkAigcCollectionAbi, functionName })
    assert.equal(await read('modelHash'), proofFile.modelHash)
    assert.equal(String(await read('verifier')).toLowerCase(), verifier.toLowerCase())
    assert.equal(await read('payloadLength'), 16n)
    assert.ok(((await client.getCode({ address: verifier })) ?? '0x').length > 2)
  })
})

describe('zk proofs on chain', () => {
  it('the genuine proof verifies; one output byte changed, another prompt or another recipient does not', async () => {
    const proof = encodeZkProof(recipient, proofWords(proofFile.proof))
    assert.equal(await verifyOnChain(PROMPT, aigcData, proof), true)
    const changed = Uint8Array.from(aigcData)
    changed[changed.length - 1] = (changed[changed.length - 1]! + 1) % 256
    assert.equal(await verifyOnChain(PROMPT, changed, proof), false)
    assert.equal(await verifyOnChain('a blue square', aigcData, proof), false)
    const replayed = encodeZkProof(anvil.accounts[3]!.address, proofWords(proofFile.proof))
    assert.equal(await verifyOnChain(PROMPT, aigcData, replayed), false)
  })

  it("another model's collection (same verifier, other model hash) rejects it", async () => {
    const account = privateKeyToAccount(anvil.accounts[4]!.privateKey)
    const wallet = createWalletClient({ account, transport: http(anvil.rpcUrl), chain: foundry })
    const deploy = async (abi: readonly unknown[], bytecode: Hex, args: readonly unknown[]) => {
      const hash = await wallet.deployContract({ abi: abi as never, bytecode, args: args as never })
      return (await client.waitForTransactionReceipt({ hash })).contractAddress!
    }
    const otherHash = keccak256(toHex('another model'))
    const token = await deploy(imoTokenAbi, imoTokenBytecode, [
      'O',
      'O',
      10n ** 18n,
      account.address,
      otherHash,
      '',
      50,
      60n,
      12,
      account.address,
      [], // no ERC-20 revenue currencies
    ])
    const prefix = toHex(aigcData.subarray(0, aigcData.length - 256))
    const other = await deploy(zkAigcCollectionAbi, zkAigcCollectionBytecode, [
      'O',
      'O',
      otherHash,
      token,
      0n,
      0n,
      verifier,
      prefix,
      256n,
      account.address,
    ])
    const proof = encodeZkProof(recipient, proofWords(proofFile.proof))
    assert.equal(await verifyOnChain(PROMPT, aigcData, proof, other), false)
  })
})

describe('imo mint, imo verify with a zk record', () => {
  it('refuses --to other than the proof recipient (exit 2, nothing sent)', async () => {
    const result = await imo(['mint', 'p1', '--to', anvil.accounts[3]!.address], 1)
    assert.equal(result.code, 2, result.stderr)
    assert.match(result.stderr, /^error: the zk proof of "a red spiral" is bound to 0x[0-9a-fA-F]{40}, not to --to/m)
  })

  it('anyone (not the deployer, no attester) mints it to the proof recipient; verify passes offline, with the record and by token', async () => {
    const minted = await imo(['mint', 'p1', '--json'], 1)
    assert.equal(minted.code, 0, minted.stderr)
    const outcome = JSON.parse(minted.stdout).outcomes[0]
    assert.equal(outcome.status, 'minted')
    assert.equal(outcome.owner, recipient)
    const tokenId = BigInt(keccak256(new TextEncoder().encode(PROMPT)))
    assert.equal(
      String(
        await client.readContract({ address: collection, abi: zkAigcCollectionAbi, functionName: 'ownerOf', args: [tokenId] }),
      ),
      recipient,
    )
    const record = await imo(['verify', 'p1', '--json'])
    assert.equal(record.code, 0, record.stdout + record.stderr)
    const checks = JSON.parse(record.stdout).checks as { name: string; status: string }[]
    for (const name of ['zk proof', 'zk proof (mint)', 'on-chain verify', 'token on chain'])
      assert.equal(checks.find((c) => c.name === name)?.status, 'pass', name)
    const byToken = await imo(['verify', '--token', toHex(tokenId, { size: 32 }), '--model', ZKMODEL, '--json'])
    assert.equal(byToken.code, 0, byToken.stdout + byToken.stderr)
    const tokenChecks = JSON.parse(byToken.stdout).checks as { name: string; status: string }[]
    for (const name of ['zk proof', 'on-chain verify', 're-execution'])
      assert.equal(tokenChecks.find((c) => c.name === name)?.status, 'pass', name)
  })

  it('imo verify fails (exit 9) on a proof replayed for another recipient or with one value changed', async () => {
    for (const [what, edit] of [
      ['recipient', (p: ZkProofFile) => ({ ...p, recipient: anvil.accounts[3]!.address })],
      ['proof value', (p: ZkProofFile) => ({ ...p, proof: { ...p.proof, eval_a: (BigInt(p.proof.eval_a) + 1n).toString() } })],
    ] as const) {
      const copy = join(dir, `tampered-${what.replace(' ', '-')}`)
      cpSync(join(dir, 'p1'), copy, { recursive: true })
      rmSync(join(copy, 'mint.json'))
      writeFileSync(join(copy, 'proof.json'), JSON.stringify(edit(proofFile)))
      const result = await runCli(['verify', copy], { cwd: dir, env: { IMO_ZK_CACHE: TEST_ZK_CACHE } })
      assert.equal(result.code, 9, `${what}: ${result.stderr}`)
      assert.match(result.stdout + result.stderr, /FAIL\s+zk proof/, what)
    }
    assert.ok(existsSync(join(dir, 'p1', 'mint.json')))
  })
})

describe('zk bad input: one line, exit 2, nothing written', () => {
  it('--prove on a model that is not zk, without --to, or without keys and --ptau; deploy --proof-scheme zk of a non-zk model', async () => {
    const cppn = join(repoRoot, 'models', 'cppn')
    const empty = mkdtempSync(join(tmpdir(), 'imo-zk-empty-cache-'))
    try {
      const cases: [string, string[], Record<string, string>, RegExp][] = [
        [
          'not zk',
          ['infer', '--model', cppn, '--prompt', 'x', '--prove', '--to', recipient, '--out', 'bad1'],
          {},
          /^error: --prove needs a zk model folder/m,
        ],
        ['no --to', ['infer', '--model', ZKMODEL, '--prompt', 'x', '--prove', '--out', 'bad2'], {}, /^error: .*--to/m],
        [
          'no keys',
          ['infer', '--model', ZKMODEL, '--prompt', 'x', '--prove', '--to', recipient, '--out', 'bad3'],
          { IMO_ZK_CACHE: empty },
          /^error: the zk model .* has no proving key yet: pass --ptau FILE once$/m,
        ],
      ]
      for (const [what, args, env, message] of cases) {
        const result = await runCli(args, { cwd: dir, env: { IMO_ZK_CACHE: TEST_ZK_CACHE, ...env } })
        assert.equal(result.code, 2, `${what}: ${result.stderr}`)
        assert.match(result.stderr, message, what)
        assert.equal(result.stderr.split('\n').filter((l) => l.startsWith('error:')).length, 1, what)
        assert.doesNotMatch(result.stderr, /\n\s+at /, what)
        assert.equal(existsSync(join(dir, args.at(-1)!)), false, `${what}: no output folder`)
      }
      const deploy = await imo([
        'deploy',
        '--model',
        cppn,
        '--proof-scheme',
        'zk',
        '--name',
        'C',
        '--symbol',
        'C',
        '--supply',
        '1',
        '--deployment',
        join(dir, 'bad.json'),
      ])
      assert.equal(deploy.code, 2, deploy.stderr)
      assert.match(deploy.stderr, /^error: --proof-scheme zk needs a zk model folder/m)
      assert.equal(existsSync(join(dir, 'bad.json')), false)
    } finally {
      rmSync(empty, { recursive: true, force: true })
    }
  })
})
