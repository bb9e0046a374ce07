/**
 * zk models on a chain, end to end with the built CLI (real anvil, circom, snarkjs, onnxruntime; an
 * insecure test ptau): `imo infer --prove` writes a PLONK proof beside the record, `imo deploy
 * --proof-scheme zk` deploys the model's verifier and a ZkAigcCollection, another account (no
 * attester) mints with the proof, `imo verify` checks it offline and on chain. A proof for one output
 * byte changed, another prompt, another model or another recipient is rejected on chain and by
 * `imo verify` (exit 9), and so is another model's genuine proof. One proof of each of two 4 x 4
 * models for the whole file (the bundled zkcppn proves in ~30 s of CPU, too slow for the suite's 5
 * minutes per file on a shared machine; test/zk-demo.test.ts runs it once).
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
import { TEST_ZK_CACHE, testPtau, zkDeployArgs } from './helpers/zkFixtures.js'

const PROMPT = 'a red spiral'
let anvil: Anvil
let dir: string
let client: PublicClient
let ptau: string
let ZKMODEL: string
/** A second model (one more unit) and its genuine proof for the same prompt and recipient. */
let OTHERMODEL: string
let otherProofFile: ZkProofFile
let otherAigcData: Uint8Array
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
  const otherFloat = join(dir, 'other.onnx')
  writeFileSync(otherFloat, buildZkCppnFloat({ size: 4, units: 3 }))
  OTHERMODEL = (await compileZkModel({ input: otherFloat, outDir: join(dir, 'other') })).modelFolder!
  const otherInferred = await runCli(
    ['infer', '--model', OTHERMODEL, '--prompt', PROMPT, '--out', 'other-p1', '--prove', '--to', recipient].concat([
      '--ptau',
      ptau,
      '--insecure-ptau',
    ]),
    { cwd: dir, env: { IMO_ZK_CACHE: TEST_ZK_CACHE }, timeoutMs: 1_500_000 },
  )
  assert.equal(otherInferred.code, 0, otherInferred.stderr)
  otherProofFile = JSON.parse(readFileSync(join(dir, 'other-p1', 'proof.json'), 'utf8'))
  otherAigcData = new Uint8Array(readFileSync(join(dir, 'other-p1', 'image.bmp')))
  assert.notEqual(otherProofFile.modelHash, proofFile.modelHash)
  const deployed = await imo([...zkDeployArgs(ZKMODEL, ptau), '--json'])
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

  it("another model's genuine proof (same prompt and recipient) is rejected by this model's collection", async () => {
    const proof = encodeZkProof(recipient, proofWords(otherProofFile.proof))
    assert.equal(otherAigcData.length, aigcData.length)
    assert.equal(await verifyOnChain(PROMPT, otherAigcData, proof), false)
    assert.equal(await verifyOnChain(PROMPT, aigcData, proof), false)
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

  it('imo verify fails (exit 9) on a proof replayed for another recipient, one proof or output value changed, another prompt or model', async () => {
    const editProof = (edit: (p: ZkProofFile) => ZkProofFile) => (copy: string) =>
      writeFileSync(join(copy, 'proof.json'), JSON.stringify(edit(proofFile)))
    const cases: [string, (copy: string) => void][] = [
      ['recipient', editProof((p) => ({ ...p, recipient: anvil.accounts[3]!.address }))],
      ['proof value', editProof((p) => ({ ...p, proof: { ...p.proof, eval_a: (BigInt(p.proof.eval_a) + 1n).toString() } }))],
      [
        'output value',
        (copy) => {
          const image = readFileSync(join(copy, 'image.bmp'))
          image[image.length - 1] = (image[image.length - 1]! + 1) % 256
          writeFileSync(join(copy, 'image.bmp'), image)
        },
      ],
      [
        'prompt',
        (copy) => {
          const record = JSON.parse(readFileSync(join(copy, 'record.json'), 'utf8'))
          writeFileSync(join(copy, 'record.json'), JSON.stringify({ ...record, prompt: 'a blue square' }))
        },
      ],
      ['model', (copy) => cpSync(join(dir, 'other-p1', 'proof.json'), join(copy, 'proof.json'))],
    ]
    const outcomes: Record<string, string> = {}
    for (const [what, edit] of cases) {
      const copy = join(dir, `tampered-${what.replace(' ', '-')}`)
      cpSync(join(dir, 'p1'), copy, { recursive: true })
      rmSync(join(copy, 'mint.json'))
      edit(copy)
      const result = await runCli(['verify', copy], { cwd: dir, env: { IMO_ZK_CACHE: TEST_ZK_CACHE } })
      outcomes[what] =
        `exit ${result.code}, zk proof ${/FAIL\s+zk proof/.test(result.stdout + result.stderr) ? 'FAIL' : 'not failed'}`
    }
    assert.deepEqual(outcomes, Object.fromEntries(cases.map(([what]) => [what, 'exit 9, zk proof FAIL'])))
    assert.ok(existsSync(join(dir, 'p1', 'mint.json')))
  })
})

describe('zk bad input: one line, exit 2, nothing written', () => {
  it('--prove on a model that is not zk, without --to, without keys and --ptau, or with an unknown ptau; deploy --proof-scheme zk of a non-zk model, of insecure keys or an unknown ptau without --insecure-ptau', async () => {
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
        [
          'unknown ptau',
          ['infer', '--model', ZKMODEL, '--prompt', 'x', '--prove', '--to', recipient, '--ptau', ptau, '--out', 'bad4'],
          {},
          /^error: unknown powers-of-tau file .* pass --insecure-ptau to accept it for testing$/m,
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
      // The cached keys of ZKMODEL come from the insecure test ptau: deploying them needs --insecure-ptau again.
      const deployArgs = ['deploy', '--model', ZKMODEL, '--proof-scheme', 'zk', '--name', 'C', '--symbol', 'C', '--supply', '1']
      for (const [what, extra, message] of [
        [
          'cached insecure keys',
          [],
          /^error: the keys of .* come from an INSECURE test powers-of-tau file .*: pass --insecure-ptau to deploy it anyway/m,
        ],
        [
          'unknown ptau',
          ['--ptau', ptau],
          /^error: unknown powers-of-tau file .* pass --insecure-ptau to accept it for testing$/m,
        ],
      ] as const) {
        const refused = await imo([...deployArgs, ...extra, '--deployment', join(dir, 'bad-zk.json')])
        assert.equal(refused.code, 2, `${what}: ${refused.stderr}`)
        assert.match(refused.stderr, message, what)
        assert.equal(refused.stderr.split('\n').filter((l) => l.startsWith('error:')).length, 1, what)
        assert.equal(existsSync(join(dir, 'bad-zk.json')), false, what)
      }
    } finally {
      rmSync(empty, { recursive: true, force: true })
    }
  })
})
