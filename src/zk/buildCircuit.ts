/**
 * Compiles a zk graph into a circom circuit by evaluating it symbolically: every element is a linear
 * combination of signals (free in R1CS), and constraints appear only where the integers need them:
 * a product of two computed values (one multiplication gate), and a range check (a bit decomposition)
 * where a FloorDiv, Mod or Relu needs one. Three rules keep those rare, all sound:
 * - identical computations are made once (keyed by their linear combination), so a CPPN's per-column
 *   units are computed once per column, not once per pixel;
 * - a decomposed value keeps its bits, so FloorDiv and Mod of it by 2^k read bits instead of making
 *   new ones, and Relu reads its sign bit;
 * - ranges come from constrained facts only (bits are 0/1, products of bounded values are bounded),
 *   so every decomposition is sized to its value and no equation can wrap around the field.
 *
 * Public signals (circom order: outputs, then inputs): out[0..K) the output bytes packed 31 per field
 * element (big-endian), then `model`, `prompt`, `recipient` (docs/formats.md section 11).
 */
import { ImoError } from '../errors.js'
import { productRange } from './graphRanges.js'
import { type ElementAlgebra, evaluateZkGraph, type Tensor, type ZkGraph } from './zkGraph.js'

/** Bits of the prompt field element: the first 31 bytes of keccak256(prompt). */
export const PROMPT_FIELD_BITS = 248
/** Bytes packed into one public field element. */
export const BYTES_PER_FIELD = 31
/** No value may come near the field's size (bn128's r is about 2^253.6). */
const FIELD_SAFE_BOUND = 2n ** 240n

type Signal = { ref: string; lo: bigint; hi: bigint; boolean: boolean }

/** c + sum(coefficient * signal). */
interface Lin {
  terms: Map<number, bigint>
  c: bigint
}

/** A symbolic element: its value as a combination, its range, and (once known) the same value over bits. */
export interface CircuitValue {
  lin: Lin
  lo: bigint
  hi: bigint
  bits?: Lin
}

export interface CircuitOptions {
  /** The model's field element (the first 31 bytes of its model hash), pinned by `model === …`. */
  modelField: bigint
  /** For each payload byte, the index of the output element it is (row-major); its length fixes K. */
  payloadOrder: number[]
}

export interface BuiltCircuit {
  /** The circom program. */
  source: string
  /** Number of packed output field elements (K). */
  outputFields: number
  stats: { multiplications: number; decompositions: number; bits: number }
}

const constLin = (c: bigint): Lin => ({ terms: new Map(), c })
const bitLength = (v: bigint) => (v <= 0n ? 0 : v.toString(2).length)

function addLin(a: Lin, b: Lin, factor = 1n): Lin {
  const terms = new Map(a.terms)
  for (const [id, k] of b.terms) {
    const sum = (terms.get(id) ?? 0n) + k * factor
    if (sum === 0n) terms.delete(id)
    else terms.set(id, sum)
  }
  return { terms, c: a.c + b.c * factor }
}

function scaleLin(a: Lin, k: bigint): Lin {
  if (k === 0n) return constLin(0n)
  const terms = new Map<number, bigint>()
  for (const [id, v] of a.terms) terms.set(id, v * k)
  return { terms, c: a.c * k }
}

function keyOf(a: Lin): string {
  return `${a.c}|${[...a.terms]
    .sort((x, y) => x[0] - y[0])
    .map(([id, k]) => `${id}:${k}`)
    .join(',')}`
}

/**
 * A bits form c + sum(2^e_j * b_j) with distinct exponents, as (exponent -> signal) with c; undefined
 * when the combination is not of that shape.
 */
function bitExponents(a: Lin, signals: Signal[]): Map<number, number> | undefined {
  const out = new Map<number, number>()
  for (const [id, k] of a.terms) {
    if (!signals[id]!.boolean || k <= 0n || (k & (k - 1n)) !== 0n) return undefined
    const e = bitLength(k) - 1
    if (out.has(e)) return undefined
    out.set(e, id)
  }
  return out
}

/**
 * Writes the circom program of a zk graph.
 * @param graph - the integer graph (input: the latent, int8 per element).
 * @param options - the model's field element and the output bytes' payload order.
 * @returns the source, the number of packed outputs, and counts of gates and range checks.
 * @throws ImoError when an output byte is not provably in 0..255 (the graph was not checked).
 * @example
 * import { buildCircuit } from './zk/buildCircuit.js'
 * const { source, outputFields } = buildCircuit(graph, { modelField, payloadOrder: [...Array(256).keys()] })
 */
export function buildCircuit(graph: ZkGraph, options: CircuitOptions): BuiltCircuit {
  const signals: Signal[] = []
  const body: string[] = []
  const stats = { multiplications: 0, decompositions: 0, bits: 0 }
  const addSignal = (ref: string, lo: bigint, hi: bigint, boolean = false) => {
    signals.push({ ref, lo, hi, boolean })
    return signals.length - 1
  }
  const rangeOf = (a: Lin): [bigint, bigint] => {
    let lo = a.c
    let hi = a.c
    for (const [id, k] of a.terms) {
      const s = signals[id]!
      if (k > 0n) {
        lo += k * s.lo
        hi += k * s.hi
      } else {
        lo += k * s.hi
        hi += k * s.lo
      }
    }
    if (lo <= -FIELD_SAFE_BOUND || hi >= FIELD_SAFE_BOUND)
      throw new ImoError('a circuit value comes near the field size (the graph was not range-checked)')
    return [lo, hi]
  }
  const value = (lin: Lin, bits?: Lin): CircuitValue => {
    const [lo, hi] = rangeOf(lin)
    return bits ? { lin, lo, hi, bits } : { lin, lo, hi }
  }
  const expr = (a: Lin): string => {
    const parts: string[] = []
    for (const [id, k] of [...a.terms].sort((x, y) => x[0] - y[0])) {
      const ref = signals[id]!.ref
      const text = k === 1n ? ref : k === -1n ? `-${ref}` : `${k}*${ref}`
      parts.push(parts.length === 0 ? text : text.startsWith('-') ? `- ${text.slice(1)}` : `+ ${text}`)
    }
    if (a.c !== 0n || parts.length === 0) parts.push(parts.length === 0 ? `${a.c}` : a.c < 0n ? `- ${-a.c}` : `+ ${a.c}`)
    return parts.join(' ')
  }
  // A signal already equal to a combination's terms (plus a constant): reused instead of repeating them,
  // so a shared part (a latent's contribution to one unit) costs its terms once, not once per pixel.
  const materialized = new Map<string, { id: number; c: bigint }>()
  const termsKey = (a: Lin) => keyOf({ terms: a.terms, c: 0n })
  const remember = (id: number, a: Lin) => {
    if (a.terms.size >= 2 && !materialized.has(termsKey(a))) materialized.set(termsKey(a), { id, c: a.c })
  }
  /** The cheaper of a value's two equal forms (PLONK pays per term), using a signal equal to its terms. */
  const form = (v: CircuitValue): Lin => {
    const shortest = (a: Lin): Lin => {
      const known = a.terms.size >= 2 ? materialized.get(termsKey(a)) : undefined
      return known ? { terms: new Map([[known.id, 1n]]), c: a.c - known.c } : a
    }
    const lin = shortest(v.lin)
    const bits = v.bits && shortest(v.bits)
    return bits && bits.terms.size < lin.terms.size ? bits : lin
  }

  const decompositions = new Map<string, Lin>()
  /** Range-checks v by decomposing it; returns v as bits: aligned for floor division by 2^shift, and for
   * a value that may be negative in offset form -2^E + sum_{i<=E} 2^i b_i, whose top bit is its sign. */
  const decompose = (v: CircuitValue, shift: number): Lin => {
    const key = keyOf(v.lin)
    const known = decompositions.get(key)
    if (known) {
      const exponents = bitExponents(known, signals)
      if (exponents && (known.c & ((1n << BigInt(shift)) - 1n)) === 0n) return known
    }
    let offset = 0n
    let width = Math.max(1, bitLength(v.hi))
    if (v.lo < 0n) {
      let e = Math.max(shift, bitLength(-v.lo - 1n), bitLength(v.hi))
      while (1n << BigInt(e) < -v.lo || 1n << BigInt(e) <= v.hi) e++
      offset = 1n << BigInt(e)
      width = e + 1
    }
    const name = `d${stats.decompositions++}`
    stats.bits += width
    const input = addLin(form(v), constLin(offset))
    body.push(`component ${name} = Bits(${width});`, `${name}.in <== ${expr(input)};`)
    remember(addSignal(`${name}.in`, v.lo + offset, v.hi + offset), addLin(v.lin, constLin(offset)))
    const terms = new Map<number, bigint>()
    for (let i = 0; i < width; i++) terms.set(addSignal(`${name}.out[${i}]`, 0n, 1n, true), 1n << BigInt(i))
    const bits: Lin = { terms, c: -offset }
    decompositions.set(key, bits)
    return bits
  }
  /** v's bits aligned for floor division by 2^shift (decomposing when none are known). */
  const alignedBits = (v: CircuitValue, shift: number): Lin => {
    if (v.bits && bitExponents(v.bits, signals) && (v.bits.c & ((1n << BigInt(shift)) - 1n)) === 0n) return v.bits
    v.bits = decompose(v, shift)
    return v.bits
  }
  const floorBits = (bits: Lin, shift: number): Lin => {
    const exponents = bitExponents(bits, signals)!
    const terms = new Map<number, bigint>()
    for (const [e, id] of exponents) if (e >= shift) terms.set(id, 1n << BigInt(e - shift))
    return { terms, c: bits.c >> BigInt(shift) }
  }

  let temporaries = 0
  /**
   * v as one signal when its cheapest form has at least `minTerms` terms: PLONK reduces every
   * combination to a single wire with one gate per extra term, so a combination used more than once
   * (a square's two sides, a latent's contribution broadcast to every pixel) is paid for once.
   */
  const materialize = (v: CircuitValue, minTerms: number): CircuitValue => {
    const f = form(v)
    if (f.terms.size < minTerms) return v
    const name = `t${temporaries++}`
    body.push(`signal ${name} <== ${expr(f)};`)
    const id = addSignal(name, v.lo, v.hi)
    materialized.set(termsKey(v.lin), { id, c: v.lin.c })
    return v
  }

  const products = new Map<string, CircuitValue>()
  const multiply = (a: CircuitValue, b: CircuitValue): CircuitValue => {
    const [ka, kb] = [keyOf(a.lin), keyOf(b.lin)].sort()
    const key = `${ka}*${kb}`
    const known = products.get(key)
    if (known) return known
    const { lo, hi } = productRange(a, b, a === b || ka === kb)
    materialize(a, 2)
    if (ka !== kb) materialize(b, 2)
    const name = `m${stats.multiplications++}`
    body.push(`signal ${name} <== (${expr(form(a))}) * (${expr(form(b))});`)
    const result = value({ terms: new Map([[addSignal(name, lo, hi), 1n]]), c: 0n })
    products.set(key, result)
    return result
  }
  const isConst = (v: CircuitValue) => v.lin.terms.size === 0
  const constant = (c: bigint): CircuitValue => value(constLin(c), constLin(c))
  const combine = (a: CircuitValue, b: CircuitValue, factor: bigint): CircuitValue => {
    // Operands of three terms or more are often shared (broadcast): give each one signal first.
    if (isConst(a) || isConst(b))
      return value(addLin(a.lin, b.lin, factor), a.bits && b.bits ? addLin(a.bits, b.bits, factor) : undefined)
    materialize(a, 3)
    materialize(b, 3)
    return value(addLin(form(a), form(b), factor), a.bits && b.bits ? addLin(a.bits, b.bits, factor) : undefined)
  }
  const scale = (a: CircuitValue, k: bigint): CircuitValue => value(scaleLin(a.lin, k), a.bits ? scaleLin(a.bits, k) : undefined)

  const algebra: ElementAlgebra<CircuitValue> = {
    constant,
    add: (a, b) => combine(a, b, 1n),
    sub: (a, b) => combine(a, b, -1n),
    neg: (a) => scale(a, -1n),
    mul: (a, b) => (isConst(a) ? scale(b, a.lin.c) : isConst(b) ? scale(a, b.lin.c) : multiply(a, b)),
    relu: (a) => {
      if (a.lo >= 0n) return a
      if (a.hi <= 0n) return constant(0n)
      let bits = a.bits
      const exponents = bits && bitExponents(bits, signals)
      const top = exponents ? exponents.size - 1 : -1
      const offsetForm = exponents && bits!.c === -(1n << BigInt(top)) && [...exponents.keys()].every((e) => e <= top)
      if (!offsetForm) {
        bits = decompose(a, 0)
        a.bits = bits
      }
      const sign = bitExponents(bits!, signals)!
      const nonNegative = sign.get(sign.size - 1)!
      return multiply(a, value({ terms: new Map([[nonNegative, 1n]]), c: 0n }))
    },
    floorDiv: (a, shift) => {
      if (shift === 0) return a
      if (isConst(a)) return constant(a.lin.c >> BigInt(shift))
      const bits = floorBits(alignedBits(a, shift), shift)
      return value(bits, bits)
    },
    mod: (a, shift) => {
      if (isConst(a)) return constant(a.lin.c - ((a.lin.c >> BigInt(shift)) << BigInt(shift)))
      const bits = alignedBits(a, shift)
      const low = addLin(bits, floorBits(bits, shift), -(1n << BigInt(shift)))
      return value(low, low)
    },
    dot: (row, column) => {
      let acc: CircuitValue = constant(0n)
      let lin = constLin(0n)
      for (let i = 0; i < row.length; i++) {
        const a = row[i]!
        const b = column[i]!
        if (isConst(a)) lin = addLin(lin, b.lin, a.lin.c)
        else if (isConst(b)) lin = addLin(lin, a.lin, b.lin.c)
        else acc = combine(acc, multiply(a, b), 1n)
      }
      return value(addLin(lin, acc.lin))
    },
  }

  // The latent from the prompt: byte j of keccak256(prompt) is bits 8(30-j) .. 8(30-j)+7 of `prompt`.
  const promptBits = Array.from({ length: PROMPT_FIELD_BITS }, (_, i) => addSignal(`promptBits.out[${i}]`, 0n, 1n, true))
  const latent = graph.input.dims.reduce((a, b) => a * b, 1)
  if (latent > BYTES_PER_FIELD)
    throw new ImoError(`the input has ${latent} elements, at most ${BYTES_PER_FIELD} come from the prompt`)
  const input: Tensor<CircuitValue> = {
    dims: graph.input.dims,
    data: Array.from({ length: latent }, (_, j) => {
      const base = 8 * (BYTES_PER_FIELD - 1 - j)
      const terms = new Map<number, bigint>()
      for (let k = 0; k < 8; k++) terms.set(promptBits[base + k]!, k === 7 ? -128n : 1n << BigInt(k))
      return value({ terms, c: 0n })
    }),
  }
  const output = evaluateZkGraph(graph, input, algebra).get(graph.output.name)
  if (!output) throw new ImoError(`the graph does not compute its output '${graph.output.name}'`)

  const bytes = options.payloadOrder.map((index) => {
    const v = output.data[index]
    if (!v) throw new ImoError(`payload byte refers to output element ${index}, which does not exist`)
    if (v.lo < 0n || v.hi > 255n) throw new ImoError(`output element ${index} may reach [${v.lo}, ${v.hi}], not a byte`)
    return v
  })
  const outputFields = Math.ceil(bytes.length / BYTES_PER_FIELD)
  const packing: string[] = []
  for (let f = 0; f < outputFields; f++) {
    const chunk = bytes.slice(f * BYTES_PER_FIELD, (f + 1) * BYTES_PER_FIELD)
    let lin = constLin(0n)
    chunk.forEach((v, i) => {
      lin = addLin(lin, form(v), 256n ** BigInt(chunk.length - 1 - i))
    })
    packing.push(`out[${f}] <== ${expr(lin)};`)
  }

  const source = [
    'pragma circom 2.1.0;',
    '// Generated by imo zk compile from a zk model (imo-zk-v1). Do not edit: rebuild it from the model.',
    '',
    '// n-bit decomposition: in = sum(out[i] * 2^i), every out[i] in {0, 1}.',
    'template Bits(n) {',
    '  signal input in;',
    '  signal output out[n];',
    '  var acc = 0;',
    '  for (var i = 0; i < n; i++) {',
    '    out[i] <-- (in >> i) & 1;',
    '    out[i] * (out[i] - 1) === 0;',
    '    acc += out[i] * (1 << i);',
    '  }',
    '  acc === in;',
    '}',
    '',
    'template ImoZkModel() {',
    '  signal input model;',
    '  signal input prompt;',
    '  signal input recipient;',
    `  signal output out[${outputFields}];`,
    `  model === ${options.modelField};`,
    '  // The recipient is bound by being public; the square keeps it in a constraint as well.',
    '  signal recipientSquare <== recipient * recipient;',
    `  component promptBits = Bits(${PROMPT_FIELD_BITS});`,
    '  promptBits.in <== prompt;',
    ...body.map((line) => `  ${line}`),
    ...packing.map((line) => `  ${line}`),
    '}',
    '',
    'component main {public [model, prompt, recipient]} = ImoZkModel();',
    '',
  ].join('\n')
  return { source, outputFields, stats }
}
