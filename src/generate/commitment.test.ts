import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { canonicalConfigJson, computeConfigHash, defaultInferenceConfig } from '../inference/config.js'
import { encodeTensors, sha256Hex } from '../tensor/encodeTensors.js'
import { GENERATED_IDS, PROMPT_IDS } from './runGeneration.js'

// Golden vectors of docs/formats.md sections 3 and 10.
describe('causal-lm commitment (golden vectors)', () => {
  it('adds the generation settings to the canonical settings, keys sorted at every level', () => {
    const config = {
      ...defaultInferenceConfig('1.30.0'),
      generation: { kind: 'causal-lm' as const, maxNewTokens: 16, temperature: 0, topK: 0, topP: 1, seed: 0, stopIds: [256] },
    }
    assert.equal(
      canonicalConfigJson(config),
      '{"executionMode":"sequential","executionProvider":"cpu","generation":{"kind":"causal-lm","maxNewTokens":16,"seed":0,"stopIds":[256],"temperature":0,"topK":0,"topP":1},"graphOptimizationLevel":"disabled","interOpNumThreads":1,"intraOpNumThreads":1,"onnxruntimeVersion":"1.30.0"}',
    )
    assert.equal(computeConfigHash(config), GOLDEN.configHash)
    // Without generation, the canonical form is unchanged (section 3's golden value).
    assert.equal(
      computeConfigHash(defaultInferenceConfig('1.30.0')),
      '0x5a742dacf8718850330603a88e523f33d7855e3c644612bee7f005591cc171c8',
    )
  })

  it('commits prompt ids and generated ids as int64 [1, n] tensors', () => {
    const ids = (values: bigint[]) => ({ type: 'int64' as const, dims: [1, values.length], data: BigInt64Array.from(values) })
    assert.equal(sha256Hex(encodeTensors({ [PROMPT_IDS]: ids([84n, 104n, 101n]) })), GOLDEN.inputHash)
    assert.equal(sha256Hex(encodeTensors({ [GENERATED_IDS]: ids([32n, 256n]) })), GOLDEN.outputHash)
  })
})

// Cross-checked: configHash with Foundry's `cast keccak`, the tensor hashes with Python's struct + hashlib.
const GOLDEN = {
  configHash: '0x6b206e69480654cda841de917b12c276d07123a09bb77409a6392eaaff4904b5',
  inputHash: '0x12b6a7c42d797d227e1c3715755649660c1fba8bcb8668dcd1df8c7de8feb161',
  outputHash: '0x6d0992fddf693b51e13f55e3c1be759a6c8fc69bb8ce40e49f96913339a58f51',
}
