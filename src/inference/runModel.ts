import { UsageError } from '../errors.js'
import { describeTensor, isDType, type TensorSet, type TensorValue } from '../tensor/dtypes.js'
import type { LoadedModel, ModelValue } from './loadModel.js'

/**
 * Checks feeds against the inputs the model declares: every input given, no unknown name, the exact
 * element type, the rank and every fixed dimension (symbolic dimensions accept any size).
 * @param model - the loaded model.
 * @param feeds - the tensors by input name.
 * @throws UsageError (one line, listing the model's inputs as name type[shape]) on the first problem.
 * @example
 * import { checkFeeds } from './inference/runModel.js'
 * checkFeeds(model, { z: { type: 'float32', dims: [1, 16], data: new Float32Array(16) } })
 */
export function checkFeeds(model: LoadedModel, feeds: TensorSet): void {
  const expected = `the model expects ${describeValues(model.inputs)}`
  const declared = new Map(model.inputs.map((input) => [input.name, input]))
  for (const name of Object.keys(feeds))
    if (!declared.has(name)) throw new UsageError(`the model has no input "${name}"; ${expected}`)
  for (const input of model.inputs) {
    const feed = feeds[input.name]
    if (!feed) throw new UsageError(`missing input "${input.name}"; ${expected}`)
    if (!isDType(input.type)) throw new UsageError(`input "${input.name}" has type ${input.type}, which imo cannot feed`)
    if (feed.type !== input.type)
      throw new UsageError(
        `input "${input.name}" is ${describeTensor(feed)} but the model wants ${describeValue(input)}; ${expected}`,
      )
    const shapeKnown = input.shape.length > 0
    const mismatch =
      shapeKnown &&
      (feed.dims.length !== input.shape.length ||
        input.shape.some((dim, axis) => typeof dim === 'number' && dim >= 0 && dim !== feed.dims[axis]))
    if (mismatch)
      throw new UsageError(
        `input "${input.name}" has shape [${feed.dims.join(',')}] but the model wants ${describeValue(input)}; ${expected}`,
      )
  }
}

/**
 * Runs a loaded model once on checked feeds.
 * @param model - from loadModel (its session runs with the recorded deterministic settings).
 * @param feeds - the tensors by input name (checked with checkFeeds first).
 * @returns every output the model declares, as tensors in the runtime's representation.
 * @throws UsageError when the feeds do not fit the model or the runtime rejects them.
 * @example
 * import { loadModel } from './inference/loadModel.js'
 * import { runModel } from './inference/runModel.js'
 * const outputs = await runModel(await loadModel('test.onnx'), { x: { type: 'float32', dims: [1, 4], data: new Float32Array(4) } })
 * outputs.y.dims // [1, 4]
 */
export async function runModel(model: LoadedModel, feeds: TensorSet): Promise<TensorSet> {
  checkFeeds(model, feeds)
  const { Tensor } = await import('onnxruntime-node')
  const ortFeeds: Record<string, InstanceType<typeof Tensor>> = {}
  for (const [name, feed] of Object.entries(feeds))
    ortFeeds[name] = new Tensor(feed.type, feed.data as never, feed.dims as number[])
  let results: Awaited<ReturnType<typeof model.session.run>>
  try {
    results = await model.session.run(ortFeeds)
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]
    throw new UsageError(`the model failed on these inputs: ${reason}`, {
      cause: error,
      hint: `the model expects ${describeValues(model.inputs)}`,
    })
  }
  const outputs: TensorSet = {}
  for (const [name, value] of Object.entries(results)) {
    const tensor = value as { type?: string; dims?: readonly number[]; data?: unknown }
    if (!isDType(tensor.type)) throw new UsageError(`output "${name}" is of type ${String(tensor.type)}, which imo cannot record`)
    outputs[name] = { type: tensor.type, dims: [...(tensor.dims ?? [])], data: tensor.data as TensorValue['data'] }
  }
  return outputs
}

/**
 * Describes a model's declared values for messages: `x float32[N,4], ids int64[N]`.
 * @example
 * describeValues([{ name: 'z', type: 'float32', shape: [1, 16] }]) // 'z float32[1,16]'
 */
export function describeValues(values: readonly ModelValue[]): string {
  return values.map((value) => `${value.name} ${describeValue(value)}`).join(', ')
}

function describeValue(value: ModelValue): string {
  return describeTensor({ type: value.type, dims: value.shape.map((dim) => (typeof dim === 'number' && dim < 0 ? '?' : dim)) })
}
