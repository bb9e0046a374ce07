/**
 * A zk graph as a standard ONNX file (`model.onnx` of a quantized zk model, docs/formats.md section 11):
 * every tensor is DOUBLE holding integers below 2^53, so onnxruntime (or any ONNX runtime) computes it
 * exactly whatever order it sums in. FloorDiv is written as Div by a power of two followed by Floor,
 * Mod as ONNX Mod with fmod = 1 on a non-negative dividend. Reading checks all of that back, so the
 * circuit compiled from the file means exactly what onnxruntime computes from it.
 */
import { UsageError } from '../errors.js'
import { encodeModel, OnnxDataType, type OnnxNodeSpec, type OnnxTensorSpec } from '../onnx/writeModel.js'
import { EXACT_BOUND, INPUT_MAX, INPUT_MIN, ZK_MODEL_FORMAT } from './fixedPoint.js'
import { graphRanges } from './graphRanges.js'
import { parseOnnxGraph } from './readOnnxGraph.js'
import type { ZkGraph, ZkNode } from './zkGraph.js'

/** Metadata key naming the format in a zk model's ONNX file. */
export const ZK_FORMAT_KEY = 'imo.zk.format'

const doubles = (values: bigint[]) => {
  const raw = new Uint8Array(values.length * 8)
  const view = new DataView(raw.buffer)
  values.forEach((v, i) => {
    view.setFloat64(i * 8, Number(v), true)
  })
  return raw
}

/**
 * Encodes a zk graph as ONNX bytes (deterministic: same graph, same bytes).
 * @param graph - the integer graph.
 * @param metadata - extra metadata_props (e.g. the fractional bits it was quantized with).
 * @example
 * import { encodeZkModel } from './zk/zkModelFile.js'
 * writeFileAtomic('out/model/model.onnx', encodeZkModel(graph))
 */
export function encodeZkModel(graph: ZkGraph, metadata: Record<string, string> = {}): Uint8Array {
  const initializers: OnnxTensorSpec[] = []
  const names = new Set<string>([graph.input.name, ...graph.constants.keys(), ...graph.nodes.map((n) => n.output)])
  const helper = (name: string) => {
    if (names.has(name)) throw new Error(`the name '${name}' is taken`)
    names.add(name)
    return name
  }
  for (const [name, tensor] of graph.constants)
    initializers.push({ name, dataType: OnnxDataType.DOUBLE, dims: tensor.dims, raw: doubles(tensor.data) })
  const pow2Names = new Map<number, string>()
  const pow2 = (k: number) => {
    let name = pow2Names.get(k)
    if (!name) {
      name = helper(`zk.pow2.${k}`)
      initializers.push({ name, dataType: OnnxDataType.DOUBLE, dims: [], raw: doubles([1n << BigInt(k)]) })
      pow2Names.set(k, name)
    }
    return name
  }
  const nodes: OnnxNodeSpec[] = []
  for (const node of graph.nodes) {
    const base = { name: node.output, outputs: [node.output] }
    switch (node.op) {
      case 'FloorDiv': {
        const quotient = helper(`${node.output}.div`)
        nodes.push({ opType: 'Div', name: quotient, inputs: [node.inputs[0]!, pow2(node.shift!)], outputs: [quotient] })
        nodes.push({ ...base, opType: 'Floor', inputs: [quotient] })
        break
      }
      case 'Mod':
        nodes.push({
          ...base,
          opType: 'Mod',
          inputs: [node.inputs[0]!, pow2(node.shift!)],
          attributes: [{ name: 'fmod', type: 'int', value: 1 }],
        })
        break
      case 'Reshape': {
        const shape = helper(`${node.output}.shape`)
        initializers.push({
          name: shape,
          dataType: OnnxDataType.INT64,
          dims: [node.shape!.length],
          raw: new Uint8Array(BigInt64Array.from(node.shape!.map(BigInt)).buffer),
        })
        nodes.push({ ...base, opType: 'Reshape', inputs: [node.inputs[0]!, shape] })
        break
      }
      case 'Transpose':
        nodes.push({
          ...base,
          opType: 'Transpose',
          inputs: node.inputs,
          attributes: [{ name: 'perm', type: 'ints', value: node.perm! }],
        })
        break
      case 'Concat':
        nodes.push({
          ...base,
          opType: 'Concat',
          inputs: node.inputs,
          attributes: [{ name: 'axis', type: 'int', value: node.axis! }],
        })
        break
      default:
        nodes.push({ ...base, opType: node.op, inputs: node.inputs })
    }
  }
  return encodeModel({
    producerName: 'imo zk compile',
    graph: {
      name: 'imo-zk',
      nodes,
      initializers,
      inputs: [{ name: graph.input.name, elemType: OnnxDataType.DOUBLE, shape: graph.input.dims }],
      outputs: [{ name: graph.output.name, elemType: OnnxDataType.DOUBLE, shape: graph.output.dims }],
    },
    metadata: { [ZK_FORMAT_KEY]: ZK_MODEL_FORMAT, ...metadata },
  })
}

const isPowerOfTwo = (v: number) => Number.isSafeInteger(v) && v >= 1 && (v & (v - 1)) === 0 && v <= 2 ** 30
const ALLOWED = new Set(['MatMul', 'Add', 'Sub', 'Mul', 'Neg', 'Relu', 'Div', 'Floor', 'Mod', 'Reshape', 'Transpose', 'Concat'])

/**
 * Reads a zk model's ONNX bytes back into its integer graph, checking every rule of the format.
 * @param bytes - model.onnx of a zk model folder.
 * @param label - the file's name, for messages.
 * @returns the graph (input range: int8).
 * @throws UsageError (exit 2) naming the node and rule when the file is not an `imo-zk-v1` model.
 * @example
 * import { decodeZkModel } from './zk/zkModelFile.js'
 * const graph = decodeZkModel(readFileSync('models/zkcppn/model.onnx'), 'model.onnx')
 */
export function decodeZkModel(bytes: Uint8Array, label: string): ZkGraph {
  const onnx = parseOnnxGraph(bytes, label)
  const bad = (why: string): never => {
    throw new UsageError(`${label} is not a valid ${ZK_MODEL_FORMAT} model: ${why}`)
  }
  if (onnx.metadata.get(ZK_FORMAT_KEY) !== ZK_MODEL_FORMAT)
    bad(`its metadata has no ${ZK_FORMAT_KEY} = ${ZK_MODEL_FORMAT} (compile a float model with \`imo zk compile\`)`)
  const [input] = onnx.inputs
  const [output] = onnx.outputs
  if (
    onnx.inputs.length !== 1 ||
    !input ||
    input.elemType !== OnnxDataType.DOUBLE ||
    input.shape.length !== 2 ||
    input.shape[0] !== 1
  )
    bad('it needs exactly one DOUBLE input of shape [1, L]')
  if (
    onnx.outputs.length !== 1 ||
    !output ||
    output.elemType !== OnnxDataType.DOUBLE ||
    !output.shape.every((d) => typeof d === 'number')
  )
    bad('it needs exactly one DOUBLE output of a fixed shape')
  const graph: ZkGraph = {
    input: { name: input!.name, dims: input!.shape as number[], min: INPUT_MIN, max: INPUT_MAX },
    output: { name: output!.name, dims: output!.shape as number[] },
    constants: new Map(),
    nodes: [],
  }
  const shapes = new Map<string, number[]>()
  const pow2 = new Map<string, number>()
  for (const [name, tensor] of onnx.initializers) {
    if (tensor.dataType === OnnxDataType.INT64) {
      shapes.set(name, Array.from(tensor.values))
      continue
    }
    if (tensor.dataType !== OnnxDataType.DOUBLE) bad(`initializer '${name}' is not DOUBLE`)
    const data = Array.from(tensor.values, (v) => {
      if (!Number.isSafeInteger(v)) bad(`initializer '${name}' holds ${v}, not an integer below 2^53`)
      return BigInt(v)
    })
    graph.constants.set(name, { dims: tensor.dims, data })
    if (tensor.dims.length === 0 && isPowerOfTwo(tensor.values[0]!)) pow2.set(name, Math.log2(tensor.values[0]!))
  }
  const consumers = new Map<string, string[]>()
  for (const node of onnx.nodes) for (const i of node.inputs) consumers.set(i, [...(consumers.get(i) ?? []), node.opType])
  const divisions = new Map<string, { input: string; shift: number }>()
  for (const node of onnx.nodes) {
    const where = `node '${node.name}' (${node.opType})`
    if (!ALLOWED.has(node.opType) || (node.domain !== '' && node.domain !== 'ai.onnx'))
      bad(`${where} is not one of its operators`)
    if (node.outputs.length !== 1) bad(`${where} has several outputs`)
    const out = node.outputs[0]!
    const shiftOf = () => pow2.get(node.inputs[1] ?? '') ?? bad(`${where} must divide by a constant power of two`)
    const push = (n: Omit<ZkNode, 'name' | 'output'>) => graph.nodes.push({ name: node.name, output: out, ...n })
    switch (node.opType) {
      case 'Div':
        if (consumers.get(out)?.join() !== 'Floor' || out === output!.name) bad(`${where} must feed exactly one Floor`)
        divisions.set(out, { input: node.inputs[0]!, shift: shiftOf() })
        break
      case 'Floor': {
        const division = divisions.get(node.inputs[0]!) ?? bad(`${where} must take a Div by a power of two`)
        push({ op: 'FloorDiv', inputs: [division.input], shift: division.shift })
        break
      }
      case 'Mod': {
        const fmod = node.attributes.get('fmod')
        if (fmod?.kind !== 'int' || fmod.value !== 1) bad(`${where} must have fmod = 1`)
        push({ op: 'Mod', inputs: [node.inputs[0]!], shift: shiftOf() })
        break
      }
      case 'Reshape': {
        const shape = shapes.get(node.inputs[1] ?? '') ?? bad(`${where} needs a constant INT64 shape`)
        if (shape.some((d) => d < 1)) bad(`${where} must give every dimension (no 0 or -1)`)
        push({ op: 'Reshape', inputs: [node.inputs[0]!], shape })
        break
      }
      case 'Transpose': {
        const perm = node.attributes.get('perm')
        if (perm?.kind !== 'ints') bad(`${where} needs its perm`)
        push({ op: 'Transpose', inputs: node.inputs, perm: (perm as { value: number[] }).value })
        break
      }
      case 'Concat': {
        const axis = node.attributes.get('axis')
        if (axis?.kind !== 'int' || axis.value < 0) bad(`${where} needs a non-negative axis`)
        push({ op: 'Concat', inputs: node.inputs, axis: (axis as { value: number }).value })
        break
      }
      default:
        if (node.attributes.size > 0) bad(`${where} has attributes`)
        push({ op: node.opType as ZkNode['op'], inputs: node.inputs })
    }
  }
  // Ranges: exact in float64, Mod dividends non-negative (so fmod agrees with floor division), bytes out.
  let failure: string | undefined
  const { tensors } = graphRanges(graph, {
    bound: EXACT_BOUND,
    onExceed: (node) => {
      failure ??= `node '${node.name}' may leave +-2^53`
    },
  })
  if (failure) bad(failure)
  for (const node of graph.nodes)
    if (node.op === 'Mod' && tensors.get(node.inputs[0]!)!.data.some((x) => x.lo < 0n))
      bad(`node '${node.name}' (Mod) may get a negative dividend`)
  const out = tensors.get(graph.output.name)
  if (!out || out.dims.join() !== graph.output.dims.join())
    bad(`the output '${graph.output.name}' is not computed with shape [${graph.output.dims}]`)
  if (out!.data.some((x) => x.lo < 0n || x.hi > 255n)) bad(`the output '${graph.output.name}' may leave 0..255`)
  return graph
}
