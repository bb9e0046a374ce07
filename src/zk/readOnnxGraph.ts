/**
 * Reads a whole small ONNX model for the zk compiler: nodes with their attributes, initializers with
 * their values (as float64), graph inputs and outputs. Unlike src/onnx/readModelInfo.ts (which skips
 * tensor data so it can look at multi-gigabyte files), this loads everything, so it caps the size: a
 * model small enough to prove is far below it. Weights stored in external files are refused.
 */
import { UsageError } from '../errors.js'
import { type FieldKey, memorySource, ProtoReader, WireFormatError, WireType } from '../onnx/wire.js'
import { OnnxDataType, type OnnxValueInfo } from '../onnx/writeModel.js'

/** A constant tensor's shape and values (float64, row-major). */
export interface ConstTensor {
  dims: number[]
  values: Float64Array
  /** The ONNX data type it was stored as. */
  dataType: number
}

/** A node attribute's value, by kind. */
export type AttributeValue =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'floats'; value: number[] }
  | { kind: 'ints'; value: number[] }
  | { kind: 'tensor'; value: ConstTensor }
  | { kind: 'graph' }

export interface GraphNode {
  name: string
  opType: string
  domain: string
  inputs: string[]
  outputs: string[]
  attributes: Map<string, AttributeValue>
}

export interface OnnxGraph {
  nodes: GraphNode[]
  initializers: Map<string, ConstTensor>
  /** Graph inputs that are not initializers. */
  inputs: OnnxValueInfo[]
  outputs: OnnxValueInfo[]
  opsetVersion: number
  metadata: Map<string, string>
}

/** Largest model file read (zk models are kilobytes). */
export const MAX_ZK_ONNX_BYTES = 64 * 1024 * 1024

function fail(message: string): never {
  throw new WireFormatError(message)
}

function readTensor(r: ProtoReader, end: number): { name: string; tensor: ConstTensor } {
  const dims: number[] = []
  let dataType = 0
  let name = ''
  let raw: Uint8Array | undefined
  const floats: number[] = []
  const doubles: number[] = []
  const ints: number[] = []
  let external = false
  for (let key = r.next(end); key; key = r.next(end)) {
    if (key.field === 1) r.repeatedInt64(key.wireType, end, (d) => dims.push(Number(d)))
    else if (key.field === 2 && key.wireType === WireType.Varint) dataType = r.varint(end)
    else if (key.field === 4) r.repeatedFloat(key.wireType, end, (v) => floats.push(v))
    else if ((key.field === 5 || key.field === 7) && key.wireType !== WireType.Fixed64)
      r.repeatedInt64(key.wireType, end, (v) => ints.push(Number(v)))
    else if (key.field === 8 && key.wireType === WireType.LengthDelimited) name = r.string(end)
    else if (key.field === 9 && key.wireType === WireType.LengthDelimited) raw = r.bytes(end)
    else if (key.field === 10 && key.wireType === WireType.LengthDelimited) {
      const bytes = r.bytes(end)
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
      for (let i = 0; i + 8 <= bytes.length; i += 8) doubles.push(view.getFloat64(i, true))
    } else if (key.field === 14 && key.wireType === WireType.Varint) external = r.varint(end) === 1
    else r.skip(key.wireType, end)
  }
  if (external)
    throw new UsageError(`tensor '${name}' keeps its data in an external file: zk models keep weights inside the .onnx file`)
  const count = dims.reduce((a, b) => a * b, 1)
  const values = new Float64Array(count)
  if (raw) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.length)
    const size = { [OnnxDataType.FLOAT]: 4, [OnnxDataType.DOUBLE]: 8, [OnnxDataType.INT64]: 8, [OnnxDataType.INT32]: 4 }[dataType]
    if (size === undefined)
      fail(`tensor '${name}' has data type ${dataType}: zk models use float, double, int32 or int64 tensors`)
    if (raw.length !== count * size) fail(`tensor '${name}' holds ${raw.length} bytes, its shape needs ${count * size}`)
    for (let i = 0; i < count; i++) {
      if (dataType === OnnxDataType.FLOAT) values[i] = view.getFloat32(i * 4, true)
      else if (dataType === OnnxDataType.DOUBLE) values[i] = view.getFloat64(i * 8, true)
      else if (dataType === OnnxDataType.INT32) values[i] = view.getInt32(i * 4, true)
      else {
        const v = view.getBigInt64(i * 8, true)
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
          fail(`tensor '${name}' holds an int64 beyond 2^53`)
        values[i] = Number(v)
      }
    }
  } else {
    const source = dataType === OnnxDataType.DOUBLE ? doubles : dataType === OnnxDataType.FLOAT ? floats : ints
    if (source.length !== count) fail(`tensor '${name}' holds ${source.length} values, its shape needs ${count}`)
    values.set(source)
  }
  return { name, tensor: { dims, values, dataType } }
}

function readAttribute(r: ProtoReader, end: number): [string, AttributeValue] {
  let name = ''
  let type = 0
  let f = 0
  let i = 0
  let s = ''
  let t: ConstTensor | undefined
  const floats: number[] = []
  const ints: number[] = []
  for (let key = r.next(end); key; key = r.next(end)) {
    if (key.field === 1 && key.wireType === WireType.LengthDelimited) name = r.string(end)
    else if (key.field === 2 && key.wireType === WireType.Fixed32) f = r.float(end)
    else if (key.field === 3 && key.wireType === WireType.Varint) i = Number(r.int64(end))
    else if (key.field === 4 && key.wireType === WireType.LengthDelimited) s = r.string(end)
    else if (key.field === 5 && key.wireType === WireType.LengthDelimited) t = readTensor(r, r.enter(end)).tensor
    else if (key.field === 7) r.repeatedFloat(key.wireType, end, (v) => floats.push(v))
    else if (key.field === 8) r.repeatedInt64(key.wireType, end, (v) => ints.push(Number(v)))
    else if (key.field === 20 && key.wireType === WireType.Varint) type = r.varint(end)
    else r.skip(key.wireType, end)
  }
  const kinds: Record<number, () => AttributeValue> = {
    1: () => ({ kind: 'float', value: f }),
    2: () => ({ kind: 'int', value: i }),
    3: () => ({ kind: 'string', value: s }),
    4: () => (t ? { kind: 'tensor', value: t } : fail(`attribute '${name}' has no tensor`)),
    5: () => ({ kind: 'graph' }),
    6: () => ({ kind: 'floats', value: floats }),
    7: () => ({ kind: 'ints', value: ints }),
  }
  const make = kinds[type]
  if (!make) fail(`attribute '${name}' has type ${type}, which zk models do not use`)
  return [name, make()]
}

function readNode(r: ProtoReader, end: number): GraphNode {
  const node: GraphNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: new Map() }
  for (let key = r.next(end); key; key = r.next(end)) {
    if (key.wireType !== WireType.LengthDelimited) r.skip(key.wireType, end)
    else if (key.field === 1) node.inputs.push(r.string(end))
    else if (key.field === 2) node.outputs.push(r.string(end))
    else if (key.field === 3) node.name = r.string(end)
    else if (key.field === 4) node.opType = r.string(end)
    else if (key.field === 5) {
      const [name, value] = readAttribute(r, r.enter(end))
      node.attributes.set(name, value)
    } else if (key.field === 7) node.domain = r.string(end)
    else r.skip(key.wireType, end)
  }
  if (node.name === '') node.name = node.outputs[0] ?? node.opType
  return node
}

/** Calls `visit` for each field up to `end`; fields it does not take (returns false) are skipped. */
function eachField(r: ProtoReader, end: number, visit: (key: FieldKey, end: number) => boolean): void {
  for (let key = r.next(end); key; key = r.next(end)) if (!visit(key, end)) r.skip(key.wireType, end)
}

const isMessage = (key: FieldKey, field: number) => key.field === field && key.wireType === WireType.LengthDelimited

/** ValueInfoProto: name, and TypeProto.tensor_type's element type and shape (dim_value or dim_param). */
function readValueInfo(r: ProtoReader, end: number): OnnxValueInfo {
  const info: OnnxValueInfo = { name: '', elemType: 0, shape: [] }
  eachField(r, end, (key, e) => {
    if (isMessage(key, 1)) info.name = r.string(e)
    else if (isMessage(key, 2))
      eachField(r, r.enter(e), (typeKey, te) => {
        if (!isMessage(typeKey, 1)) return false
        eachField(r, r.enter(te), (tensorKey, tk) => {
          if (tensorKey.field === 1 && tensorKey.wireType === WireType.Varint) info.elemType = r.varint(tk)
          else if (isMessage(tensorKey, 2))
            eachField(r, r.enter(tk), (shapeKey, sk) => {
              if (!isMessage(shapeKey, 1)) return false
              let dim: number | string = '?'
              eachField(r, r.enter(sk), (dimKey, dk) => {
                if (dimKey.field === 1 && dimKey.wireType === WireType.Varint) dim = Number(r.int64(dk))
                else if (isMessage(dimKey, 2)) dim = r.string(dk)
                else return false
                return true
              })
              info.shape.push(dim)
              return true
            })
          else return false
          return true
        })
        return true
      })
    else return false
    return true
  })
  return info
}

/**
 * Parses a small ONNX model completely.
 * @param bytes - the .onnx file's bytes (at most {@link MAX_ZK_ONNX_BYTES}).
 * @param label - the file's name, for messages.
 * @returns nodes, initializers (float64 values), inputs, outputs, the ai.onnx opset and metadata.
 * @throws UsageError (exit 2) naming the file when it is not a valid ONNX model or uses external data.
 * @example
 * import { parseOnnxGraph } from './zk/readOnnxGraph.js'
 * const graph = parseOnnxGraph(readFileSync('model.onnx'), 'model.onnx')
 * graph.nodes.map((n) => n.opType) // ['MatMul', 'Add', 'Sin', …]
 */
export function parseOnnxGraph(bytes: Uint8Array, label: string): OnnxGraph {
  if (bytes.length > MAX_ZK_ONNX_BYTES)
    throw new UsageError(`${label} is ${bytes.length} bytes: a model for zk proofs must stay below ${MAX_ZK_ONNX_BYTES} bytes`)
  const graph: OnnxGraph = {
    nodes: [],
    initializers: new Map(),
    inputs: [],
    outputs: [],
    opsetVersion: 0,
    metadata: new Map(),
  }
  try {
    const r = new ProtoReader(memorySource(bytes))
    let sawGraph = false
    for (let key = r.next(r.size); key; key = r.next(r.size)) {
      if (key.field === 7 && key.wireType === WireType.LengthDelimited) {
        sawGraph = true
        const end = r.enter(r.size)
        const inputs: OnnxValueInfo[] = []
        for (let g = r.next(end); g; g = r.next(end)) {
          if (g.wireType !== WireType.LengthDelimited) r.skip(g.wireType, end)
          else if (g.field === 1) graph.nodes.push(readNode(r, r.enter(end)))
          else if (g.field === 5) {
            const { name, tensor } = readTensor(r, r.enter(end))
            graph.initializers.set(name, tensor)
          } else if (g.field === 11) inputs.push(readValueInfo(r, r.enter(end)))
          else if (g.field === 12) graph.outputs.push(readValueInfo(r, r.enter(end)))
          else r.skip(g.wireType, end)
        }
        graph.inputs = inputs.filter((input) => !graph.initializers.has(input.name))
      } else if (key.field === 8 && key.wireType === WireType.LengthDelimited) {
        const end = r.enter(r.size)
        let domain = ''
        let version = 0
        for (let o = r.next(end); o; o = r.next(end)) {
          if (o.field === 1 && o.wireType === WireType.LengthDelimited) domain = r.string(end)
          else if (o.field === 2 && o.wireType === WireType.Varint) version = r.varint(end)
          else r.skip(o.wireType, end)
        }
        if (domain === '' || domain === 'ai.onnx') graph.opsetVersion = version
      } else if (key.field === 14 && key.wireType === WireType.LengthDelimited) {
        const end = r.enter(r.size)
        let k = ''
        let v = ''
        for (let e = r.next(end); e; e = r.next(end)) {
          if (e.field === 1 && e.wireType === WireType.LengthDelimited) k = r.string(end)
          else if (e.field === 2 && e.wireType === WireType.LengthDelimited) v = r.string(end)
          else r.skip(e.wireType, end)
        }
        graph.metadata.set(k, v)
      } else r.skip(key.wireType, r.size)
    }
    if (!sawGraph) fail('no graph')
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new UsageError(`${label} is not a valid ONNX model: ${(error as Error).message}`, { cause: error })
  }
  return graph
}
