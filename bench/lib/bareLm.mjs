// A bare onnxruntime-node generation loop, the yardstick of bench/lm.ts: its own session opened by
// path, int64 feeds built per step, presents fed back as pasts, greedy argmax; no hashing, no
// tokenizer, no checks. Run as a child (`node [--trace-gc] bench/lib/bareLm.mjs MODEL STEPS IDS`)
// so its start-up, garbage collection and peak memory are measured like `imo infer`'s.
// Prints one JSON line: { sessionMs, loopMs, ids }.
import * as ort from 'onnxruntime-node'

const [model, stepsText, idsText] = process.argv.slice(2)
const started = performance.now()
const session = await ort.InferenceSession.create(model, {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'disabled',
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
})
const sessionMs = performance.now() - started
const pastNames = session.inputNames.filter((name) => name.startsWith('past_key_values.'))
const pastShape = (name) => {
  const shape = session.inputMetadata.find((value) => value.name === name).shape
  return [1, shape[1], 0, shape[3]]
}
const positions = session.inputNames.includes('position_ids')
const tokens = idsText.split(',').map(Number)
const promptLength = tokens.length
let past = Object.fromEntries(pastNames.map((name) => [name, new ort.Tensor('float32', new Float32Array(0), pastShape(name))]))
const loopStarted = performance.now()
for (let step = 0; step < Number(stepsText); step++) {
  const fresh = step === 0 || pastNames.length === 0 ? tokens : tokens.slice(-1)
  const start = tokens.length - fresh.length
  const feeds = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(fresh, BigInt), [1, fresh.length]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(tokens.length).fill(1n), [1, tokens.length]),
    ...past,
  }
  if (positions)
    feeds.position_ids = new ort.Tensor(
      'int64',
      BigInt64Array.from(fresh, (_, i) => BigInt(start + i)),
      [1, fresh.length],
    )
  const result = await session.run(feeds)
  const logits = result.logits.data
  const vocab = result.logits.dims[2]
  const offset = (fresh.length - 1) * vocab
  let best = 0
  for (let i = 1; i < vocab; i++) if (logits[offset + i] > logits[offset + best]) best = i
  tokens.push(best)
  past = Object.fromEntries(pastNames.map((name) => [name, result[name.replace('past_key_values.', 'present.')]]))
}
const loopMs = performance.now() - loopStarted
process.stderr.write(`${JSON.stringify({ sessionMs, loopMs, ids: tokens.slice(promptLength) })}\n`)
