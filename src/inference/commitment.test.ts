import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { concat, keccak256, stringToBytes } from 'viem'
import { computeCommitment, INFERENCE_TAG } from './commitment.js'
import { canonicalConfigJson, computeConfigHash, defaultInferenceConfig } from './config.js'

// Golden values computed with Foundry's `cast` (an independent Rust implementation):
//   cast keccak 'imo.inference.v1'
//   cast keccak '{"executionMode":"sequential",...}'
//   cast keccak $(cast abi-encode 'f(bytes32,bytes32,bytes32,bytes32,bytes32)' <tag> 0x11.. 0x22.. 0x33.. 0x44..)
const TAG = '0x6fd96798ec5133b28c6ef0101ad402429dc9dd23518cfc97b1bc806d17482424'
const CONFIG_JSON =
  '{"executionMode":"sequential","executionProvider":"cpu","graphOptimizationLevel":"disabled","interOpNumThreads":1,"intraOpNumThreads":1,"onnxruntimeVersion":"1.30.0"}'
const CONFIG_HASH = '0x5a742dacf8718850330603a88e523f33d7855e3c644612bee7f005591cc171c8'
const COMMITMENT = '0x965803f016ba6aa2e984202345e6ad31aa99afc47878e67d41cdfb030a173eeb'
const hashes = {
  modelHash: `0x${'11'.repeat(32)}`,
  inputHash: `0x${'22'.repeat(32)}`,
  outputHash: `0x${'33'.repeat(32)}`,
  configHash: `0x${'44'.repeat(32)}`,
} as const

describe('configHash', () => {
  it('hashes the compact, key-sorted JSON of the default settings', () => {
    const config = defaultInferenceConfig('1.30.0')
    assert.equal(canonicalConfigJson(config), CONFIG_JSON)
    assert.equal(computeConfigHash(config), CONFIG_HASH)
    assert.equal(keccak256(stringToBytes(CONFIG_JSON)), CONFIG_HASH)
  })

  it('does not depend on key order but on every value', () => {
    const config = defaultInferenceConfig('1.30.0')
    const reordered = Object.fromEntries(Object.entries(config).reverse()) as typeof config
    assert.equal(computeConfigHash(reordered), CONFIG_HASH)
    assert.notEqual(computeConfigHash({ ...config, graphOptimizationLevel: 'all' }), CONFIG_HASH)
    assert.notEqual(computeConfigHash({ ...config, onnxruntimeVersion: '1.29.0' }), CONFIG_HASH)
  })
})

describe('commitment', () => {
  it('matches the golden value and a manual concatenation of the five words', () => {
    assert.equal(INFERENCE_TAG, TAG)
    assert.equal(computeCommitment(hashes), COMMITMENT)
    // abi.encode of five bytes32 is their plain concatenation.
    assert.equal(keccak256(concat([TAG, hashes.modelHash, hashes.inputHash, hashes.outputHash, hashes.configHash])), COMMITMENT)
  })

  it('changes with each hash and refuses values that are not bytes32', () => {
    for (const key of Object.keys(hashes) as (keyof typeof hashes)[])
      assert.notEqual(computeCommitment({ ...hashes, [key]: `0x${'55'.repeat(32)}` }), COMMITMENT)
    assert.throws(() => computeCommitment({ ...hashes, inputHash: '0x1234' }), {
      message: 'inputHash is not a bytes32 (0x + 64 hex digits): 0x1234',
    })
  })
})
