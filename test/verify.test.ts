/**
 * imo verify: a minted record and token pass; one byte changed anywhere (model, output, input, record,
 * proof) or a proof signed for another collection fails with the check that caught it (exit 9).
 */
import assert from 'node:assert/strict'
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { privateKeyToAccount } from 'viem/accounts'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { encodeProof } from '../src/mint/encodeProof.js'
import { signAttestation } from '../src/mint/signAttestation.js'
import { type CliResult, repoRoot, runCli } from './helpers/runCli.js'

const CPPN = join(repoRoot, 'models', 'cppn')
let anvil: Anvil
let dir: string
let folder: string
let tokenIdHex: string

const imo = (args: string[]) =>
  runCli([...args, '--rpc-url', anvil.rpcUrl], { cwd: dir, env: { IMO_PRIVATE_KEY: anvil.accounts[0]!.privateKey } })
const errorLine = (result: CliResult) => result.stderr.split('\n').find((line) => line.startsWith('error:'))
/** A copy of the minted folder with one change applied. */
const tampered = (name: string, change: (copy: string) => void) => {
  const copy = join(dir, `tampered-${name}`)
  cpSync(folder, copy, { recursive: true })
  change(copy)
  return copy
}
const flipByte = (file: string, at: number) => {
  const bytes = readFileSync(file)
  const index = at < 0 ? bytes.length + at : at
  bytes[index] = bytes[index]! ^ 0x01
  writeFileSync(file, bytes)
}
const assertFails = (result: CliResult, check: string) => {
  assert.equal(result.code, 9, result.stderr)
  assert.match(errorLine(result)!, new RegExp(`^error: verification failed: ${check}: `))
  assert.doesNotMatch(result.stderr, /at .*\.js:\d+/)
}

before(async () => {
  anvil = await startAnvil()
  dir = mkdtempSync(join(tmpdir(), 'imo-verify-'))
  const deployed = await imo(['deploy', '--model', CPPN, '--name', 'T', '--symbol', 'T', '--supply', '1000', '--json'])
  assert.equal(deployed.code, 0, deployed.stderr)
  const minted = await imo(['infer-and-mint', 'a red spiral', '--json'])
  assert.equal(minted.code, 0, minted.stderr)
  const outcome = JSON.parse(minted.stdout).outcomes[0]
  folder = outcome.outDir
  tokenIdHex = outcome.tokenIdHex
})
after(async () => {
  await anvil?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('imo verify', () => {
  it('passes a minted record, every check listed in --json', async () => {
    const result = await imo(['verify', folder, '--json'])
    assert.equal(result.code, 0, result.stderr)
    const report = JSON.parse(result.stdout)
    assert.equal(report.ok, true)
    const names = report.checks.map((c: { name: string }) => c.name)
    for (const name of [
      'runtime',
      'input hash',
      'output hash',
      'artifact hash',
      'config hash',
      'commitment',
      'model hash',
      're-execution',
      'prompt -> inputs',
      'outputs -> artifact',
      'attestation signature',
      'attester',
      'on-chain verify',
      'proof recipient',
      'token on chain',
      'tensor summaries',
      'output files',
      'proof scheme',
      'signer',
      'token id',
      'metadata',
      'token URI',
      'mint transaction',
    ])
      assert.ok(names.includes(name), name)
    assert.ok(report.checks.every((c: { status: string }) => c.status === 'pass'))
  })

  it('passes a minted token read from the chain (--token), metadata found by its CID', async () => {
    const result = await imo(['verify', '--token', tokenIdHex, '--json'])
    assert.equal(result.code, 0, result.stderr)
    const report = JSON.parse(result.stdout)
    assert.deepEqual(
      report.checks.map((c: { name: string; status: string }) => `${c.name}:${c.status}`),
      [
        'AigcData event:pass',
        'proof format:pass',
        'attestation signature:pass',
        'attester:pass',
        'metadata:pass',
        'runtime:pass',
        'model hash:pass',
        're-execution:pass',
        'on-chain verify:pass',
        'commitment:pass',
      ],
    )
  })

  it('fails on one byte changed in the model', async () => {
    const model = join(dir, 'model-copy')
    cpSync(CPPN, model, { recursive: true })
    flipByte(join(model, 'model.onnx'), -40)
    assertFails(await imo(['verify', folder, '--model', model]), 'model hash')
    assertFails(await imo(['verify', '--token', tokenIdHex, '--model', model]), 'model hash')
  })

  it('is unverified (exit 10), not failed, when the model is not on this machine', async () => {
    const away = join(dir, 'model-elsewhere')
    const record = tampered('model-elsewhere', (copy) => {
      const file = join(copy, 'record.json')
      const json = JSON.parse(readFileSync(file, 'utf8'))
      json.model = { ...json.model, path: away, absolutePath: away }
      writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`)
    })
    const deployment = join(dir, 'deployment-elsewhere.json')
    const file = JSON.parse(readFileSync(join(dir, '.imo', 'deployments', '31337', 'default.json'), 'utf8'))
    writeFileSync(deployment, JSON.stringify({ ...file, model: { ...file.model, path: away } }))
    for (const args of [[record], ['--token', tokenIdHex, '--deployment', deployment]]) {
      const result = await imo(['verify', ...args, '--json'])
      assert.equal(result.code, 10, result.stdout + result.stderr)
      const report = JSON.parse(result.stdout).result
      assert.equal(report.status, 'unverified')
      const reexecution = report.checks.find((c: { name: string }) => c.name === 're-execution')
      assert.equal(reexecution.status, 'skip')
      assert.equal(reexecution.detail, `the model ${away} is not on this machine: the re-execution needs it (pass --model PATH)`)
      assert.ok(
        report.checks.every((c: { status: string }) => c.status !== 'fail'),
        JSON.stringify(report.checks),
      )
    }
  })

  it('fails on one byte changed in the output', async () => {
    assertFails(await imo(['verify', tampered('output', (copy) => flipByte(join(copy, 'outputs.imt'), -3))]), 'output hash')
    assertFails(await imo(['verify', tampered('artifact', (copy) => flipByte(join(copy, 'image.png'), 200))]), 'artifact hash')
  })

  it('fails on one byte changed in the input', async () => {
    assertFails(await imo(['verify', tampered('input', (copy) => flipByte(join(copy, 'inputs.imt'), -3))]), 'input hash')
  })

  it('fails on one byte changed in the record', async () => {
    const copy = tampered('record', (c) => {
      const file = join(c, 'record.json')
      const text = readFileSync(file, 'utf8')
      const record = JSON.parse(text)
      const last = record.commitment.at(-1) === '0' ? '1' : '0'
      writeFileSync(file, text.replace(record.commitment, record.commitment.slice(0, -1) + last))
    })
    assertFails(await imo(['verify', copy]), 'commitment')
  })

  it('fails on one byte changed in the proof', async () => {
    const copy = tampered('proof', (c) => {
      const file = join(c, 'mint.json')
      const mint = JSON.parse(readFileSync(file, 'utf8'))
      const at = 2 + 2 * 172 // a byte inside the signature's r (after kind, commitment, to, offset, length)
      mint.proof = mint.proof.slice(0, at) + (mint.proof[at] === '0' ? '1' : '0') + mint.proof.slice(at + 1)
      writeFileSync(file, JSON.stringify(mint))
    })
    const result = await imo(['verify', copy, '--json'])
    assertFails(result, '(signer|attestation signature|attester)')
    assert.match(JSON.parse(result.stdout).error.details, /FAIL {2}on-chain verify/)
  })

  it('fails on a proof signed for another collection', async () => {
    const copy = tampered('other-collection', () => {})
    const mint = JSON.parse(readFileSync(join(copy, 'mint.json'), 'utf8'))
    const record = JSON.parse(readFileSync(join(copy, 'record.json'), 'utf8'))
    const signature = await signAttestation(privateKeyToAccount(anvil.accounts[0]!.privateKey), {
      kind: 'mint',
      chainId: 31337,
      collection: '0x000000000000000000000000000000000000dEaD',
      modelHash: record.modelHash,
      promptHash: record.promptHash,
      aigcDataHash: record.aigcDataHash,
      commitment: record.commitment,
      to: mint.to,
    })
    writeFileSync(
      join(copy, 'mint.json'),
      JSON.stringify({ ...mint, proof: encodeProof({ kind: 'mint', commitment: record.commitment, to: mint.to, signature }) }),
    )
    assertFails(await imo(['verify', copy]), 'signer')
  })

  describe('forged proofs (issue 11 item 1)', () => {
    /** A copy whose proof is signed by `key` for `chainId`, with mint.json's fields changed by `edit`. */
    const forged = async (name: string, key: `0x${string}`, chainId: number, edit: Record<string, unknown> = {}) => {
      const copy = tampered(name, () => {})
      const mint = JSON.parse(readFileSync(join(copy, 'mint.json'), 'utf8'))
      const record = JSON.parse(readFileSync(join(copy, 'record.json'), 'utf8'))
      const signature = await signAttestation(privateKeyToAccount(key), {
        kind: 'mint',
        chainId,
        collection: mint.collection,
        modelHash: record.modelHash,
        promptHash: record.promptHash,
        aigcDataHash: record.aigcDataHash,
        commitment: record.commitment,
        to: mint.to,
      })
      const proof = encodeProof({ kind: 'mint', commitment: record.commitment, to: mint.to, signature })
      writeFileSync(join(copy, 'mint.json'), JSON.stringify({ ...mint, proof, ...edit }))
      return copy
    }
    /** No RPC anywhere: a fresh folder as cwd (no devnet file), no IMO_RPC_URL. */
    const offline = (args: string[]) => runCli(args, { cwd: mkdtempSync(join(tmpdir(), 'imo-offline-')) })
    const attacker = () => ({
      key: anvil.accounts[5]!.privateKey,
      address: privateKeyToAccount(anvil.accounts[5]!.privateKey).address,
    })

    it('a record re-signed by a non-attester fails with an RPC (exit 9, attester) and is unverified without one (exit 10)', async () => {
      const { key, address } = attacker()
      const copy = await forged('non-attester', key, 31337, { signer: address, attester: address })
      assertFails(await imo(['verify', copy]), 'attester')
      const unverified = await offline(['verify', copy, '--json'])
      assert.equal(unverified.code, 10, unverified.stderr)
      assert.match(
        errorLine(unverified)!,
        /^error: unverified: attester \(whether 0x[0-9a-fA-F]{40} is an attester of 0x[0-9a-fA-F]{40} needs an RPC URL/,
      )
      const body = JSON.parse(unverified.stdout)
      assert.equal(body.error.exitCode, 10)
      assert.equal(body.result.status, 'unverified')
      assert.equal(body.result.ok, false)
      assert.equal(body.result.checks.find((c: { name: string }) => c.name === 'signer').status, 'pass')
      // --offline: exit 0, and the output says in words what was not checked.
      const accepted = await offline(['verify', copy, '--offline'])
      assert.equal(accepted.code, 0, accepted.stderr)
      assert.match(
        accepted.stdout,
        /verified OFFLINE only \(\d+ checks passed; NOT checked: attester, on-chain verify, token on chain, token URI, mint transaction\)/,
      )
      assert.match(accepted.stdout, /SKIP {2}attester +whether 0x/)
      assert.match(accepted.stderr, /warning: --offline: NOT checked: attester \(whether 0x[0-9a-fA-F]{40} is an attester of /)
    })

    it('a genuine record is unverified without an RPC (exit 10) and verified with one', async () => {
      const result = await offline(['verify', folder])
      assert.equal(result.code, 10, result.stderr)
      assert.match(result.stdout, /UNVERIFIED \(\d+ checks passed; NOT checked: attester, on-chain verify/)
      assert.equal((await imo(['verify', folder])).code, 0)
    })

    it('a proof signed for another chain id fails (exit 9), also when mint.json names that chain and the RPC serves another (exit 10)', async () => {
      // The attester's own key, but the EIP-712 domain of chain 1: it does not recover to the signer.
      const otherChain = await forged('other-chain', anvil.accounts[0]!.privateKey, 1)
      assertFails(await imo(['verify', otherChain]), 'signer')
      assertFails(await offline(['verify', otherChain]), 'signer')
      // A non-attester signing for chain 1 and saying so: the RPC serves 31337, so nothing decides.
      const { key, address } = attacker()
      const claimed = await forged('claims-other-chain', key, 1, { chainId: 1, signer: address, attester: address })
      const result = await imo(['verify', claimed])
      assert.equal(result.code, 10, result.stderr)
      assert.match(result.stdout, /SKIP {2}chain +the token is on chain 1, the RPC serves chain 31337/)
    })

    it('changing only chainId in a genuine mint.json fails (exit 9, signer), with or without an RPC', async () => {
      const copy = tampered('chain-id', (c) => {
        const file = join(c, 'mint.json')
        writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), chainId: 1 }))
      })
      assertFails(await offline(['verify', copy]), 'signer')
      assertFails(await imo(['verify', copy]), 'signer')
    })
  })

  describe('every field is checked (issue 11 item 4)', () => {
    // biome-ignore lint/suspicious/noExplicitAny: JSON files being tampered with, any shape
    type Json = any
    const editJson = (file: string, edit: (value: Json) => void) => {
      const value = JSON.parse(readFileSync(file, 'utf8'))
      edit(value)
      writeFileSync(file, JSON.stringify(value))
    }
    const mintEdit = (name: string, edit: (mint: Json) => void) =>
      tampered(name, (copy) => editJson(join(copy, 'mint.json'), edit))
    const other = () => anvil.accounts[3]!.address

    it('record.json: tensor names/dims, image.npy and outputs.json', async () => {
      assertFails(
        await imo([
          'verify',
          tampered('dims', (c) => editJson(join(c, 'record.json'), (r) => (r.outputs.tensors[0].dims[2] = 1))),
        ]),
        'tensor summaries',
      )
      assertFails(
        await imo([
          'verify',
          tampered('tensor-name', (c) => editJson(join(c, 'record.json'), (r) => (r.inputs.tensors[0].name = 'w'))),
        ]),
        'tensor summaries',
      )
      assertFails(await imo(['verify', tampered('npy', (c) => flipByte(join(c, 'image.npy'), -5))]), 'output files')
      assertFails(
        await imo(['verify', tampered('outputs-json', (c) => appendFileSync(join(c, 'outputs.json'), ' '))]),
        'output files',
      )
    })

    it('mint.json: tokenIdHex, proofScheme, signer, attester', async () => {
      assertFails(await imo(['verify', mintEdit('token-id-hex', (m) => (m.tokenIdHex = `0x${'0'.repeat(63)}1`))]), 'token id')
      assertFails(await imo(['verify', mintEdit('scheme', (m) => (m.proofScheme = 'erc1271'))]), 'proof scheme')
      assertFails(await imo(['verify', mintEdit('signer', (m) => (m.signer = other()))]), 'signer')
      assertFails(await imo(['verify', mintEdit('attester', (m) => (m.attester = other()))]), 'signer')
    })

    it('mint.json: tokenUri, to, mintFeeWei, txHash, blockNumber against the chain', async () => {
      assertFails(await imo(['verify', mintEdit('uri', (m) => (m.tokenUri = 'ipfs://bafkreiother'))]), 'metadata')
      assertFails(await imo(['verify', mintEdit('to', (m) => (m.to = other()))]), 'proof recipient')
      assertFails(await imo(['verify', mintEdit('fee', (m) => (m.mintFeeWei = '1'))]), 'mint transaction')
      assertFails(await imo(['verify', mintEdit('block', (m) => (m.blockNumber = '1'))]), 'mint transaction')
      assertFails(await imo(['verify', mintEdit('tx', (m) => (m.txHash = `0x${'ab'.repeat(32)}`))]), 'mint transaction')
      const uri = await imo(['verify', mintEdit('uri-data', (m) => (m.tokenUri = 'data:application/json,{}')), '--json'])
      assertFails(uri, 'token URI')
    })
  })

  it("asks for --trust-pipeline before running a pipeline that is not imo's bundled one (exit 2)", async () => {
    const model = join(dir, 'their-model')
    cpSync(CPPN, model, { recursive: true })
    appendFileSync(join(model, 'imo.pipeline.mjs'), '\n// their edit\n')
    const out = join(dir, 'theirs')
    assert.equal((await runCli(['infer', '--model', model, '--prompt', 'p', '--out', out], { cwd: dir })).code, 0)
    const refused = await runCli(['verify', out], { cwd: dir })
    assert.equal(refused.code, 2)
    assert.equal(
      errorLine(refused),
      `error: verifying this needs to run the model's pipeline ${join(model, 'imo.pipeline.mjs')}, which is not imo's bundled one: running it runs its author's code in this process`,
    )
    const trusted = await runCli(['verify', out, '--trust-pipeline', '--json'], { cwd: dir })
    assert.equal(trusted.code, 0, trusted.stderr)
    assert.equal(JSON.parse(trusted.stdout).checks.find((c: { name: string }) => c.name === 'attestation').status, 'info')
  })
  it('rejects a malformed --token or --collection (exit 2) before any RPC', async () => {
    // An RPC that does not answer: the flags must fail first.
    const offline = ['--rpc-url', 'http://127.0.0.1:9', '--model', CPPN]
    const badToken = await runCli(['verify', '--token', 'xyz', ...offline], { cwd: dir })
    assert.equal(badToken.code, 2, badToken.stderr)
    assert.equal(errorLine(badToken), 'error: --token must be a token id (decimal or 0x-hex), not "xyz"')
    const badCollection = await runCli(['verify', '--token', '1', '--collection', '0x1234', ...offline], { cwd: dir })
    assert.equal(badCollection.code, 2, badCollection.stderr)
    assert.equal(errorLine(badCollection), 'error: --collection must be a 0x-prefixed 20-byte address, not "0x1234"')
  })
})
