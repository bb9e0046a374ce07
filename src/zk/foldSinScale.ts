/**
 * Rewrites Sin(x) and Cos(x) of a float model as functions of turns, x / (2 pi), pushing the factor
 * 1 / (2 pi) back into the constants of the linear nodes that compute x (MatMul and Gemm weights,
 * biases, constant factors, through Add, Sub, Neg and the shape operators) when x feeds nothing else.
 * In fixed point, the phase in turns is then read straight from the bits of x, instead of first
 * multiplying x by an integer approximation of 1 / (2 pi), which would widen every range check of a
 * Sin by about ten bits. Where the factor cannot be pushed (x has other consumers, or comes from a
 * non-linear node), a Mul by 1 / (2 pi) is inserted. The result is the same function up to rounding.
 */
import type { ConstTensor, GraphNode, OnnxGraph } from './readOnnxGraph.js'

/** Internal operators (domain 'imo') for Sin and Cos of an input measured in turns. */
export const SIN_TURNS = 'SinTurns'
export const COS_TURNS = 'CosTurns'

const SHAPE_OPS = new Set(['Reshape', 'Transpose', 'Identity', 'Flatten', 'Unsqueeze', 'Squeeze'])

/**
 * The graph with every Sin/Cos measured in turns (opType SinTurns/CosTurns, domain 'imo').
 * @example
 * foldSinScale(graph).nodes.find((n) => n.opType === 'SinTurns')
 */
export function foldSinScale(graph: OnnxGraph): OnnxGraph {
  const nodes = [...graph.nodes]
  const initializers = new Map(graph.initializers)
  const producer = new Map<string, number>()
  nodes.forEach((node, i) => {
    for (const out of node.outputs) producer.set(out, i)
  })
  const consumers = new Map<string, number>()
  for (const node of nodes) for (const input of node.inputs) consumers.set(input, (consumers.get(input) ?? 0) + 1)
  for (const output of graph.outputs) consumers.set(output.name, (consumers.get(output.name) ?? 0) + 1)
  let counter = 0
  const fresh = (base: string) => {
    let name: string
    do name = `${base}/turns${counter++}`
    while (producer.has(name) || initializers.has(name))
    return name
  }
  const scaledConstant = (tensor: ConstTensor, factor: number, base: string): string => {
    const name = fresh(base)
    initializers.set(name, { ...tensor, values: tensor.values.map((v) => v * factor) })
    return name
  }
  const isConstant = (name: string) => initializers.has(name) || nodes[producer.get(name) ?? -1]?.opType === 'Constant'
  const constantOf = (name: string): ConstTensor | undefined => {
    const init = initializers.get(name)
    if (init) return init
    const node = nodes[producer.get(name) ?? -1]
    const value = node?.opType === 'Constant' ? node.attributes.get('value') : undefined
    return value?.kind === 'tensor' ? value.value : undefined
  }
  /** A tensor equal to `name` * factor, computed before node index `before`; rewrites single-use linear producers. */
  const scaled = (name: string, factor: number, before: number): string => {
    const c = constantOf(name)
    if (c) return scaledConstant(c, factor, name)
    const index = producer.get(name)
    const node = index === undefined ? undefined : nodes[index]
    if (node && index !== undefined && consumers.get(name) === 1 && node.outputs.length === 1) {
      const inputs = [...node.inputs]
      const attributes = new Map(node.attributes)
      let ok = true
      const op = node.opType
      if (op === 'Add' || op === 'Sub' || op === 'Neg' || op === 'Concat' || SHAPE_OPS.has(op)) {
        const scalable = op === 'Add' || op === 'Sub' || op === 'Neg' || op === 'Concat' ? inputs.keys() : [0]
        for (const i of scalable) if (inputs[i]) inputs[i] = scaled(inputs[i]!, factor, index)
      } else if (op === 'MatMul' || op === 'Mul') {
        const k = isConstant(inputs[1]!) ? 1 : isConstant(inputs[0]!) ? 0 : -1
        if (k < 0) ok = false
        else inputs[k] = scaled(inputs[k]!, factor, index)
      } else if (op === 'Div' && isConstant(inputs[1]!)) {
        inputs[1] = scaledConstant(constantOf(inputs[1]!)!, 1 / factor, inputs[1]!)
      } else if (op === 'Gemm') {
        const alpha = attributes.get('alpha')
        const beta = attributes.get('beta')
        attributes.set('alpha', { kind: 'float', value: (alpha?.kind === 'float' ? alpha.value : 1) * factor })
        attributes.set('beta', { kind: 'float', value: (beta?.kind === 'float' ? beta.value : 1) * factor })
      } else ok = false
      if (ok) {
        // Recursion may have inserted nodes before this one: look its index up again.
        nodes[producer.get(name)!] = { ...node, inputs, attributes }
        return name
      }
    }
    // Not foldable: multiply explicitly, right before the consumer.
    const factorName = scaledConstant({ dims: [], values: Float64Array.of(1), dataType: 1 }, factor, `${name}.factor`)
    const out = fresh(name)
    const mul: GraphNode = {
      name: out,
      opType: 'Mul',
      domain: '',
      inputs: [name, factorName],
      outputs: [out],
      attributes: new Map(),
    }
    nodes.splice(before, 0, mul)
    // Indices at or after `before` moved by one.
    for (const [key, i] of producer) if (i >= before) producer.set(key, i + 1)
    producer.set(out, before)
    return out
  }
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!
    if ((node.opType !== 'Sin' && node.opType !== 'Cos') || (node.domain !== '' && node.domain !== 'ai.onnx')) continue
    const input = scaled(node.inputs[0]!, 1 / (2 * Math.PI), i)
    const at = nodes.indexOf(node)
    nodes[at] = { ...node, opType: node.opType === 'Sin' ? SIN_TURNS : COS_TURNS, domain: 'imo', inputs: [input] }
    i = at
  }
  return { ...graph, nodes, initializers }
}
