/**
 * PLONK proofs of a small zk model (real circom, snarkjs and onnxruntime; an insecure test ptau): a
 * proof of a genuine output verifies offline; the same proof for one output byte changed, another
 * prompt, another recipient, another model hash or another model's verification key does not. The
 * powers-of-tau file is checked: unknown without --insecure-ptau, or too small, is one line, exit 2.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { VerificationKey } from 'snarkjs'
import { buildZkCppnFloat } from '../scripts/build-zk-model.js'
import { compileZkModel } from '../src/zk/compileZkModel.js'
import { proofWords, proveZk, type ZkProofFile } from '../src/zk/proveZk.js'
import { promptLatent } from '../src/zk/publicSignals.js'
import { verifyZkProof } from '../src/zk/verifyZkProof.js'
import { artifactPaths } from '../src/zk/zkArtifacts.js'
import { zkImageBytes } from '../src/zk/zkImage.js'
import { runCli } from './helpers/runCli.js'
import { runZkOnnx, testPtau } from './helpers/zkFixtures.js'

const RECIPIENT = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const OTHER = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'
const utf8 = (s: string) => new TextEncoder().encode(s)

let dir: string
let ptau: string
let compiled: Awaited<ReturnType<typeof compileZkModel>>
let vk: VerificationKey
let proof: ZkProofFile
let payload: Uint8Array
const prompt = utf8('a red spiral')

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'imo-zk-prove-'))
  ptau = await testPtau(12)
  const floatPath = join(dir, 'tiny.onnx')
  writeFileSync(floatPath, buildZkCppnFloat({ size: 4, units: 2 }))
  compiled = await compileZkModel({ input: floatPath, outDir: join(dir, 'tiny'), ptau, allowInsecurePtau: true })
  const paths = artifactPaths(compiled.circuitDir!)
  vk = JSON.parse(readFileSync(paths.verificationKey, 'utf8'))
  const { model } = compiled
  const output = await runZkOnnx(readFileSync(join(compiled.modelFolder!, 'model.onnx')), model.graph, promptLatent(prompt, 8))
  payload = zkImageBytes(model.layout, model.config.palette, output).subarray(model.prefix.length)
  const made = await proveZk({
    artifacts: { paths, circuit: compiled.circuit!, setup: compiled.setup! },
    prompt,
    payload,
    recipient: RECIPIENT,
  })
  proof = made.proof
  assert.ok(made.stats.proveMs > 0 && made.stats.peakRssBytes > 0)
})
after(() => rmSync(dir, { recursive: true, force: true }))

describe('zk proofs of a small model', () => {
  it('the setup is labelled insecure and its proof names the model and recipient', () => {
    assert.equal(compiled.setup!.insecure, true)
    assert.equal(compiled.setup!.ptau.name, null)
    assert.equal(proof.insecure, true)
    assert.equal(proof.modelHash, compiled.model.modelHash)
    assert.equal(proof.recipient, RECIPIENT)
    assert.equal(proofWords(proof.proof).length, 24)
    assert.equal(proof.publicSignals.length, vk.nPublic)
  })

  it('a genuine output verifies offline', async () => {
    const check = await verifyZkProof(vk, proof.proof, {
      modelHash: compiled.model.modelHash,
      prompt,
      payload,
      recipient: RECIPIENT,
    })
    assert.deepEqual(check, { ok: true })
  })

  it('one output byte changed, another prompt, recipient or model hash: rejected', async () => {
    const claim = { modelHash: compiled.model.modelHash, prompt, payload, recipient: RECIPIENT } as const
    const changed = Uint8Array.from(payload)
    changed[5] = (changed[5]! + 1) % 256
    for (const [what, other] of [
      ['output byte', { ...claim, payload: changed }],
      ['prompt', { ...claim, prompt: utf8('a blue square') }],
      ['recipient', { ...claim, recipient: OTHER }],
      ['model hash', { ...claim, modelHash: `0x${'11'.repeat(32)}` }],
    ] as const) {
      const check = await verifyZkProof(vk, proof.proof, other)
      assert.equal(check.ok, false, what)
      assert.match(check.reason!, /does not verify/)
    }
  })

  it("another model's verification key rejects it", async () => {
    const floatPath = join(dir, 'other.onnx')
    writeFileSync(floatPath, buildZkCppnFloat({ size: 4, units: 3 }))
    const other = await compileZkModel({ input: floatPath, outDir: join(dir, 'other'), ptau, allowInsecurePtau: true })
    const otherVk = JSON.parse(readFileSync(artifactPaths(other.circuitDir!).verificationKey, 'utf8'))
    assert.notEqual(other.model.modelHash, compiled.model.modelHash)
    for (const modelHash of [compiled.model.modelHash, other.model.modelHash]) {
      const check = await verifyZkProof(otherVk, proof.proof, { modelHash, prompt, payload, recipient: RECIPIENT })
      assert.equal(check.ok, false)
    }
  })
})

describe('imo zk compile --ptau', () => {
  it('refuses an unknown ptau without --insecure-ptau, and a ptau too small for the circuit', async () => {
    const model = join(dir, 'tiny', 'model')
    const unknown = await runCli(['zk', 'compile', model, '--out', join(dir, 'a'), '--ptau', ptau], { cwd: dir })
    assert.equal(unknown.code, 2, unknown.stderr)
    assert.match(unknown.stderr, /^error: unknown powers-of-tau file .* pass --insecure-ptau to accept it for testing$/m)
    const small = await testPtau(8)
    const tooSmall = await runCli(['zk', 'compile', model, '--out', join(dir, 'b'), '--ptau', small, '--insecure-ptau'], {
      cwd: dir,
      timeoutMs: 300_000,
    })
    assert.equal(tooSmall.code, 2, tooSmall.stderr)
    assert.match(
      tooSmall.stderr,
      /^error: the powers-of-tau file .* holds 2\^8 powers, the circuit has \d+ PLONK constraints and needs 2\^1[12]: use powersOfTau28_hez_final_1[12]\.ptau or a larger one$/m,
    )
    for (const result of [unknown, tooSmall])
      assert.equal(result.stderr.split('\n').filter((l) => l.startsWith('error:')).length, 1)
  })
})
