/**
 * Shared pieces of the zk tests: insecure powers-of-tau files (made once per machine in the temp
 * folder, atomically, and reused: power 15 takes about half a minute), and small float models.
 */
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { encodeModel, OnnxDataType, type OnnxNodeSpec, type OnnxTensorSpec } from '../../src/onnx/writeModel.js'
import { writeInsecurePtau } from '../../src/zk/writeInsecurePtau.js'
import type { ZkGraph } from '../../src/zk/zkGraph.js'

/**
 * An insecure ptau of 2^power, shared by the test files of this machine.
 * @example
 * const ptau = await testPtau(10)
 */
export async function testPtau(power: number): Promise<string> {
  const path = join(tmpdir(), `imo-test-insecure-v1-${power}.ptau`)
  if (!existsSync(path)) await writeInsecurePtau(path, power)
  return path
}

/** A float model from nodes and float initializers: input z [1, latent], output `image`. */
export function floatModel(spec: {
  latent?: number
  output: number[]
  nodes: OnnxNodeSpec[]
  floats?: Record<string, { dims: number[]; values: number[] }>
  /** Initializers stored as float64 (DOUBLE), for values beyond float32's range. */
  doubles?: Record<string, { dims: number[]; values: number[] }>
  ints?: Record<string, number[]>
}): Uint8Array {
  const initializers: OnnxTensorSpec[] = []
  for (const [name, { dims, values }] of Object.entries(spec.floats ?? {}))
    initializers.push({ name, dataType: OnnxDataType.FLOAT, dims, raw: new Uint8Array(new Float32Array(values).buffer) })
  for (const [name, { dims, values }] of Object.entries(spec.doubles ?? {}))
    initializers.push({ name, dataType: OnnxDataType.DOUBLE, dims, raw: new Uint8Array(new Float64Array(values).buffer) })
  for (const [name, values] of Object.entries(spec.ints ?? {}))
    initializers.push({
      name,
      dataType: OnnxDataType.INT64,
      dims: [values.length],
      raw: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer),
    })
  return encodeModel({
    graph: {
      name: 'test',
      nodes: spec.nodes,
      initializers,
      inputs: [{ name: 'z', elemType: OnnxDataType.FLOAT, shape: [1, spec.latent ?? 4] }],
      outputs: [{ name: 'image', elemType: OnnxDataType.FLOAT, shape: spec.output }],
    },
  })
}

/** A node whose name is its output's. */
export const node = (
  opType: string,
  inputs: string[],
  output: string,
  attributes?: OnnxNodeSpec['attributes'],
): OnnxNodeSpec => ({
  opType,
  inputs,
  outputs: [output],
  name: output,
  ...(attributes ? { attributes } : {}),
})

/**
 * Runs a zk model's ONNX bytes with onnxruntime (the inference imo does) on one latent.
 * @example
 * const out = await runZkOnnx(bytes, graph, [-3, 5, 0, 127])
 */
export async function runZkOnnx(bytes: Uint8Array, graph: ZkGraph, latent: number[]): Promise<number[]> {
  const session = await ort.InferenceSession.create(bytes, {
    graphOptimizationLevel: 'disabled',
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  })
  try {
    const result = await session.run({
      [graph.input.name]: new ort.Tensor('float64', Float64Array.from(latent), graph.input.dims),
    })
    return Array.from(result[graph.output.name]!.data as Float64Array)
  } finally {
    await session.release()
  }
}

/**
 * The zk artifact cache the CLI tests share (IMO_ZK_CACHE): circuits and PLONK keys are derived
 * deterministically from the model and the test ptau, so one machine makes them once.
 */
export const TEST_ZK_CACHE = join(tmpdir(), 'imo-test-zk-cache-v1')

/**
 * `imo deploy` arguments of a zk deployment of `model` (1000 tokens "Z") with keys from the insecure test ptau.
 * @example
 * await runCli([...zkDeployArgs(model, ptau), '--json', '--rpc-url', anvil.rpcUrl])
 */
export function zkDeployArgs(model: string, ptau: string): string[] {
  return ['deploy', '--model', model, '--proof-scheme', 'zk', '--name', 'Z', '--symbol', 'Z', '--supply', '1000'].concat([
    '--ptau',
    ptau,
    '--insecure-ptau',
  ])
}
