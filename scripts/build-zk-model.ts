// Builds the bundled zk model, models/zkcppn, deterministically: a float ONNX compositional pattern
// network (seeded integer PRNG, weights rounded to float32) quantized by `imo zk compile`'s code into
// model.onnx (imo-zk-v1) and imo.pipeline.json. A test checks that the committed files equal a rebuild.
//
// The network draws a 16 x 16 picture in 256 palette colours from 8 latent bytes of the prompt's hash:
// each column x and each row y go through their own sin units (frequencies and phases modulated by
// the latent), a per-pixel sin mixes the two with a radial term, and the palette index is
// 0.5 + 0.49 sin(...). Columns and rows are computed once each, so the circuit pays per pixel for
// one sin and one byte conversion only (about 27,000 PLONK gates, a 2^15 domain).
//
//   npx tsx scripts/build-zk-model.ts            # writes models/zkcppn/model.onnx and imo.pipeline.json
//   npx tsx scripts/build-zk-model.ts --out DIR

import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { encodeModel, OnnxDataType, type OnnxNodeSpec } from '../src/onnx/writeModel.js'
import { writeFileAtomic } from '../src/util/writeFileAtomic.js'
import { initializerBuilder } from './build-model.js'

export const ZK_CPPN = { size: 16, latent: 8, units: 4, seed: 0x2c0ffee } as const

/** A node whose name is its output's. */
const node = (opType: string, inputs: string[], output: string): OnnxNodeSpec => ({
  opType,
  inputs,
  outputs: [output],
  name: output,
})

/** The bundled model's palette: deep blue to magenta, orange and pale yellow, and back through teal. */
export const ZK_CPPN_PALETTE = [
  '#0d0221',
  '#261447',
  '#6b2d9f',
  '#c2368f',
  '#f2705a',
  '#f9c74f',
  '#f6f7d7',
  '#4ecdc4',
  '#1a535c',
  '#0d0221',
]

/**
 * The float model (a .onnx ModelProto). Options make other sizes with the same structure (tests use
 * a 4 x 4 one; the bench's MLP is {@link buildZkMlpFloat}).
 * @example
 * import { buildZkCppnFloat } from './scripts/build-zk-model.js'
 * buildZkCppnFloat({ size: 4 }).length // a few KB
 */
export function buildZkCppnFloat({
  size = ZK_CPPN.size as number,
  units = ZK_CPPN.units as number,
  relu = false,
} = {}): Uint8Array {
  const { latent, seed } = ZK_CPPN
  const { initializers, normal, floats, ints } = initializerBuilder(seed)
  const weights = (name: string, rows: number, cols: number, scale: number) =>
    floats(
      name,
      [rows, cols],
      Array.from({ length: rows * cols }, () => normal() * scale),
    )
  const axis = Array.from({ length: size }, (_, i) => (2 * i + 1) / size - 1)
  floats('xs', [size, 1], axis)
  floats('ys', [size, 1], axis)
  floats(
    'rr',
    [size, size, 1],
    axis.flatMap((y) => axis.map((x) => x * x + y * y)),
  )
  weights('w_x', 1, units, 2.0)
  weights('z_x', latent, units, 1.2)
  weights('w_y', 1, units, 2.0)
  weights('z_y', latent, units, 1.2)
  weights('mix_x', units, 1, 0.8)
  weights('mix_y', units, 1, 0.8)
  weights('w_r', 1, 1, 1.6)
  weights('z_mix', latent, 1, 0.8)
  floats('amplitude', [], [0.49])
  floats('half', [], [0.5])
  ints('row_shape', [1, size, 1])
  ints('column_shape', [size, 1, 1])
  ints('image_shape', [1, 1, size, size])
  const nodes: OnnxNodeSpec[] = [
    // Per column and per row: sin(coordinate * w + z * U); the latent moves frequencies' phases.
    node('MatMul', ['xs', 'w_x'], 'x_lin'),
    node('MatMul', ['z', 'z_x'], 'x_latent'),
    node('Add', ['x_lin', 'x_latent'], 'x_pre'),
    node(relu ? 'Relu' : 'Sin', ['x_pre'], 'x_units'),
    node('MatMul', ['ys', 'w_y'], 'y_lin'),
    node('MatMul', ['z', 'z_y'], 'y_latent'),
    node('Add', ['y_lin', 'y_latent'], 'y_pre'),
    node('Sin', ['y_pre'], 'y_units'),
    // Per pixel: a mix of its column's and row's units, a radial term and the latent, through sin.
    node('MatMul', ['x_units', 'mix_x'], 'x_mix'),
    node('Reshape', ['x_mix', 'row_shape'], 'x_row'),
    node('MatMul', ['y_units', 'mix_y'], 'y_mix'),
    node('Reshape', ['y_mix', 'column_shape'], 'y_column'),
    node('Add', ['x_row', 'y_column'], 'grid'),
    node('MatMul', ['rr', 'w_r'], 'radial'),
    node('Add', ['grid', 'radial'], 'grid_r'),
    node('MatMul', ['z', 'z_mix'], 'z_shift'),
    node('Add', ['grid_r', 'z_shift'], 'pixel_pre'),
    node('Sin', ['pixel_pre'], 'pixel_wave'),
    node('Mul', ['pixel_wave', 'amplitude'], 'pixel_scaled'),
    node('Add', ['pixel_scaled', 'half'], 'pixel'),
    node('Reshape', ['pixel', 'image_shape'], 'image'),
  ]
  return encodeModel({
    producerName: 'imo scripts/build-zk-model.ts',
    graph: {
      name: 'zkcppn',
      nodes,
      initializers,
      inputs: [{ name: 'z', elemType: OnnxDataType.FLOAT, shape: [1, latent] }],
      outputs: [{ name: 'image', elemType: OnnxDataType.FLOAT, shape: [1, 1, size, size] }],
    },
    metadata: { description: `zk pattern generator: latent z [1,${latent}] -> palette image [1,1,${size},${size}] in [0,1)` },
  })
}

/** The benchmark's MLP: latent 16 -> 64 -> 64 (Gemm + Relu each) -> 16 palette indices, a 4 x 4 image. */
export const ZK_MLP = { latent: 16, hidden: 64, side: 4, seed: 0x6d1b64 } as const

/**
 * A 2-layer MLP of 64 hidden units as a float zk model (bench/zk.ts): two Gemm + Relu layers of 64,
 * then a Gemm head of side x side units whose palette index is 0.5 + 0.49 sin(head) (a zk image's
 * values lie in [0, 1)). He-scaled weights from the same seeded PRNG as the bundled models, so every
 * run builds the same bytes.
 * @example
 * import { buildZkMlpFloat } from './scripts/build-zk-model.js'
 * buildZkMlpFloat().length // about 23 KB
 */
export function buildZkMlpFloat(): Uint8Array {
  const { latent, hidden, side, seed } = ZK_MLP
  const { initializers, normal, floats, ints } = initializerBuilder(seed)
  const layer = (name: string, inputs: number, outputs: number) => {
    floats(
      `${name}.weight`,
      [inputs, outputs],
      Array.from({ length: inputs * outputs }, () => normal() * Math.sqrt(2 / inputs)),
    )
    floats(
      `${name}.bias`,
      [outputs],
      Array.from({ length: outputs }, () => normal() * 0.1),
    )
  }
  layer('fc1', latent, hidden)
  layer('fc2', hidden, hidden)
  layer('head', hidden, side * side)
  floats('amplitude', [], [0.49])
  floats('half', [], [0.5])
  ints('image_shape', [1, 1, side, side])
  const nodes: OnnxNodeSpec[] = [
    node('Gemm', ['z', 'fc1.weight', 'fc1.bias'], 'fc1'),
    node('Relu', ['fc1'], 'h1'),
    node('Gemm', ['h1', 'fc2.weight', 'fc2.bias'], 'fc2'),
    node('Relu', ['fc2'], 'h2'),
    node('Gemm', ['h2', 'head.weight', 'head.bias'], 'head'),
    node('Sin', ['head'], 'wave'),
    node('Mul', ['wave', 'amplitude'], 'scaled'),
    node('Add', ['scaled', 'half'], 'pixel'),
    node('Reshape', ['pixel', 'image_shape'], 'image'),
  ]
  return encodeModel({
    producerName: 'imo scripts/build-zk-model.ts',
    graph: {
      name: 'zkmlp',
      nodes,
      initializers,
      inputs: [{ name: 'z', elemType: OnnxDataType.FLOAT, shape: [1, latent] }],
      outputs: [{ name: 'image', elemType: OnnxDataType.FLOAT, shape: [1, 1, side, side] }],
    },
    metadata: {
      description: `zk benchmark MLP: latent z [1,${latent}] -> ${hidden} -> ${hidden} -> image [1,1,${side},${side}]`,
    },
  })
}

/** The committed model's folder. */
export const ZK_CPPN_PATH = fileURLToPath(new URL('../models/zkcppn', import.meta.url))

/**
 * Writes the quantized model folder's two files (model.onnx, imo.pipeline.json) into `dir`.
 * @example
 * await writeZkCppn('/tmp/zkcppn')
 */
export async function writeZkCppn(dir: string): Promise<void> {
  const { compileZkModel } = await import('../src/zk/compileZkModel.js')
  const scratch = mkdtempSync(join(tmpdir(), 'imo-zkcppn-'))
  try {
    const floatPath = join(scratch, 'zkcppn-float.onnx')
    writeFileAtomic(floatPath, buildZkCppnFloat())
    const result = await compileZkModel({ input: floatPath, outDir: scratch, palette: ZK_CPPN_PALETTE, circuit: false })
    for (const file of ['model.onnx', 'imo.pipeline.json']) copyFileSync(join(result.modelFolder!, file), join(dir, file))
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf('--out')
  const out = at >= 0 ? process.argv[at + 1] : ZK_CPPN_PATH
  if (!out) throw new Error('--out needs a folder')
  await writeZkCppn(out)
  process.stderr.write(`wrote ${out}/model.onnx and ${out}/imo.pipeline.json\n`)
}
