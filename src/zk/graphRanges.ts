/**
 * Interval analysis of a zk graph: for every element of every tensor, integers lo and hi such that its
 * value is in [lo, hi] for every input in the input's range. Sound by construction (each operation's
 * bounds contain every result), possibly loose. The quantizer uses it to refuse models that could leave
 * the exact range of the quantized model, and the circuit needs the bounds to size its range checks.
 */
import { type ElementAlgebra, evaluateZkGraph, floorShift, type Tensor, type ZkGraph, type ZkNode } from './zkGraph.js'

/** A closed integer interval. */
export interface Interval {
  lo: bigint
  hi: bigint
}

// BigInt has no Math.min/max: these compare.
/** The smallest of some integers. */
// biome-ignore lint/complexity/useMathMinMax: bigints
export const minOf = (...v: bigint[]): bigint => v.reduce((a, b) => (b < a ? b : a))
/** The largest of some integers. */
// biome-ignore lint/complexity/useMathMinMax: bigints
export const maxOf = (...v: bigint[]): bigint => v.reduce((a, b) => (b > a ? b : a))
/** The largest absolute value in an interval. */
export const magnitude = (x: Interval): bigint => maxOf(-x.lo, x.hi)
/** The smallest interval holding them all. */
export const hullOf = (intervals: Interval[]): Interval => ({
  lo: minOf(...intervals.map((x) => x.lo)),
  hi: maxOf(...intervals.map((x) => x.hi)),
})

/**
 * The range of a product; `square` when both factors are the same value (then never negative).
 * @example
 * productRange({ lo: -3n, hi: 2n }, { lo: -3n, hi: 2n }, true) // { lo: 0n, hi: 9n }
 */
export function productRange(a: Interval, b: Interval, square: boolean): Interval {
  if (square) {
    const low = a.lo > 0n ? a.lo : a.hi < 0n ? -a.hi : 0n
    const m = magnitude(a)
    return { lo: low * low, hi: m * m }
  }
  const corners = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
  return { lo: minOf(...corners), hi: maxOf(...corners) }
}

/** Interval arithmetic; `dot` also reports the largest magnitude any partial sum can reach. */
export function intervalAlgebra(onPartialSum?: (bound: bigint) => void): ElementAlgebra<Interval> {
  // The same element on both sides is a square (Mul(w, w)): never negative.
  const mul = (a: Interval, b: Interval): Interval => productRange(a, b, a === b)
  return {
    constant: (v) => ({ lo: v, hi: v }),
    add: (a, b) => ({ lo: a.lo + b.lo, hi: a.hi + b.hi }),
    sub: (a, b) => ({ lo: a.lo - b.hi, hi: a.hi - b.lo }),
    neg: (a) => ({ lo: -a.hi, hi: -a.lo }),
    mul,
    relu: (a) => ({ lo: a.lo > 0n ? a.lo : 0n, hi: a.hi > 0n ? a.hi : 0n }),
    floorDiv: (a, shift) => ({ lo: floorShift(a.lo, shift), hi: floorShift(a.hi, shift) }),
    mod: (a, shift) => {
      // Within one period the remainders keep their order; otherwise any remainder may occur.
      const period = 1n << BigInt(shift)
      if (floorShift(a.lo, shift) === floorShift(a.hi, shift))
        return { lo: a.lo - floorShift(a.lo, shift) * period, hi: a.hi - floorShift(a.hi, shift) * period }
      return { lo: 0n, hi: period - 1n }
    },
    dot: (row, column) => {
      let lo = 0n
      let hi = 0n
      let partial = 0n
      for (let i = 0; i < row.length; i++) {
        const p = mul(row[i]!, column[i]!)
        lo += p.lo
        hi += p.hi
        partial += magnitude(p)
      }
      onPartialSum?.(partial)
      return { lo, hi }
    },
  }
}

/** What {@link graphRanges} found: every tensor's intervals, and the largest magnitude anywhere. */
export interface GraphRanges {
  tensors: Map<string, Tensor<Interval>>
  /** The node and bound where the largest magnitude (a value or a MatMul partial sum) occurs. */
  largest: { node: string; op: string; bound: bigint }
}

/**
 * Bounds every value of a zk graph over its input range.
 * @param graph - the graph (its `input.min`/`max` bound every input element).
 * @param limit - optional: stop at the first node whose values (or MatMul partial sums) may reach `limit`
 *   in magnitude, and call `onExceed` with it.
 * @example
 * const { tensors, largest } = graphRanges(graph)
 * tensors.get('image')!.data[0] // { lo: 0n, hi: 255n }
 * largest.bound < 2n ** 53n // true for a model whose double evaluation is exact
 */
export function graphRanges(
  graph: ZkGraph,
  limit?: { bound: bigint; onExceed: (node: ZkNode, bound: bigint) => void },
): GraphRanges {
  const input: Tensor<Interval> = {
    dims: graph.input.dims,
    data: Array.from({ length: graph.input.dims.reduce((a, b) => a * b, 1) }, () => ({
      lo: graph.input.min,
      hi: graph.input.max,
    })),
  }
  const largest = { node: graph.input.name, op: 'input', bound: maxOf(-graph.input.min, graph.input.max) }
  let partial = 0n
  const tensors = evaluateZkGraph(
    graph,
    input,
    intervalAlgebra((bound) => {
      if (bound > partial) partial = bound
    }),
    (node, result) => {
      let bound = partial
      partial = 0n
      for (const x of result.data) {
        const m = magnitude(x)
        if (m > bound) bound = m
      }
      if (bound > largest.bound) Object.assign(largest, { node: node.name, op: node.op, bound })
      if (limit && bound >= limit.bound) limit.onExceed(node, bound)
    },
  )
  return { tensors, largest }
}
