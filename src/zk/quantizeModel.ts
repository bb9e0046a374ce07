/**
 * Quantizes a float ONNX model into a zk graph (`imo-zk-v1`, docs/formats.md section 11). Weights are
 * rounded once to fixed point; every tensor then carries its own scale 2^s and the graph computes with
 * exact integers only. Scales grow through products and are brought back only where a non-linearity
 * needs it (Relu rescales to `fracBits`; Sin's range reduction absorbs any scale), because in the
 * circuit each rescale costs a range check. Interval analysis runs alongside: a model that could leave
 * +-2^53 anywhere (where float64 evaluation stops being exact) is refused, naming the node.
 */
import { UsageError } from '../errors.js'
import {
  DEFAULT_FRAC_BITS,
  EXACT_BOUND,
  INPUT_MAX,
  INPUT_MIN,
  INPUT_SCALE,
  MAX_FRAC_BITS,
  multiplierScale,
  quantizeConstant,
} from './fixedPoint.js'
import { COS_TURNS, foldSinScale, SIN_TURNS } from './foldSinScale.js'
import { hullOf, type Interval, intervalAlgebra, magnitude, maxOf } from './graphRanges.js'
import type { GraphNode, OnnxGraph } from './readOnnxGraph.js'
import {
  concat,
  elementwise,
  matmul,
  sizeOf,
  type Tensor,
  transpose,
  ZkEvaluator,
  type ZkGraph,
  ZkGraphError,
  type ZkNode,
} from './zkGraph.js'

/** The ONNX operators a float model may use (constant-only nodes may also use the shape helpers). */
export const SUPPORTED_OPS = [
  'Add',
  'Concat',
  'Constant',
  'Cos',
  'Div',
  'Flatten',
  'Gemm',
  'Identity',
  'MatMul',
  'Mul',
  'Neg',
  'Relu',
  'Reshape',
  'Sin',
  'Squeeze',
  'Sub',
  'Transpose',
  'Unsqueeze',
] as const

/** The most latent values a prompt's hash provides (31 bytes of keccak256 fit one field element). */
export const MAX_LATENT = 31

export interface QuantizeOptions {
  /** Fractional bits of weights and of Relu/Sin outputs (even, 2..16; default 8). */
  fracBits?: number
  /** The model file's name, for messages. */
  label: string
}

export interface QuantizedModel {
  graph: ZkGraph
  fracBits: number
  /** The output's scale before it became bytes. */
  outputScale: number
  /** Largest magnitude any value or MatMul partial sum reaches, and where. */
  largest: { node: string; bound: bigint }
}

type Const = { kind: 'const'; dims: number[]; values: Float64Array }
type Var = { kind: 'var'; name: string; dims: number[]; scale: number }
type Value = Const | Var

const pow2 = (k: number) => 1n << BigInt(k)

/**
 * Quantizes a float model (one input [1, L], L <= 31; one output whose values lie in [0, 1)).
 * @param onnx - the parsed float model.
 * @param options - fractional bits, file label.
 * @returns the zk graph, whose output is bytes (0..255: floor(value * 256)).
 * @throws UsageError (exit 2, one line naming the node and why) for unsupported operators, shapes, weights
 *   that overflow the fixed-point range, values that may leave +-2^53, or an output that may leave [0, 1).
 * @example
 * import { quantizeModel } from './zk/quantizeModel.js'
 * const { graph } = quantizeModel(parseOnnxGraph(bytes, 'cppn.onnx'), { label: 'cppn.onnx' })
 * graph.nodes.length // the integer graph, written by writeZkModel
 */
export function quantizeModel(onnx: OnnxGraph, options: QuantizeOptions): QuantizedModel {
  const F = options.fracBits ?? DEFAULT_FRAC_BITS
  const label = options.label
  if (!Number.isInteger(F) || F < 2 || F > MAX_FRAC_BITS || F % 2 !== 0)
    throw new UsageError(`--frac-bits must be an even number from 2 to ${MAX_FRAC_BITS}, got ${options.fracBits}`)
  const refuse = (node: { name: string; opType: string }, why: string): never => {
    throw new UsageError(`${label}: node '${node.name}' (${node.opType}): ${why}`)
  }
  const [input, ...moreInputs] = onnx.inputs
  if (!input || moreInputs.length > 0)
    throw new UsageError(
      `${label}: a zk model has exactly one input (the latent made from the prompt), this one has ${onnx.inputs.length}`,
    )
  if (
    input.shape.length !== 2 ||
    input.shape[0] !== 1 ||
    typeof input.shape[1] !== 'number' ||
    input.shape[1] < 1 ||
    input.shape[1] > MAX_LATENT
  )
    throw new UsageError(
      `${label}: input '${input.name}' is [${input.shape}]: a zk model's input must be [1, L] with 1 <= L <= ${MAX_LATENT}`,
    )
  const [output, ...moreOutputs] = onnx.outputs
  if (!output || moreOutputs.length > 0)
    throw new UsageError(`${label}: a zk model has exactly one output, this one has ${onnx.outputs.length}`)

  const graph: ZkGraph = {
    input: { name: input.name, dims: [1, input.shape[1]], min: INPUT_MIN, max: INPUT_MAX },
    output: { name: output.name, dims: [] },
    constants: new Map(),
    nodes: [],
  }
  let partial = 0n
  const evaluator = new ZkEvaluator(
    graph.constants,
    intervalAlgebra((bound) => {
      if (bound > partial) partial = bound
    }),
  )
  evaluator.set(input.name, {
    dims: graph.input.dims,
    data: Array.from({ length: input.shape[1] }, () => ({ lo: INPUT_MIN, hi: INPUT_MAX })),
  })
  const largest = { node: input.name, bound: -INPUT_MIN }
  const folded = foldSinScale(onnx)
  const used = new Set<string>([input.name, ...folded.initializers.keys()])
  const fresh = (base: string) => {
    let name = base
    for (let n = 1; used.has(name); n++) name = `${base}.${n}`
    used.add(name)
    return name
  }
  const constantNames = new Map<string, string>()
  /** Adds an integer constant tensor (scalars are shared). */
  const addConstant = (data: bigint[], dims: number[], base: string): string => {
    const key = dims.length === 0 ? `scalar:${data[0]}` : undefined
    const known = key && constantNames.get(key)
    if (known) return known
    const name = fresh(dims.length === 0 ? `c${data[0]}` : base)
    graph.constants.set(name, { dims, data })
    if (key) constantNames.set(key, name)
    return name
  }
  const scalar = (v: bigint) => addConstant([v], [], '')

  let current: GraphNode = onnx.nodes[0] ?? {
    name: input.name,
    opType: 'input',
    domain: '',
    inputs: [],
    outputs: [],
    attributes: new Map(),
  }
  /** Appends an integer node, computes its value ranges, and refuses values beyond +-2^53. */
  const emit = (op: ZkNode['op'], inputs: string[], scale: number, extra: Partial<ZkNode> = {}, outputName?: string): Var => {
    const name = outputName ?? fresh(`${current.outputs[0] ?? current.name}/${op}`)
    if (outputName) used.add(outputName)
    const node: ZkNode = { op, name: current.name, inputs, output: name, ...extra }
    graph.nodes.push(node)
    partial = 0n
    let result: Tensor<Interval>
    try {
      result = evaluator.run(node)
    } catch (error) {
      if (error instanceof ZkGraphError) return refuse(current, error.reason)
      throw error
    }
    const bound = maxOf(partial, ...result.data.map(magnitude))
    if (bound > largest.bound) Object.assign(largest, { node: current.name, bound })
    if (bound >= EXACT_BOUND)
      refuse(
        current,
        `its values may reach +-2^${bound.toString(2).length - 1} at scale 2^${scale}, beyond +-2^53 where a zk model stays exact; make its weights or inputs smaller, or put a Relu or Sin before it`,
      )
    return { kind: 'var', name, dims: result.dims, scale }
  }
  const rangeOf = (v: Var): Interval => hullOf(evaluator.get(v.name)!.data)

  const values = new Map<string, Value>()
  values.set(input.name, { kind: 'var', name: input.name, dims: graph.input.dims, scale: INPUT_SCALE })
  for (const [name, tensor] of folded.initializers) values.set(name, { kind: 'const', dims: tensor.dims, values: tensor.values })

  /** A constant quantized at `scale`, added to the graph. */
  const quantized = (c: Const, scale: number, what: string): string =>
    addConstant(
      Array.from(c.values, (v) => quantizeConstant(v, scale, what)),
      c.dims,
      `${current.outputs[0] ?? current.name}/${what.split("'")[1] ?? 'const'}`,
    )
  const constantName = (index: number) => current.inputs[index] || `constant ${index}`
  const align = (x: Var, scale: number): Var =>
    x.scale === scale ? x : emit('Mul', [x.name, scalar(pow2(scale - x.scale))], scale)
  const mulConst = (x: Var, c: Const, index: number, constFirst = false): Var => {
    const s = multiplierScale(c.values, F)
    const cname = quantized(c, s, `weight '${constantName(index)}' of node '${current.name}'`)
    return emit('Mul', constFirst ? [cname, x.name] : [x.name, cname], x.scale + s)
  }
  const addSub = (op: 'Add' | 'Sub', a: Value, b: Value): Value => {
    if (a.kind === 'var' && b.kind === 'var') {
      const scale = Math.max(a.scale, b.scale)
      return emit(op, [align(a, scale).name, align(b, scale).name], scale)
    }
    if (a.kind === 'var' && b.kind === 'const')
      return emit(op, [a.name, quantized(b, a.scale, `constant '${constantName(1)}' of node '${current.name}'`)], a.scale)
    if (a.kind === 'const' && b.kind === 'var')
      return emit(op, [quantized(a, b.scale, `constant '${constantName(0)}' of node '${current.name}'`), b.name], b.scale)
    throw new Error('unreachable: constant operands are folded')
  }
  const mul = (a: Value, b: Value): Value => {
    if (a.kind === 'var' && b.kind === 'var') return emit('Mul', [a.name, b.name], a.scale + b.scale)
    if (a.kind === 'var' && b.kind === 'const') return mulConst(a, b, 1)
    if (a.kind === 'const' && b.kind === 'var') return mulConst(b, a, 0, true)
    throw new Error('unreachable: constant operands are folded')
  }
  const matMul = (a: Value, b: Value): Value => {
    if (a.dims.length < 2 || b.dims.length < 2) refuse(current, 'MatMul operands must have rank 2 or more')
    if (a.kind === 'var' && b.kind === 'var') return emit('MatMul', [a.name, b.name], a.scale + b.scale)
    const [x, c, index] = a.kind === 'var' ? [a, b as Const, 1] : [b as Var, a as Const, 0]
    const s = multiplierScale(c.values, F)
    const cname = quantized(c, s, `weight '${constantName(index)}' of node '${current.name}'`)
    return emit('MatMul', index === 1 ? [x.name, cname] : [cname, x.name], x.scale + s)
  }
  const relu = (x: Var): Var => {
    const scaled = x.scale > F ? emit('FloorDiv', [x.name], F, { shift: x.scale - F }) : x
    return emit('Relu', [scaled.name], scaled.scale)
  }
  /** sin(2 pi t) of t in turns (at t's scale), plus a quarter turn for Cos: docs/formats.md section 11. */
  const sinTurns = (x: Var, quarterTurns: number): Var => {
    const h = F / 2
    // The position within a half turn needs h bits below the half-turn bit.
    let u = x.scale < h + 1 ? align(x, h + 1) : x
    const T = u.scale
    if (quarterTurns !== 0) u = emit('Add', [u.name, scalar(pow2(T - 2))], T)
    const low = rangeOf(u).lo
    if (low < 0n) {
      // Whole turns change nothing: make the dividend non-negative for Mod (ONNX fmod follows its sign).
      let offset = pow2(T)
      while (offset < -low) offset <<= 1n
      u = emit('Add', [u.name, scalar(offset)], T)
    }
    const position = emit('Mod', [u.name], T - 1, { shift: T - 1 })
    const bucket = emit('FloorDiv', [position.name], 0, { shift: T - 1 - h })
    const halfTurns = emit('FloorDiv', [u.name], 0, { shift: T - 1 })
    const negative = emit('Mod', [halfTurns.name], 0, { shift: 1 })
    const twice = emit('Mul', [bucket.name, scalar(2n)], 0)
    const centred = emit('Sub', [twice.name, scalar(pow2(h) - 1n)], 0)
    const square = emit('Mul', [centred.name, centred.name], 0)
    const hump = emit('Sub', [scalar(pow2(2 * h)), square.name], 2 * h)
    const twiceSign = emit('Mul', [negative.name, scalar(2n)], 0)
    const sign = emit('Sub', [scalar(1n), twiceSign.name], 0)
    return emit('Mul', [hump.name, sign.name], 2 * h)
  }
  const reshapeVar = (x: Var, shape: number[]): Var => emit('Reshape', [x.name], x.scale, { shape })

  for (const node of folded.nodes) {
    current = node
    const turns = node.domain === 'imo' && (node.opType === SIN_TURNS || node.opType === COS_TURNS)
    if (node.domain !== '' && node.domain !== 'ai.onnx' && !turns)
      refuse(node, `operators of domain '${node.domain}' are not supported`)
    if (!turns && !(SUPPORTED_OPS as readonly string[]).includes(node.opType))
      refuse(node, `operator not supported for zk proofs (supported: ${SUPPORTED_OPS.join(', ')})`)
    if (node.outputs.length !== 1) refuse(node, 'nodes with several outputs are not supported')
    const args: (Value | undefined)[] = node.inputs.map((name) => {
      if (name === '') return undefined
      const v = values.get(name)
      if (!v) return refuse(node, `input '${name}' is not computed before it (the graph must be in topological order)`)
      return v
    })
    const arg = (i: number): Value => args[i] ?? refuse(node, `input ${i} is missing`)
    const attr = (name: string) => node.attributes.get(name)
    const intAttr = (name: string, fallback: number) => {
      const a = attr(name)
      return a?.kind === 'int' ? a.value : fallback
    }
    const floatAttr = (name: string, fallback: number) => {
      const a = attr(name)
      return a?.kind === 'float' ? a.value : fallback
    }
    const intsOf = (v: Value | undefined, what: string): number[] => {
      if (v?.kind !== 'const') return refuse(node, `${what} must be a constant`)
      return Array.from(v.values)
    }
    const axesOf = (): number[] | undefined => {
      const a = attr('axes')
      if (a?.kind === 'ints') return a.value
      return args[1] ? intsOf(args[1], 'axes') : undefined
    }

    let result: Value
    const allConst = args.every((a) => a === undefined || a.kind === 'const')
    if (node.opType === 'Constant') {
      const value = attr('value')
      if (value?.kind !== 'tensor') return refuse(node, 'only Constant nodes with a tensor `value` are supported')
      result = { kind: 'const', dims: value.value.dims, values: value.value.values }
    } else if (allConst) {
      result = foldConstant(node, args as (Const | undefined)[], refuse)
    } else {
      const x = arg(0)
      switch (node.opType) {
        case 'Identity':
          result = x
          break
        case 'Add':
        case 'Sub':
          result = addSub(node.opType, x, arg(1))
          break
        case 'Mul':
          result = mul(x, arg(1))
          break
        case 'Div': {
          const d = arg(1)
          if (d.kind !== 'const') return refuse(node, 'division by a computed value is not supported (only by constants)')
          if (Array.from(d.values).some((v) => v === 0)) return refuse(node, 'division by zero')
          result = mul(x, { kind: 'const', dims: d.dims, values: d.values.map((v) => 1 / v) })
          break
        }
        case 'Neg':
          result = emit('Neg', [(x as Var).name], (x as Var).scale)
          break
        case 'MatMul':
          result = matMul(x, arg(1))
          break
        case 'Gemm': {
          if (intAttr('transA', 0) !== 0 && x.kind === 'var') return refuse(node, 'transA = 1 on a computed A is not supported')
          const alpha = floatAttr('alpha', 1)
          const beta = floatAttr('beta', 1)
          const a = x.kind === 'const' && intAttr('transA', 0) ? transposeConst(x) : x
          let b = arg(1)
          if (intAttr('transB', 0))
            b = b.kind === 'const' ? transposeConst(b) : emit('Transpose', [b.name], b.scale, { perm: [1, 0] })
          let product: Value
          if (alpha === 1) product = matMul(a, b)
          else if (b.kind === 'const') product = matMul(a, { ...b, values: b.values.map((v) => v * alpha) })
          else if (a.kind === 'const') product = matMul({ ...a, values: a.values.map((v) => v * alpha) }, b)
          else product = mul(matMul(a, b), { kind: 'const', dims: [], values: Float64Array.of(alpha) })
          const c = args[2]
          if (!c || beta === 0) result = product
          else if (c.kind === 'const') result = addSub('Add', product, { ...c, values: c.values.map((v) => v * beta) })
          else
            result = addSub('Add', product, beta === 1 ? c : mul(c, { kind: 'const', dims: [], values: Float64Array.of(beta) }))
          break
        }
        case 'Relu':
          result = relu(x as Var)
          break
        case SIN_TURNS:
        case COS_TURNS:
          result = sinTurns(x as Var, node.opType === COS_TURNS ? 1 : 0)
          break
        case 'Reshape': {
          const shape = intsOf(args[1], 'the shape')
          result = reshapeVar(
            x as Var,
            resolveShape(x.dims, shape, intAttr('allowzero', 0) === 1, (why) => refuse(node, why)),
          )
          break
        }
        case 'Flatten': {
          let axis = intAttr('axis', 1)
          if (axis < 0) axis += x.dims.length
          result = reshapeVar(x as Var, [sizeOf(x.dims.slice(0, axis)), sizeOf(x.dims.slice(axis))])
          break
        }
        case 'Unsqueeze': {
          const axes = axesOf() ?? refuse(node, 'no axes')
          result = reshapeVar(x as Var, unsqueezeShape(x.dims, axes))
          break
        }
        case 'Squeeze': {
          const axes = axesOf()
          result = reshapeVar(
            x as Var,
            squeezeShape(x.dims, axes, (why) => refuse(node, why)),
          )
          break
        }
        case 'Transpose': {
          const a = attr('perm')
          const perm = a?.kind === 'ints' ? a.value : x.dims.map((_, i) => x.dims.length - 1 - i)
          result = emit('Transpose', [(x as Var).name], (x as Var).scale, { perm })
          break
        }
        case 'Concat': {
          const parts = args.map((p, i) => p ?? refuse(node, `input ${i} is missing`))
          let axis = intAttr('axis', 0)
          if (axis < 0) axis += x.dims.length
          const scale = Math.max(...parts.map((p) => (p.kind === 'var' ? p.scale : 0)))
          const names = parts.map((p, i) =>
            p.kind === 'var' ? align(p, scale).name : quantized(p, scale, `constant '${constantName(i)}' of node '${node.name}'`),
          )
          result = emit('Concat', names, scale, { axis })
          break
        }
        default:
          return refuse(node, 'operator not supported for zk proofs')
      }
    }
    values.set(node.outputs[0]!, result)
  }

  const out = values.get(output.name)
  current = { name: output.name, opType: 'output', domain: '', inputs: [], outputs: [], attributes: new Map() }
  if (!out) throw new UsageError(`${label}: the output '${output.name}' is not computed by any node`)
  if (out.kind === 'const') throw new UsageError(`${label}: the output '${output.name}' does not depend on the input`)
  // Bytes: floor(value * 256), exact at any scale.
  const bytes =
    out.scale >= 8
      ? emit('FloorDiv', [out.name], 8, { shift: out.scale - 8 }, output.name)
      : emit('Mul', [out.name, scalar(pow2(8 - out.scale))], 8, {}, output.name)
  graph.nodes[graph.nodes.length - 1]!.name = output.name
  const range = rangeOf(bytes)
  if (range.lo < 0n || range.hi > 255n) {
    const real = (q: bigint) => (Number(q) / 256).toPrecision(4)
    throw new UsageError(
      `${label}: output '${output.name}' may reach [${real(range.lo)}, ${real(range.hi + 1n)}), beyond [0, 1): a zk model's output becomes bytes, so it must provably stay in [0, 1) (e.g. 0.5 + 0.49 * Sin(...))`,
    )
  }
  graph.output.dims = bytes.dims
  return { graph, fracBits: F, outputScale: out.scale, largest }
}

function transposeConst(c: Const): Const {
  const t = transpose({ dims: c.dims, data: Array.from(c.values) }, [1, 0])
  return { kind: 'const', dims: t.dims, values: Float64Array.from(t.data) }
}

/** ONNX Reshape's shape rules: 0 copies the input's dimension (unless allowzero), one -1 is inferred. */
function resolveShape(dims: number[], shape: number[], allowZero: boolean, refuse: (why: string) => never): number[] {
  const out = shape.map((d, i) =>
    d === 0 && !allowZero ? (dims[i] ?? refuse(`shape [${shape}] copies a dimension that does not exist`)) : d,
  )
  const unknown = out.indexOf(-1)
  if (unknown >= 0) {
    const known = out.filter((_, i) => i !== unknown).reduce((a, b) => a * b, 1)
    if (known === 0 || sizeOf(dims) % known !== 0) refuse(`cannot reshape [${dims}] to [${shape}]`)
    out[unknown] = sizeOf(dims) / known
  }
  if (sizeOf(out) !== sizeOf(dims) || out.some((d) => d < 0)) refuse(`cannot reshape [${dims}] to [${shape}]`)
  return out
}

function unsqueezeShape(dims: number[], axes: number[]): number[] {
  const rank = dims.length + axes.length
  const normalized = axes.map((a) => (a < 0 ? a + rank : a))
  const out: number[] = []
  let next = 0
  for (let i = 0; i < rank; i++) out.push(normalized.includes(i) ? 1 : dims[next++]!)
  return out
}

function squeezeShape(dims: number[], axes: number[] | undefined, refuse: (why: string) => never): number[] {
  const normalized = axes?.map((a) => (a < 0 ? a + dims.length : a))
  return dims.filter((d, i) => {
    const squeeze = normalized ? normalized.includes(i) : d === 1
    if (squeeze && d !== 1) refuse(`cannot squeeze axis ${i} of size ${d}`)
    return !squeeze
  })
}

/** Evaluates a node whose inputs are all constants, in float64 (its result is quantized where it is used). */
function foldConstant(node: GraphNode, args: (Const | undefined)[], refuse: (node: GraphNode, why: string) => never): Const {
  const t = (i: number): Tensor<number> => {
    const c = args[i] ?? refuse(node, `input ${i} is missing`)
    return { dims: c.dims, data: Array.from(c.values) }
  }
  const out = (x: Tensor<number>): Const => ({ kind: 'const', dims: x.dims, values: Float64Array.from(x.data) })
  const unary = (f: (v: number) => number) => {
    const x = t(0)
    return out({ dims: x.dims, data: x.data.map(f) })
  }
  const attr = node.attributes
  const intAttr = (name: string, fallback: number) => {
    const a = attr.get(name)
    return a?.kind === 'int' ? a.value : fallback
  }
  const dot = (row: number[], column: number[]) => row.reduce((sum, v, i) => sum + v * column[i]!, 0)
  try {
    switch (node.opType) {
      case 'Identity':
        return out(t(0))
      case 'Add':
        return out(elementwise(t(0), t(1), (a, b) => a + b))
      case 'Sub':
        return out(elementwise(t(0), t(1), (a, b) => a - b))
      case 'Mul':
        return out(elementwise(t(0), t(1), (a, b) => a * b))
      case 'Div':
        return out(elementwise(t(0), t(1), (a, b) => a / b))
      case 'Neg':
        return unary((v) => -v)
      case 'Relu':
        return unary((v) => Math.max(v, 0))
      case SIN_TURNS:
        return unary((t) => Math.sin(2 * Math.PI * t))
      case COS_TURNS:
        return unary((t) => Math.cos(2 * Math.PI * t))
      case 'MatMul':
        return out(matmul(t(0), t(1), dot))
      case 'Transpose': {
        const x = t(0)
        const a = attr.get('perm')
        return out(transpose(x, a?.kind === 'ints' ? a.value : x.dims.map((_, i) => x.dims.length - 1 - i)))
      }
      case 'Concat': {
        const parts = args.map((_, i) => t(i))
        let axis = intAttr('axis', 0)
        if (axis < 0) axis += parts[0]!.dims.length
        return out(concat(parts, axis))
      }
      case 'Reshape': {
        const x = t(0)
        return out({
          dims: resolveShape(x.dims, t(1).data, intAttr('allowzero', 0) === 1, (why) => refuse(node, why)),
          data: x.data,
        })
      }
      default:
        return refuse(node, 'this operator is only supported on computed values, not to fold constants')
    }
  } catch (error) {
    if (error instanceof UsageError) throw error
    return refuse(node, (error as Error).message)
  }
}
