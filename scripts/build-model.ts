// Builds the bundled generative model, models/cppn/model.onnx, deterministically: the same bytes on
// every run and machine (seeded integer PRNG, no transcendental functions, weights rounded to float32),
// so a test can check that the committed file equals a rebuild.
//
// The model is a compositional pattern-producing network (CPPN): every pixel's coordinates (x, y, r),
// made inside the graph from two small coordinate vectors, go through a small MLP with sin, tanh and
// gaussian activations whose frequencies and biases are modulated by a latent z (float32 [1, 16], made
// from the prompt by imo.pipeline.mjs). The output is an RGB image, float32 [1, 3, 256, 256] in 0..1.
//
//   npx tsx scripts/build-model.ts            # writes models/cppn/model.onnx
//   npx tsx scripts/build-model.ts --out FILE

import { fileURLToPath, pathToFileURL } from 'node:url'
import { encodeModel, OnnxDataType, type OnnxNodeSpec, type OnnxTensorSpec } from '../src/onnx/writeModel.js'
import { writeFileAtomic } from '../src/util/writeFileAtomic.js'

export const CPPN = { size: 256, latent: 16, hidden: 24, seed: 0x1a0c0de } as const

/**
 * mulberry32: a small deterministic 32-bit PRNG (the bundled models' weights, and tests' random inputs).
 * @example
 * const random = prng(1); random() // 0.6270739405881613, the same on every machine
 */
export function prng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * The initializers of a float model being built, and seeded draws from an approximately normal
 * distribution (Irwin-Hall of 4 uniforms, unit variance: arithmetic only, so bit-exact everywhere).
 * @example
 * const { initializers, normal, floats } = initializerBuilder(7)
 * floats('w', [1, 2], [normal(), normal()]) // initializers[0] is w, as float32
 */
export function initializerBuilder(seed: number) {
  const random = prng(seed)
  const normal = () => (random() + random() + random() + random() - 2) * Math.sqrt(3)
  const initializers: OnnxTensorSpec[] = []
  const floats = (name: string, dims: number[], values: number[]) => {
    initializers.push({ name, dataType: OnnxDataType.FLOAT, dims, raw: new Uint8Array(new Float32Array(values).buffer) })
  }
  const ints = (name: string, values: number[]) => {
    initializers.push({
      name,
      dataType: OnnxDataType.INT64,
      dims: [values.length],
      raw: new Uint8Array(new BigInt64Array(values.map(BigInt)).buffer),
    })
  }
  return { initializers, normal, floats, ints }
}

/**
 * The model's bytes (a .onnx ModelProto). The options make a heavier model with the same input, output
 * and pipeline: `hidden` widens the MLP (the bundled model is 24 wide) and `extraLayers` adds that many
 * tanh layers after the second. The queue benchmark builds one whose run takes about as long as a real
 * model's (a fraction of a second to seconds), since the cost grows with extraLayers x hidden^2 per pixel.
 * With no options it is the bundled model, byte for byte.
 * @example
 * import { buildCppnModel } from './scripts/build-model.js'
 * buildCppnModel().length // about 13 KB
 * buildCppnModel({ hidden: 128, extraLayers: 4 }).length // about 0.4 MB
 */
export function buildCppnModel({
  hidden = CPPN.hidden,
  extraLayers = 0,
}: {
  hidden?: number
  extraLayers?: number
} = {}): Uint8Array {
  const { size, latent, seed } = CPPN
  const { initializers, normal, floats, ints } = initializerBuilder(seed)
  const weights = (name: string, rows: number, cols: number, scale: number) =>
    floats(
      name,
      [rows, cols],
      Array.from({ length: rows * cols }, () => normal() * scale),
    )
  const pixels = size * size
  const axis = Array.from({ length: size }, (_, i) => ((2 * i + 1) / size - 1) * 1.5)
  floats('xs', [1, size], axis)
  floats('ys', [size, 1], axis)
  ints('grid_shape', [size, size])
  ints('column_shape', [pixels, 1])
  ints('image_shape', [1, size, size, 3])
  floats('one', [], [1])
  floats('freq_range', [], [7])
  floats('gain', [], [3])
  // x and y at full scale, r weaker, so the radial structure does not dominate every image.
  floats(
    'w_coords',
    [3, hidden],
    Array.from({ length: 3 * hidden }, (_, i) => normal() * (i < 2 * hidden ? 1.0 : 0.35)),
  )
  weights('w_freq', latent, hidden, 1.2)
  weights('w_phase', latent, hidden, 1.5)
  weights('w_2', hidden, hidden, 1.2 / Math.sqrt(hidden))
  weights('w_z2', latent, hidden, 0.6)
  weights('w_3', hidden, hidden, 2.0 / Math.sqrt(hidden))
  weights('w_z3', latent, hidden, 0.5)
  weights('w_out', hidden, 3, 2.0 / Math.sqrt(hidden))
  weights('w_zout', latent, 3, 0.2)
  // Drawn after the bundled model's weights, so that with no extra layers the bytes are unchanged.
  for (let layer = 0; layer < extraLayers; layer++) {
    weights(`w_x${layer}`, hidden, hidden, 1.2 / Math.sqrt(hidden))
    weights(`w_zx${layer}`, latent, hidden, 0.6)
  }

  const node = (opType: string, inputs: string[], output: string, attributes?: OnnxNodeSpec['attributes']): OnnxNodeSpec => ({
    opType,
    inputs,
    outputs: [output],
    name: output,
    ...(attributes ? { attributes } : {}),
  })
  /** The output of the n-th tanh layer (0: the bundled model's only one). */
  const tanhOut = (n: number) => (n === 0 ? 'h2' : `h2_${n}`)
  const nodes: OnnxNodeSpec[] = [
    // Coordinates: x, y and r for each pixel, as a [pixels, 3] matrix.
    node('Expand', ['xs', 'grid_shape'], 'x_grid'),
    node('Expand', ['ys', 'grid_shape'], 'y_grid'),
    node('Mul', ['x_grid', 'x_grid'], 'x_sq'),
    node('Mul', ['y_grid', 'y_grid'], 'y_sq'),
    node('Add', ['x_sq', 'y_sq'], 'r_sq'),
    node('Sqrt', ['r_sq'], 'r_grid'),
    node('Reshape', ['x_grid', 'column_shape'], 'x_col'),
    node('Reshape', ['y_grid', 'column_shape'], 'y_col'),
    node('Reshape', ['r_grid', 'column_shape'], 'r_col'),
    node('Concat', ['x_col', 'y_col', 'r_col'], 'coords', [{ name: 'axis', type: 'int', value: 1 }]),
    // Layer 1: sin with prompt-dependent frequencies (1..6) and phases.
    node('MatMul', ['z', 'w_freq'], 'freq_logits'),
    node('Sigmoid', ['freq_logits'], 'freq_unit'),
    node('Mul', ['freq_unit', 'freq_range'], 'freq_span'),
    node('Add', ['freq_span', 'one'], 'freq'),
    node('MatMul', ['z', 'w_phase'], 'phase'),
    node('MatMul', ['coords', 'w_coords'], 'c1'),
    node('Mul', ['c1', 'freq'], 'c1_scaled'),
    node('Add', ['c1_scaled', 'phase'], 'a1'),
    node('Sin', ['a1'], 'h1'),
    // Layer 2: tanh.
    node('MatMul', ['h1', 'w_2'], 'm2'),
    node('MatMul', ['z', 'w_z2'], 'b2'),
    node('Add', ['m2', 'b2'], 'a2'),
    node('Tanh', ['a2'], tanhOut(0)),
    ...Array.from({ length: extraLayers }, (_, layer) => [
      node('MatMul', [tanhOut(layer), `w_x${layer}`], `mx${layer}`),
      node('MatMul', ['z', `w_zx${layer}`], `bx${layer}`),
      node('Add', [`mx${layer}`, `bx${layer}`], `ax${layer}`),
      node('Tanh', [`ax${layer}`], tanhOut(layer + 1)),
    ]).flat(),
    // Layer 3: gaussian exp(-a^2).
    node('MatMul', [tanhOut(extraLayers), 'w_3'], 'm3'),
    node('MatMul', ['z', 'w_z3'], 'b3'),
    node('Add', ['m3', 'b3'], 'a3'),
    node('Mul', ['a3', 'a3'], 'a3_sq'),
    node('Neg', ['a3_sq'], 'a3_neg'),
    node('Exp', ['a3_neg'], 'h3'),
    // Output: sigmoid to RGB in 0..1, as an NCHW image.
    node('MatMul', ['h3', 'w_out'], 'm_out'),
    node('MatMul', ['z', 'w_zout'], 'b_out'),
    node('Add', ['m_out', 'b_out'], 'a_out'),
    node('Mul', ['a_out', 'gain'], 'a_out_gain'),
    node('Sigmoid', ['a_out_gain'], 'rgb'),
    node('Reshape', ['rgb', 'image_shape'], 'image_nhwc'),
    node('Transpose', ['image_nhwc'], 'image', [{ name: 'perm', type: 'ints', value: [0, 3, 1, 2] }]),
  ]
  return encodeModel({
    producerName: 'imo scripts/build-model.ts',
    graph: {
      name: 'cppn',
      nodes,
      initializers,
      inputs: [{ name: 'z', elemType: OnnxDataType.FLOAT, shape: [1, latent] }],
      outputs: [{ name: 'image', elemType: OnnxDataType.FLOAT, shape: [1, 3, size, size] }],
    },
    metadata: { description: 'CPPN pattern generator: latent z [1,16] -> RGB image [1,3,256,256] in 0..1' },
  })
}

/** The committed model's path. */
export const CPPN_MODEL_PATH = fileURLToPath(new URL('../models/cppn/model.onnx', import.meta.url))

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf('--out')
  const out = at >= 0 ? process.argv[at + 1] : CPPN_MODEL_PATH
  if (!out) throw new Error('--out needs a file')
  const bytes = buildCppnModel()
  writeFileAtomic(out, bytes)
  process.stderr.write(`wrote ${out} (${bytes.length} bytes)\n`)
}
