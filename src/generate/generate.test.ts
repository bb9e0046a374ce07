import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import * as ort from 'onnxruntime-node'
import { repoRoot } from '../../test/helpers/runCli.js'
import { loadModel } from '../inference/loadModel.js'
import { generateTokens } from './generateTokens.js'
import { type GenerationSettings, resolveGenerationSettings } from './generationSettings.js'
import { type CausalLm, loadCausalLm } from './loadCausalLm.js'
import { runGeneration } from './runGeneration.js'
import { candidates, pickToken, sampleUniform } from './sampleToken.js'
import { streamText } from './streamText.js'

const TINYLM = join(repoRoot, 'models', 'tinylm')
const NOCACHE = join(repoRoot, 'test', 'fixtures', 'lm-nocache')
const greedy = (maxNewTokens: number): GenerationSettings => ({
  kind: 'causal-lm',
  maxNewTokens,
  temperature: 0,
  topK: 0,
  topP: 1,
  seed: 0,
  stopIds: [256],
})
/** Both models have a byte-level vocabulary: a prompt's ids are its UTF-8 bytes. */
const bytesOf = (text: string) => [...Buffer.from(text, 'utf8')]

async function lmAt(path: string): Promise<CausalLm> {
  const lm = await loadCausalLm(await loadModel(path))
  assert.ok(lm)
  return lm
}

/**
 * An independent greedy loop: its own session and feeds, written from the Optimum layout, with a
 * cache when the model has one (position ids only when it takes them).
 */
async function referenceGreedy(onnx: string, prompt: number[], steps: number, stop: number): Promise<number[]> {
  const session = await ort.InferenceSession.create(onnx, {
    graphOptimizationLevel: 'disabled',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  })
  const pastNames = session.inputNames.filter((n) => n.startsWith('past_key_values.'))
  const hasPositions = session.inputNames.includes('position_ids')
  const int64 = (values: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [1, values.length])
  const tokens = [...prompt]
  const out: number[] = []
  let past: Record<string, ort.Tensor> = {}
  for (const name of pastNames) past[name] = new ort.Tensor('float32', new Float32Array(0), [1, 4, 0, 24])
  for (let step = 0; step < steps; step++) {
    const fresh = pastNames.length && step > 0 ? tokens.slice(-1) : tokens
    const start = tokens.length - fresh.length
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(fresh),
      attention_mask: int64(tokens.map(() => 1)),
      ...past,
    }
    if (hasPositions) feeds.position_ids = int64(fresh.map((_, i) => start + i))
    const result = await session.run(feeds)
    const logits = result.logits!
    const vocab = logits.dims[2]!
    const row = (logits.data as Float32Array).slice((fresh.length - 1) * vocab, fresh.length * vocab)
    const next = row.indexOf(Math.max(...row))
    out.push(next)
    tokens.push(next)
    past = {}
    for (const name of pastNames) past[name] = result[name.replace('past_key_values.', 'present.')]!
    if (next === stop) break
  }
  await session.release()
  return out
}

describe('sampling (imo-sample-v1)', () => {
  it('draws uniform numbers from SHA-256 of the domain, seed and step (golden vectors)', () => {
    // Recomputed here from the spec with node:crypto, and pinned as literals.
    const spec = (seed: number, step: number) => {
      const m = Buffer.concat([Buffer.from('imo-sample-v1'), Buffer.alloc(12)])
      m.writeBigUInt64LE(BigInt(seed), 13)
      m.writeUInt32LE(step, 21)
      return Number(createHash('sha256').update(m).digest().readBigUInt64BE(0) >> 11n) / 2 ** 53
    }
    for (const [seed, step] of [
      [0, 0],
      [0, 1],
      [42, 7],
      [2 ** 53 - 1, 4294967295],
    ] as const)
      assert.equal(sampleUniform(seed, step), spec(seed, step))
    assert.deepEqual([sampleUniform(0, 0), sampleUniform(0, 1), sampleUniform(42, 7)], GOLDEN_UNIFORM)
  })

  it('greedy takes the argmax, ties to the lowest id; top-k 1 is greedy too', () => {
    const settings = { temperature: 0, topK: 0, topP: 1, seed: 0 }
    assert.equal(pickToken(new Float32Array([0.1, 2, 0.3, 2]), settings, 0), 1)
    assert.equal(pickToken(new Float32Array([0.1, 2, 0.3, 2]), { ...settings, temperature: 1, topK: 1 }, 5), 1)
  })

  it('top-p keeps the smallest most likely set, and draws follow the uniform number', () => {
    const logits = new Float32Array([Math.log(0.5), Math.log(0.3), Math.log(0.2)])
    // top-p 0.5 keeps only token 0.
    for (let step = 0; step < 20; step++)
      assert.equal(pickToken(logits, { temperature: 1, topK: 0, topP: 0.5, seed: 3 }, step), 0)
    // Without filters, token i is drawn when u falls in its share of [0, 1).
    for (let step = 0; step < 50; step++) {
      const u = sampleUniform(9, step)
      const expected = u < 0.5 ? 0 : u < 0.8 ? 1 : 2
      const got = pickToken(logits, { temperature: 1, topK: 0, topP: 1, seed: 9 }, step)
      // Within float rounding of the boundaries.
      if (Math.abs(u - 0.5) > 1e-9 && Math.abs(u - 0.8) > 1e-9) assert.equal(got, expected, `step ${step} u ${u}`)
    }
  })
})

describe('generation settings', () => {
  it('resolves flag > imo.pipeline.json > generation_config.json > defaults', () => {
    const files = {
      pipeline: { maxNewTokens: 20 },
      generationConfig: { max_new_tokens: 50, do_sample: true, top_k: 40, temperature: 0.7, eos_token_id: [2, 1] },
    }
    assert.deepEqual(resolveGenerationSettings(files, { topK: '5' }), {
      kind: 'causal-lm',
      maxNewTokens: 20,
      temperature: 0.7,
      topK: 5,
      topP: 1,
      seed: 0,
      stopIds: [1, 2],
    })
    assert.equal(
      resolveGenerationSettings({ pipeline: {}, generationConfig: { do_sample: false, temperature: 0.7 } }).temperature,
      0,
    )
    assert.deepEqual(resolveGenerationSettings({ pipeline: {}, generationConfig: {} }, {}, [256]).stopIds, [256])
  })

  it('rejects bad values naming the flag or file key', () => {
    const none = { pipeline: {}, generationConfig: {} }
    for (const [flags, message] of [
      [{ topP: '1.5' }, '--top-p must be a number > 0 and <= 1 (got "1.5")'],
      [{ maxNewTokens: '0' }, '--max-new-tokens must be a whole number >= 1 (got "0")'],
      [{ temperature: '-1' }, '--temperature must be a number >= 0 (0 = greedy) (got "-1")'],
      [{ seed: '1.5' }, '--seed must be a whole number from 0 to 2^53 - 1 (got "1.5")'],
      [{ topK: 'x' }, '--top-k must be a whole number >= 0 (0 = no limit) (got "x")'],
    ] as const)
      assert.throws(() => resolveGenerationSettings(none, flags), { message })
    assert.throws(() => resolveGenerationSettings({ pipeline: { topP: 0 }, generationConfig: {} }), {
      message: 'imo.pipeline.json topP must be a number > 0 and <= 1 (got 0)',
    })
  })
})

describe('generateTokens on real models', () => {
  let tinylm: CausalLm
  let nocache: CausalLm
  before(async () => {
    tinylm = await lmAt(TINYLM)
    nocache = await lmAt(NOCACHE)
  })

  it('reads the layout from the models: tinylm has position ids and 3 layers of cache, the fixture neither', () => {
    assert.equal(tinylm.positionIds, true)
    assert.deepEqual(
      tinylm.cache.map((slot) => [slot.past, slot.present, slot.heads, slot.headSize]),
      [0, 1, 2].flatMap((n) => [
        [`past_key_values.${n}.key`, `present.${n}.key`, 4, 24],
        [`past_key_values.${n}.value`, `present.${n}.value`, 4, 24],
      ]),
    )
    assert.equal(tinylm.contextSize, 512)
    assert.equal(nocache.positionIds, false)
    assert.deepEqual(nocache.cache, [])
  })

  it('greedy tokens equal an independent loop over the same model (tinylm with cache, fixture without)', async () => {
    for (const [lm, onnx] of [
      [tinylm, join(TINYLM, 'model.onnx')],
      [nocache, join(NOCACHE, 'model.onnx')],
    ] as const) {
      const prompt = bytesOf('The river ran')
      const ours = await generateTokens(lm, prompt, greedy(40))
      const theirs = await referenceGreedy(onnx, prompt, 40, 256)
      assert.deepEqual(ours.ids, theirs)
      assert.ok(ours.ids.length > 5)
    }
  })

  it('with and without the cache: the same tokens; with it, every step after the first feeds one token', async () => {
    const prompt = bytesOf('The market opened')
    const feeds: { ids: number[]; mask: number[]; positions: number[]; past: number[] }[] = []
    const cached = await generateTokens(tinylm, prompt, greedy(30), {
      onFeeds: (f) =>
        feeds.push({
          ids: [...f.input_ids!.dims],
          mask: [...f.attention_mask!.dims],
          positions: Array.from(f.position_ids!.data as BigInt64Array, Number),
          past: [...f['past_key_values.0.key']!.dims],
        }),
    })
    const uncached = await generateTokens(tinylm, prompt, greedy(30), { useCache: false })
    assert.deepEqual(cached.ids, uncached.ids)
    assert.equal(feeds.length, cached.ids.length)
    assert.deepEqual(feeds[0], {
      ids: [1, prompt.length],
      mask: [1, prompt.length],
      positions: prompt.map((_, i) => i),
      past: [1, 4, 0, 24],
    })
    feeds.slice(1).forEach((f, i) => {
      const length = prompt.length + i + 1
      assert.deepEqual(f, { ids: [1, 1], mask: [1, length], positions: [length - 1], past: [1, 4, length - 1, 24] })
    })
  })

  it('sampling: the same seed gives the same tokens, another seed others', async () => {
    const prompt = bytesOf('The train')
    const sample = (seed: number) =>
      generateTokens(tinylm, prompt, { ...greedy(40), temperature: 1, topK: 0, topP: 0.95, seed, stopIds: [] })
    const [a, b, c] = [await sample(1), await sample(1), await sample(2)]
    assert.deepEqual(a.ids, b.ids)
    assert.notDeepEqual(a.ids, c.ids)
    assert.notDeepEqual(a.ids, (await generateTokens(tinylm, prompt, { ...greedy(40), stopIds: [] })).ids)
  })

  it('stops at a stop id, keeping it', async () => {
    const free = await generateTokens(tinylm, bytesOf('The cat'), { ...greedy(300), stopIds: [] })
    const stopAt = free.ids[7]!
    const stopped = await generateTokens(tinylm, bytesOf('The cat'), { ...greedy(300), stopIds: [stopAt] })
    assert.equal(stopped.stop, 'stop-id')
    assert.deepEqual(stopped.ids, free.ids.slice(0, free.ids.indexOf(stopAt) + 1))
  })

  it('refuses an empty prompt and a generation beyond the context', async () => {
    await assert.rejects(generateTokens(tinylm, [], greedy(4)), { message: 'the prompt encodes to zero tokens: give some text' })
    await assert.rejects(generateTokens(tinylm, [1, 2, 3], greedy(510)), {
      message: "--max-new-tokens 510 with a 3-token prompt exceeds the model's context of 512 tokens",
    })
  })
})

describe('--stream: the text as it comes, decoded incrementally', () => {
  let tinylm: CausalLm
  before(async () => {
    tinylm = await lmAt(TINYLM)
  })

  it('prints each character once it is whole, UTF-8 split across tokens included', async () => {
    const text = 'añ日本😀 ok'
    const deltas: string[] = []
    const stream = streamText(tinylm.tokenizer, (delta) => deltas.push(delta))
    for (const id of bytesOf(text)) stream.push(id)
    await stream.finish(await tinylm.tokenizer.decode(bytesOf(text)))
    assert.deepEqual(deltas, ['a', 'ñ', '日', '本', '😀', ' ', 'o', 'k'])
  })

  it('decodes a few ids per token, not the whole text again (the streamed text is the final one)', async () => {
    let decoded = 0
    const counting: CausalLm = {
      ...tinylm,
      tokenizer: {
        ...tinylm.tokenizer,
        decode: (ids) => {
          decoded += ids.length
          return tinylm.tokenizer.decode(ids)
        },
      },
    }
    let streamed = ''
    const settings = { ...greedy(128), stopIds: [] }
    const run = await runGeneration(
      counting,
      { prompt: 'The lighthouse keeper' },
      { recorded: settings },
      { onText: (delta) => (streamed += delta) },
    )
    assert.equal(run.result.ids.length, 128)
    assert.equal(streamed, run.text)
    // The final text decodes 128 ids; the stream about 3 per token (re-decoding everything was 8,256).
    assert.ok(decoded - 128 <= 4 * 128, `${decoded - 128} ids decoded for 128 streamed tokens`)
  })
})

describe('loadCausalLm errors', () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'imo-lm-'))
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('names a missing tokenizer.json and an unknown kind', async () => {
    const noTokenizer = join(dir, 'no-tokenizer')
    cpSync(NOCACHE, noTokenizer, { recursive: true })
    rmSync(join(noTokenizer, 'tokenizer.json'))
    await assert.rejects(loadCausalLm(await loadModel(noTokenizer)), /needs tokenizer\.json in /)
    const unknown = join(dir, 'unknown-kind')
    cpSync(NOCACHE, unknown, { recursive: true })
    writeFileSync(join(unknown, 'imo.pipeline.json'), '{"kind": "seq2seq"}')
    await assert.rejects(loadCausalLm(await loadModel(unknown)), {
      message: 'imo.pipeline.json: unknown pipeline kind "seq2seq" (imo knows: causal-lm, zk-image)',
    })
  })
})

const GOLDEN_UNIFORM = [0.8353772775031794, 0.8136237350448035, 0.12886199014833166]

describe('top-k candidates', () => {
  /** The order of imo-sample-v1 as first written: every id sorted by logit, ties by the lower id. */
  const fullOrder = (logits: Float32Array, k: number) =>
    Array.from({ length: logits.length }, (_, i) => i)
      .sort((a, b) => logits[b]! - logits[a]! || a - b)
      .slice(0, k > 0 && k < logits.length ? k : logits.length)

  it('selects exactly what the full sort keeps, ties, infinities and signed zeros included', () => {
    let state = 7
    const random = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0
      return state / 2 ** 32
    }
    const pool = [0, -0, 1.5, -1.5, 3, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]
    for (let round = 0; round < 400; round++) {
      const n = 1 + Math.floor(random() * 60)
      // Half the rounds draw from a few values, so ties at the k-th logit are common.
      const logits = Float32Array.from({ length: n }, () =>
        round % 2 ? pool[Math.floor(random() * pool.length)]! : (random() - 0.5) * 20,
      )
      for (const k of [0, 1, 2, Math.floor(n / 2), n - 1, n, n + 3])
        assert.deepEqual(candidates(logits, k), fullOrder(logits, k), `n ${n} k ${k} logits ${Array.from(logits)}`)
    }
  })

  it('keeps the full sort for logits holding NaN', () => {
    const logits = new Float32Array([0.5, Number.NaN, 2, 1, Number.NaN, 2])
    for (const k of [1, 2, 3, 6]) assert.deepEqual(candidates(logits, k), fullOrder(logits, k))
  })
})
