/**
 * The integer graph of a zk model (`imo-zk-v1`, docs/formats.md section 11): what `model.onnx` of a
 * quantized model holds, with Div+Floor fused into one FloorDiv. Every value is an integer; there is no
 * rounding anywhere except FloorDiv's, which is exact floor division by a power of two.
 *
 * One evaluator walks the graph over any element algebra, so the same shape rules (ONNX broadcasting,
 * MatMul, Reshape, Transpose, Concat) serve the three uses: exact BigInt evaluation, interval analysis
 * (which proves the value ranges the compiler needs), and building the circuit symbolically.
 */

/** The integer operations of a zk graph (ONNX semantics on integer-valued tensors). */
export type ZkOp = 'MatMul' | 'Add' | 'Sub' | 'Mul' | 'Neg' | 'Relu' | 'FloorDiv' | 'Mod' | 'Reshape' | 'Transpose' | 'Concat'

export interface ZkNode {
  op: ZkOp
  /** The ONNX node's name (FloorDiv: the Floor node's), for messages. */
  name: string
  inputs: string[]
  output: string
  /** FloorDiv, Mod: the power of two k (divisor 2^k). */
  shift?: number
  /** Reshape: the new shape (no -1 or 0 left). */
  shape?: number[]
  /** Transpose: the permutation. */
  perm?: number[]
  /** Concat: the axis (non-negative). */
  axis?: number
}

/** A tensor of any element type, row-major. */
export interface Tensor<T> {
  dims: number[]
  data: T[]
}

export interface ZkGraph {
  /** The one input (the latent made from the prompt): its name, shape and the integer range of every element. */
  input: { name: string; dims: number[]; min: bigint; max: bigint }
  /** The one output. */
  output: { name: string; dims: number[] }
  constants: Map<string, Tensor<bigint>>
  nodes: ZkNode[]
}

/** The element operations an evaluation needs. `mul` must handle constants (from `constant`) on either side. */
export interface ElementAlgebra<T> {
  constant(value: bigint): T
  add(a: T, b: T): T
  sub(a: T, b: T): T
  neg(a: T): T
  mul(a: T, b: T): T
  relu(a: T): T
  floorDiv(a: T, shift: number): T
  /** a - 2^shift * floor(a / 2^shift): in [0, 2^shift). */
  mod(a: T, shift: number): T
  /** Sum of products, for MatMul (defaults to mul and add in order). */
  dot?(a: T[], b: T[]): T
}

/** Why a graph cannot be evaluated: names the node (the caller turns it into a UsageError). */
export class ZkGraphError extends Error {
  override name = 'ZkGraphError'
  constructor(
    readonly node: string,
    readonly op: string,
    readonly reason: string,
  ) {
    super(`node '${node}' (${op}): ${reason}`)
  }
}

/** Number of elements of a shape. */
export function sizeOf(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1)
}

function strides(dims: readonly number[]): number[] {
  const out = new Array<number>(dims.length).fill(1)
  for (let i = dims.length - 2; i >= 0; i--) out[i] = out[i + 1]! * dims[i + 1]!
  return out
}

/**
 * ONNX (numpy) multidirectional broadcasting of two shapes.
 * @throws Error when the shapes do not broadcast.
 * @example
 * broadcastShape([16, 1, 4], [1, 16, 4]) // [16, 16, 4]
 */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length)
  const out: number[] = []
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1
    const y = b[b.length - rank + i] ?? 1
    if (x !== y && x !== 1 && y !== 1) throw new Error(`shapes [${a}] and [${b}] do not broadcast`)
    out.push(x === 1 ? y : x)
  }
  return out
}

/** Index of `outIndex` (in a tensor of shape `outDims`) within a tensor of shape `dims` broadcast to it. */
function broadcastIndexer(dims: readonly number[], outDims: readonly number[]): (flat: number) => number {
  const rank = outDims.length
  const outStrides = strides(outDims)
  const padded = [...new Array<number>(rank - dims.length).fill(1), ...dims]
  const inStrides = strides(padded)
  return (flat) => {
    let index = 0
    for (let axis = 0; axis < rank; axis++) {
      const coordinate = Math.floor(flat / outStrides[axis]!) % outDims[axis]!
      if (padded[axis] !== 1) index += coordinate * inStrides[axis]!
    }
    return index
  }
}

/**
 * Elementwise binary operation with ONNX broadcasting.
 * @example
 * elementwise({ dims: [2], data: [1n, 2n] }, { dims: [1], data: [10n] }, (x, y) => x + y).data // [11n, 12n]
 */
export function elementwise<A, B, R>(a: Tensor<A>, b: Tensor<B>, f: (x: A, y: B) => R): Tensor<R> {
  const dims = broadcastShape(a.dims, b.dims)
  const ia = broadcastIndexer(a.dims, dims)
  const ib = broadcastIndexer(b.dims, dims)
  const data = Array.from({ length: sizeOf(dims) }, (_, i) => f(a.data[ia(i)]!, b.data[ib(i)]!))
  return { dims, data }
}

/**
 * numpy matmul of rank >= 2 tensors: [..., M, K] x [..., K, N] with broadcast batch dimensions.
 * @example
 * matmul({ dims: [1, 2], data: [1n, 2n] }, { dims: [2, 1], data: [3n, 4n] }, (r, c) => r[0]! * c[0]! + r[1]! * c[1]!).data // [11n]
 */
export function matmul<A, B, R>(a: Tensor<A>, b: Tensor<B>, dot: (row: A[], column: B[]) => R): Tensor<R> {
  if (a.dims.length < 2 || b.dims.length < 2) throw new Error('MatMul operands must have rank 2 or more')
  const [m, k] = a.dims.slice(-2) as [number, number]
  const [k2, n] = b.dims.slice(-2) as [number, number]
  if (k !== k2) throw new Error(`MatMul inner dimensions differ: [${a.dims}] x [${b.dims}]`)
  const batch = broadcastShape(a.dims.slice(0, -2), b.dims.slice(0, -2))
  const ia = broadcastIndexer(a.dims.slice(0, -2), batch)
  const ib = broadcastIndexer(b.dims.slice(0, -2), batch)
  const data: R[] = []
  for (let t = 0; t < sizeOf(batch); t++) {
    const aBase = ia(t) * m * k
    const bBase = ib(t) * k * n
    for (let i = 0; i < m; i++) {
      const row = a.data.slice(aBase + i * k, aBase + (i + 1) * k)
      for (let j = 0; j < n; j++) {
        const column = Array.from({ length: k }, (_, x) => b.data[bBase + x * n + j]!)
        data.push(dot(row, column))
      }
    }
  }
  return { dims: [...batch, m, n], data }
}

/**
 * Transposes by a permutation of the axes.
 * @example
 * transpose({ dims: [2, 3], data: [1, 2, 3, 4, 5, 6] }, [1, 0]).data // [1, 4, 2, 5, 3, 6]
 */
export function transpose<T>(x: Tensor<T>, perm: readonly number[]): Tensor<T> {
  const dims = perm.map((p) => x.dims[p]!)
  const inStrides = strides(x.dims)
  const outStrides = strides(dims)
  const data = Array.from({ length: x.data.length }, (_, flat) => {
    let index = 0
    for (let axis = 0; axis < dims.length; axis++)
      index += (Math.floor(flat / outStrides[axis]!) % dims[axis]!) * inStrides[perm[axis]!]!
    return x.data[index]!
  })
  return { dims, data }
}

/**
 * Concatenates along an axis.
 * @example
 * concat([{ dims: [1, 2], data: [1, 2] }, { dims: [1, 1], data: [3] }], 1).data // [1, 2, 3]
 */
export function concat<T>(parts: Tensor<T>[], axis: number): Tensor<T> {
  const first = parts[0]!
  for (const part of parts)
    if (part.dims.length !== first.dims.length || part.dims.some((d, i) => i !== axis && d !== first.dims[i]))
      throw new Error(`Concat shapes differ off axis ${axis}: ${parts.map((p) => `[${p.dims}]`).join(', ')}`)
  const dims = [...first.dims]
  dims[axis] = parts.reduce((sum, p) => sum + p.dims[axis]!, 0)
  const outer = sizeOf(first.dims.slice(0, axis))
  const data: T[] = []
  for (let o = 0; o < outer; o++)
    for (const part of parts) {
      const block = sizeOf(part.dims.slice(axis))
      data.push(...part.data.slice(o * block, (o + 1) * block))
    }
  return { dims, data }
}

/**
 * Evaluates zk graph nodes one at a time over an element algebra (the quantizer adds nodes as it
 * builds them; {@link evaluateZkGraph} runs a whole graph).
 * @example
 * const evaluator = new ZkEvaluator(graph.constants, bigintAlgebra)
 * evaluator.set('z', { dims: [1, 8], data: z })
 * for (const node of graph.nodes) evaluator.run(node)
 */
export class ZkEvaluator<T> {
  readonly values = new Map<string, Tensor<T>>()
  private readonly constantCache = new Map<bigint, T>()
  private readonly dot: (row: T[], column: T[]) => T

  constructor(
    private readonly constants: Map<string, Tensor<bigint>>,
    private readonly algebra: ElementAlgebra<T>,
  ) {
    this.dot =
      algebra.dot ?? ((row, column) => row.reduce((sum, x, i) => algebra.add(sum, algebra.mul(x, column[i]!)), this.constant(0n)))
  }

  /** The algebra's element for an integer constant (one object per value). */
  constant(value: bigint): T {
    let c = this.constantCache.get(value)
    if (c === undefined) {
      c = this.algebra.constant(value)
      this.constantCache.set(value, c)
    }
    return c
  }

  set(name: string, value: Tensor<T>): void {
    this.values.set(name, value)
  }

  /** A computed tensor, or a constant of the graph as elements. */
  get(name: string): Tensor<T> | undefined {
    let value = this.values.get(name)
    if (!value) {
      const c = this.constants.get(name)
      if (!c) return undefined
      value = { dims: c.dims, data: c.data.map((v) => this.constant(v)) }
      this.values.set(name, value)
    }
    return value
  }

  /**
   * Computes one node and stores its output.
   * @throws ZkGraphError naming the node when an input is missing or the shapes do not fit.
   */
  run(node: ZkNode): Tensor<T> {
    const get = (i: number): Tensor<T> => {
      const name = node.inputs[i]
      if (name === undefined) throw new ZkGraphError(node.name, node.op, `input ${i} is missing`)
      const value = this.get(name)
      if (!value) throw new ZkGraphError(node.name, node.op, `input '${name}' is not computed before it`)
      return value
    }
    let result: Tensor<T>
    try {
      result = applyNode(node, get, this.algebra, this.dot)
    } catch (error) {
      if (error instanceof ZkGraphError) throw error
      throw new ZkGraphError(node.name, node.op, (error as Error).message)
    }
    this.values.set(node.output, result)
    return result
  }
}

/**
 * Evaluates a zk graph over an element algebra, node by node in file order.
 * @param graph - the graph.
 * @param input - the input tensor's elements.
 * @param algebra - how elements combine.
 * @param onNode - called after each node with its result (interval analysis checks ranges there).
 * @returns every tensor computed, by name (constants used included), the output among them.
 * @throws ZkGraphError naming the node whose inputs are missing or whose shapes do not fit.
 * @example
 * const values = evaluateZkGraph(graph, { dims: [1, 8], data: z }, bigintAlgebra)
 * values.get(graph.output.name)
 */
export function evaluateZkGraph<T>(
  graph: ZkGraph,
  input: Tensor<T>,
  algebra: ElementAlgebra<T>,
  onNode?: (node: ZkNode, result: Tensor<T>) => void,
): Map<string, Tensor<T>> {
  const evaluator = new ZkEvaluator(graph.constants, algebra)
  evaluator.set(graph.input.name, input)
  for (const node of graph.nodes) {
    const result = evaluator.run(node)
    onNode?.(node, result)
  }
  return evaluator.values
}

function applyNode<T>(
  node: ZkNode,
  get: (i: number) => Tensor<T>,
  algebra: ElementAlgebra<T>,
  dot: (a: T[], b: T[]) => T,
): Tensor<T> {
  switch (node.op) {
    case 'MatMul':
      return matmul(get(0), get(1), dot)
    case 'Add':
      return elementwise(get(0), get(1), algebra.add)
    case 'Sub':
      return elementwise(get(0), get(1), algebra.sub)
    case 'Mul':
      return elementwise(get(0), get(1), algebra.mul)
    case 'Neg': {
      const x = get(0)
      return { dims: x.dims, data: x.data.map(algebra.neg) }
    }
    case 'Relu': {
      const x = get(0)
      return { dims: x.dims, data: x.data.map(algebra.relu) }
    }
    case 'FloorDiv': {
      const x = get(0)
      const shift = node.shift!
      return { dims: x.dims, data: x.data.map((v) => algebra.floorDiv(v, shift)) }
    }
    case 'Mod': {
      const x = get(0)
      const shift = node.shift!
      return { dims: x.dims, data: x.data.map((v) => algebra.mod(v, shift)) }
    }
    case 'Reshape': {
      const x = get(0)
      const shape = node.shape!
      if (sizeOf(shape) !== x.data.length) throw new Error(`cannot reshape [${x.dims}] to [${shape}]`)
      return { dims: [...shape], data: x.data }
    }
    case 'Transpose':
      return transpose(get(0), node.perm!)
    case 'Concat':
      return concat(
        node.inputs.map((_, i) => get(i)),
        node.axis!,
      )
  }
}

/** Exact integer evaluation (the reference semantics). */
export const bigintAlgebra: ElementAlgebra<bigint> = {
  constant: (v) => v,
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  neg: (a) => -a,
  mul: (a, b) => a * b,
  relu: (a) => (a > 0n ? a : 0n),
  floorDiv: (a, shift) => floorShift(a, shift),
  mod: (a, shift) => a - (floorShift(a, shift) << BigInt(shift)),
}

/**
 * floor(a / 2^shift) for any integer a (BigInt's `>>` is already floor division for negatives).
 * @example
 * floorShift(-5n, 1) // -3n
 */
export function floorShift(a: bigint, shift: number): bigint {
  return a >> BigInt(shift)
}
