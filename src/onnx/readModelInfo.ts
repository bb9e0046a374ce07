/**
 * Reads the facts imo needs from a .onnx file (IR version, opsets, producer, graph inputs and
 * outputs, external-data files) without loading tensor data: fields are walked in place and
 * `raw_data` and the like are skipped by moving a cursor. Files above 64 MiB are read through a
 * 64 KiB window with positioned reads, so memory stays flat whatever the model's size.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync } from 'node:fs'
import { UsageError } from '../errors.js'
import { type ByteSource, type FieldKey, memorySource, ProtoReader, WireFormatError, WireType } from './wire.js'
import type { OnnxValueInfo } from './writeModel.js'

/** What readModelInfo returns. */
export interface ModelInfo {
  irVersion: number
  opset: { domain: string; version: number }[]
  producerName: string
  /** Graph inputs that are not initializers, in file order. */
  inputs: OnnxValueInfo[]
  outputs: OnnxValueInfo[]
  /** Every external-data `location` named by a tensor (initializers, node attributes, subgraphs, functions), sorted, unique. */
  externalDataLocations: string[]
}

/** Files up to this size are read whole; bigger ones through a window. */
const READ_WHOLE_LIMIT = 64 * 1024 * 1024
const MAX_DEPTH = 100
const DATA_LOCATION_EXTERNAL = 1

interface Accumulator {
  locations: Set<string>
  depth: number
}

interface GraphFacts {
  inputs: OnnxValueInfo[]
  outputs: OnnxValueInfo[]
  initializerNames: Set<string>
}

function fail(message: string): never {
  throw new WireFormatError(message)
}

function readTensor(r: ProtoReader, end: number, acc: Accumulator): string {
  let name = ''
  let location: string | undefined
  let dataLocation = 0
  for (let key = r.next(end); key; key = r.next(end)) {
    if (key.field === 8 && key.wireType === WireType.LengthDelimited) name = r.string(end)
    else if (key.field === 13 && key.wireType === WireType.LengthDelimited) {
      const entryEnd = r.enter(end)
      let k = ''
      let v = ''
      for (let e = r.next(entryEnd); e; e = r.next(entryEnd)) {
        if (e.field === 1 && e.wireType === WireType.LengthDelimited) k = r.string(entryEnd)
        else if (e.field === 2 && e.wireType === WireType.LengthDelimited) v = r.string(entryEnd)
        else r.skip(e.wireType, entryEnd)
      }
      if (k === 'location') location = v
    } else if (key.field === 14 && key.wireType === WireType.Varint) dataLocation = r.varint(end)
    else r.skip(key.wireType, end) // raw_data and typed data are skipped, never copied
  }
  if (dataLocation === DATA_LOCATION_EXTERNAL && (location === undefined || location === ''))
    fail(`tensor '${name}' is stored externally but names no location`)
  if (location !== undefined && location !== '') acc.locations.add(location)
  return name
}

function readSparseTensor(r: ProtoReader, end: number, acc: Accumulator): void {
  for (let key = r.next(end); key; key = r.next(end)) {
    if ((key.field === 1 || key.field === 2) && key.wireType === WireType.LengthDelimited) readTensor(r, r.enter(end), acc)
    else r.skip(key.wireType, end)
  }
}

function readAttribute(r: ProtoReader, end: number, acc: Accumulator): void {
  for (let key = r.next(end); key; key = r.next(end)) {
    if (key.wireType !== WireType.LengthDelimited) {
      r.skip(key.wireType, end)
      continue
    }
    const valueEnd = r.enter(end)
    if (key.field === 5 || key.field === 10) readTensor(r, valueEnd, acc)
    else if (key.field === 6 || key.field === 11) readGraph(r, valueEnd, acc)
    else if (key.field === 22 || key.field === 23) readSparseTensor(r, valueEnd, acc)
    r.pos = valueEnd
  }
}

function readNode(r: ProtoReader, end: number, acc: Accumulator): void {
  for (let key = r.next(end); key; key = r.next(end)) {
    if (key.field === 5) {
      r.expect(key, WireType.LengthDelimited)
      readAttribute(r, r.enter(end), acc)
    } else r.skip(key.wireType, end)
  }
}

function readDimension(r: ProtoReader, end: number): number | string {
  let dim: number | string = '?'
  for (let key = r.next(end); key; key = r.next(end)) {
    if (key.field === 1 && key.wireType === WireType.Varint) {
      const v = r.int64(end)
      dim = typeof v === 'bigint' ? v.toString() : v
    } else if (key.field === 2 && key.wireType === WireType.LengthDelimited) dim = r.string(end)
    else r.skip(key.wireType, end)
  }
  return dim
}

function readValueInfo(r: ProtoReader, end: number): OnnxValueInfo {
  const info: OnnxValueInfo = { name: '', elemType: 0, shape: [] }
  for (let key = r.next(end); key; key = r.next(end)) {
    if (key.field === 1 && key.wireType === WireType.LengthDelimited) info.name = r.string(end)
    else if (key.field === 2 && key.wireType === WireType.LengthDelimited) {
      const typeEnd = r.enter(end)
      for (let t = r.next(typeEnd); t; t = r.next(typeEnd)) {
        if (t.field !== 1 || t.wireType !== WireType.LengthDelimited) {
          r.skip(t.wireType, typeEnd)
          continue
        }
        const tensorEnd = r.enter(typeEnd)
        for (let f = r.next(tensorEnd); f; f = r.next(tensorEnd)) {
          if (f.field === 1 && f.wireType === WireType.Varint) info.elemType = r.varint(tensorEnd)
          else if (f.field === 2 && f.wireType === WireType.LengthDelimited) {
            const shapeEnd = r.enter(tensorEnd)
            for (let d = r.next(shapeEnd); d; d = r.next(shapeEnd)) {
              if (d.field === 1 && d.wireType === WireType.LengthDelimited) info.shape.push(readDimension(r, r.enter(shapeEnd)))
              else r.skip(d.wireType, shapeEnd)
            }
          } else r.skip(f.wireType, tensorEnd)
        }
      }
    } else r.skip(key.wireType, end)
  }
  return info
}

function readGraph(r: ProtoReader, end: number, acc: Accumulator, facts?: GraphFacts): void {
  if (++acc.depth > MAX_DEPTH) fail(`subgraphs nested deeper than ${MAX_DEPTH}`)
  for (let key = r.next(end); key; key = r.next(end)) {
    const field = key.field
    if (field === 1 || field === 5 || field === 15 || field === 11 || field === 12) {
      r.expect(key, WireType.LengthDelimited)
      const valueEnd = r.enter(end)
      if (field === 1) readNode(r, valueEnd, acc)
      else if (field === 5) {
        const name = readTensor(r, valueEnd, acc)
        facts?.initializerNames.add(name)
      } else if (field === 15) readSparseTensor(r, valueEnd, acc)
      else if (facts) (field === 11 ? facts.inputs : facts.outputs).push(readValueInfo(r, valueEnd))
      r.pos = valueEnd
    } else r.skip(key.wireType, end)
  }
  acc.depth--
}

function readFunction(r: ProtoReader, end: number, acc: Accumulator): void {
  for (let key = r.next(end); key; key = r.next(end)) {
    if (key.field === 7 && key.wireType === WireType.LengthDelimited) readNode(r, r.enter(end), acc)
    else r.skip(key.wireType, end)
  }
}

function readTrainingInfo(r: ProtoReader, end: number, acc: Accumulator): void {
  for (let key = r.next(end); key; key = r.next(end)) {
    if ((key.field === 1 || key.field === 2) && key.wireType === WireType.LengthDelimited) readGraph(r, r.enter(end), acc)
    else r.skip(key.wireType, end)
  }
}

function readModel(r: ProtoReader): ModelInfo {
  const end = r.size
  const acc: Accumulator = { locations: new Set(), depth: 0 }
  const facts: GraphFacts = { inputs: [], outputs: [], initializerNames: new Set() }
  let irVersion: number | undefined
  let producerName = ''
  let hasGraph = false
  const opset: ModelInfo['opset'] = []
  const expectType = (key: FieldKey, wireType: WireType) => {
    if (key.wireType !== wireType) fail(`field ${key.field} of the model has the wrong wire type`)
  }
  for (let key = r.next(end); key; key = r.next(end)) {
    switch (key.field) {
      case 1:
        expectType(key, WireType.Varint)
        irVersion = r.varint(end)
        break
      case 2:
        expectType(key, WireType.LengthDelimited)
        producerName = r.string(end)
        break
      case 7: {
        expectType(key, WireType.LengthDelimited)
        hasGraph = true
        readGraph(r, r.enter(end), acc, facts)
        break
      }
      case 8: {
        expectType(key, WireType.LengthDelimited)
        const opsetEnd = r.enter(end)
        const entry = { domain: '', version: 0 }
        for (let o = r.next(opsetEnd); o; o = r.next(opsetEnd)) {
          if (o.field === 1 && o.wireType === WireType.LengthDelimited) entry.domain = r.string(opsetEnd)
          else if (o.field === 2 && o.wireType === WireType.Varint) entry.version = r.varint(opsetEnd)
          else r.skip(o.wireType, opsetEnd)
        }
        opset.push(entry)
        break
      }
      case 20:
        expectType(key, WireType.LengthDelimited)
        readTrainingInfo(r, r.enter(end), acc)
        break
      case 25:
        expectType(key, WireType.LengthDelimited)
        readFunction(r, r.enter(end), acc)
        break
      default:
        r.skip(key.wireType, end)
    }
  }
  if (irVersion === undefined || irVersion < 1) fail('no IR version')
  if (!hasGraph) fail('no graph')
  if (opset.length === 0) fail('no opset import')
  return {
    irVersion,
    opset,
    producerName,
    inputs: facts.inputs.filter((input) => !facts.initializerNames.has(input.name)),
    outputs: facts.outputs,
    externalDataLocations: [...acc.locations].sort(),
  }
}

function parse(source: ByteSource, label: string): ModelInfo {
  if (source.size === 0) throw new UsageError(`not an ONNX model: ${label} (empty file)`)
  try {
    return readModel(new ProtoReader(source))
  } catch (error) {
    if (error instanceof WireFormatError || error instanceof RangeError)
      throw new UsageError(`not an ONNX model: ${label} (${error.message})`, { cause: error })
    throw error
  }
}

/**
 * Parses the bytes of a .onnx file held in memory (see {@link readModelInfo} for files).
 * @param bytes - a serialized ModelProto.
 * @param label - names the model in error messages.
 * @returns the model's facts.
 * @example
 * import { parseModelInfo } from './onnx/readModelInfo.js'
 * parseModelInfo(bytes, 'model.onnx').inputs // [{ name: 'x', elemType: 1, shape: ['batch', 4] }]
 */
export function parseModelInfo(bytes: Uint8Array, label = '<bytes>'): ModelInfo {
  return parse(memorySource(bytes), label)
}

/**
 * Reads a .onnx file's IR version, opsets, producer, inputs (without initializers), outputs and the
 * external-data files its tensors name, without loading tensor data.
 * @param path - the .onnx file.
 * @returns the model's facts.
 * @throws UsageError (exit 2) for a missing or unreadable file, an empty file, truncated protobuf,
 *   or bytes that are not an ONNX model; the message names the path.
 * @example
 * import { readModelInfo } from './onnx/readModelInfo.js'
 * const info = readModelInfo('models/cppn/model.onnx')
 * // { irVersion: 8, opset: [{ domain: '', version: 17 }], producerName: 'imo', inputs: [...], outputs: [...], externalDataLocations: [] }
 */
export function readModelInfo(path: string): ModelInfo {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK) // a FIFO must not block the open
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new UsageError(code === 'ENOENT' ? `no such file: ${path}` : `cannot read ${path} (${code ?? String(error)})`, {
      cause: error,
    })
  }
  try {
    const stat = fstatSync(fd)
    if (stat.isDirectory()) throw new UsageError(`not an ONNX model: ${path} (a folder)`)
    if (!stat.isFile()) throw new UsageError(`not an ONNX model: ${path} (not a regular file)`)
    if (stat.size <= READ_WHOLE_LIMIT) return parse(memorySource(readFileSync(fd)), path)
    const source: ByteSource = {
      size: stat.size,
      read: (target, targetOffset, length, offset) => readSync(fd, target, targetOffset, length, offset),
    }
    return parse(source, path)
  } finally {
    closeSync(fd)
  }
}

const elemTypeNames: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
}

/**
 * Formats a graph input or output for people: name, element type and shape.
 * @example
 * import { formatValueInfo } from './onnx/readModelInfo.js'
 * formatValueInfo({ name: 'x', elemType: 1, shape: ['batch', 4] }) // 'x: float32[batch, 4]'
 */
export function formatValueInfo(info: OnnxValueInfo): string {
  const type = elemTypeNames[info.elemType] ?? `type${info.elemType}`
  return `${info.name}: ${type}[${info.shape.join(', ')}]`
}
