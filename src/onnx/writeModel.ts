/**
 * Encodes an ONNX model (ModelProto, field numbers of onnx.proto3) from a plain description, so the
 * bundled model and test models are built by code with no Python and no protobuf dependency.
 */
import { ProtoWriter } from './wire.js'

/** ONNX `TensorProto.DataType` codes. */
export const OnnxDataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
} as const

/** A node attribute. `graph` is a subgraph (If/Loop bodies). */
export type OnnxAttribute = { name: string } & (
  | { type: 'float'; value: number }
  | { type: 'int'; value: number | bigint }
  | { type: 'string'; value: string }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: (number | bigint)[] }
  | { type: 'tensor'; value: OnnxTensorSpec }
  | { type: 'graph'; value: OnnxGraphSpec }
)

/** A tensor: inline little-endian element bytes (`raw`) or a reference to an external-data file. */
export interface OnnxTensorSpec {
  name: string
  /** `TensorProto.DataType` code, see {@link OnnxDataType}. */
  dataType: number
  dims: (number | bigint)[]
  /** Little-endian element bytes. */
  raw?: Uint8Array
  /** Stored outside the .onnx file: `location` relative to the .onnx file's folder. */
  externalData?: { location: string; offset?: number; length?: number }
}

/** A graph input or output: a tensor type with a shape (a string is a symbolic dimension, e.g. 'batch'). */
export interface OnnxValueInfo {
  name: string
  elemType: number
  shape: (number | string)[]
}

export interface OnnxNodeSpec {
  opType: string
  inputs: string[]
  outputs: string[]
  name?: string
  domain?: string
  attributes?: OnnxAttribute[]
}

export interface OnnxGraphSpec {
  name: string
  nodes: OnnxNodeSpec[]
  initializers?: OnnxTensorSpec[]
  inputs: OnnxValueInfo[]
  outputs: OnnxValueInfo[]
}

export interface OnnxModelSpec {
  /** Default 8. */
  irVersion?: number
  /** Default `[{ domain: '', version: 17 }]`. */
  opsetImports?: { domain: string; version: number }[]
  producerName?: string
  graph: OnnxGraphSpec
  /** `metadata_props` key/value pairs. */
  metadata?: Record<string, string>
}

const AttributeType = { float: 1, int: 2, string: 3, tensor: 4, graph: 5, floats: 6, ints: 7 } as const
const DATA_LOCATION_EXTERNAL = 1

function stringEntry(key: string, value: string): ProtoWriter {
  return new ProtoWriter().string(1, key).string(2, value)
}

function encodeTensor(tensor: OnnxTensorSpec): ProtoWriter {
  const w = new ProtoWriter()
  for (const dim of tensor.dims) w.int(1, dim)
  w.int(2, tensor.dataType)
  w.string(8, tensor.name)
  if (tensor.raw) w.bytes(9, tensor.raw)
  if (tensor.externalData) {
    const { location, offset, length } = tensor.externalData
    w.message(13, stringEntry('location', location))
    if (offset !== undefined) w.message(13, stringEntry('offset', String(offset)))
    if (length !== undefined) w.message(13, stringEntry('length', String(length)))
    w.int(14, DATA_LOCATION_EXTERNAL)
  }
  return w
}

function encodeValueInfo(info: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter()
  for (const dim of info.shape) {
    const d = new ProtoWriter()
    if (typeof dim === 'string') d.string(2, dim)
    else d.int(1, dim)
    shape.message(1, d)
  }
  const tensorType = new ProtoWriter().int(1, info.elemType).message(2, shape)
  const type = new ProtoWriter().message(1, tensorType)
  return new ProtoWriter().string(1, info.name).message(2, type)
}

function encodeAttribute(attribute: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter().string(1, attribute.name)
  switch (attribute.type) {
    case 'float':
      w.float(2, attribute.value)
      break
    case 'int':
      w.int(3, attribute.value)
      break
    case 'string':
      w.string(4, attribute.value)
      break
    case 'tensor':
      w.message(5, encodeTensor(attribute.value))
      break
    case 'graph':
      w.message(6, encodeGraph(attribute.value))
      break
    case 'floats':
      for (const v of attribute.value) w.float(7, v)
      break
    case 'ints':
      for (const v of attribute.value) w.int(8, v)
      break
  }
  w.int(20, AttributeType[attribute.type])
  return w
}

function encodeNode(node: OnnxNodeSpec): ProtoWriter {
  const w = new ProtoWriter()
  for (const input of node.inputs) w.string(1, input)
  for (const output of node.outputs) w.string(2, output)
  if (node.name !== undefined) w.string(3, node.name)
  w.string(4, node.opType)
  for (const attribute of node.attributes ?? []) w.message(5, encodeAttribute(attribute))
  if (node.domain !== undefined && node.domain !== '') w.string(7, node.domain)
  return w
}

function encodeGraph(graph: OnnxGraphSpec): ProtoWriter {
  const w = new ProtoWriter()
  for (const node of graph.nodes) w.message(1, encodeNode(node))
  w.string(2, graph.name)
  for (const tensor of graph.initializers ?? []) w.message(5, encodeTensor(tensor))
  for (const input of graph.inputs) w.message(11, encodeValueInfo(input))
  for (const output of graph.outputs) w.message(12, encodeValueInfo(output))
  return w
}

/**
 * Encodes a model as the bytes of a `.onnx` file (ModelProto), loadable by onnxruntime.
 * @param model - the graph, opset imports (default ai.onnx 17), IR version (default 8), metadata.
 * @returns the serialized ModelProto.
 * @example
 * import { encodeModel, OnnxDataType } from './onnx/writeModel.js'
 * const bytes = encodeModel({
 *   graph: {
 *     name: 'relu',
 *     nodes: [{ opType: 'Relu', inputs: ['x'], outputs: ['y'] }],
 *     inputs: [{ name: 'x', elemType: OnnxDataType.FLOAT, shape: ['batch', 4] }],
 *     outputs: [{ name: 'y', elemType: OnnxDataType.FLOAT, shape: ['batch', 4] }],
 *   },
 * })
 * // bytes: Uint8Array, e.g. written to relu.onnx and loaded with ort.InferenceSession.create(bytes)
 */
export function encodeModel(model: OnnxModelSpec): Uint8Array {
  const w = new ProtoWriter()
  w.int(1, model.irVersion ?? 8)
  if (model.producerName !== undefined) w.string(2, model.producerName)
  w.message(7, encodeGraph(model.graph))
  for (const opset of model.opsetImports ?? [{ domain: '', version: 17 }]) {
    const o = new ProtoWriter()
    if (opset.domain !== '') o.string(1, opset.domain)
    o.int(2, opset.version)
    w.message(8, o)
  }
  for (const [key, value] of Object.entries(model.metadata ?? {})) w.message(14, stringEntry(key, value))
  return w.finish()
}
