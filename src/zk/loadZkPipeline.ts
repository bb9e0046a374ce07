/**
 * The built-in `zk-image` pipeline (docs/formats.md section 11) in imo's shared inference path: a
 * loaded model whose folder holds `imo.pipeline.json` of kind `zk-image` gets a {@link Pipeline} like
 * any other (encode: the prompt's latent; decode: the BMP file that is also the aigcData), so
 * `runInference`, `reexecute` and the mint and verify paths treat it as one more pipeline. It is imo's
 * own code, read from the hashed folder (no code of the model's author runs).
 */
import { UsageError } from '../errors.js'
import type { LoadedModel } from '../inference/loadModel.js'
import type { Pipeline } from '../inference/loadPipeline.js'
import type { TensorSet } from '../tensor/dtypes.js'
import { promptLatent } from './publicSignals.js'
import { isZkModelFolder, readZkModel, ZK_PIPELINE_FILE, type ZkModel } from './readZkModel.js'
import { zkImageBytes } from './zkImage.js'

/** The zk pipeline of a model, with the zk model it was read from (the prover needs its graph). */
export interface ZkPipeline extends Pipeline {
  zkModel: ZkModel
}

const loaded = new WeakMap<LoadedModel, Promise<ZkPipeline | undefined>>()

/**
 * The `zk-image` pipeline of a loaded model, once per model.
 * @param model - from loadModel.
 * @returns the pipeline, or undefined when the model is not a zk model folder.
 * @throws UsageError when the folder breaks the imo-zk-v1 format or changed since it was loaded.
 * @example
 * import { loadModel } from '../inference/loadModel.js'
 * import { loadZkPipeline } from './zk/loadZkPipeline.js'
 * const zk = await loadZkPipeline(await loadModel('models/zkcppn'))
 * const { bytes, mime } = await zk!.decode(outputs) // a 16 x 16 BMP, 'image/bmp'
 */
export function loadZkPipeline(model: LoadedModel): Promise<ZkPipeline | undefined> {
  let loading = loaded.get(model)
  if (!loading) {
    loading = read(model)
    loaded.set(model, loading)
    loading.catch(() => loaded.delete(model))
  }
  return loading
}

async function read(model: LoadedModel): Promise<ZkPipeline | undefined> {
  if (model.onnxPath === model.absolutePath || !isZkModelFolder(model.absolutePath)) return undefined
  const zkModel = await readZkModel(model.absolutePath)
  if (zkModel.modelHash !== model.modelHash)
    throw new UsageError(`model ${model.path} changed while it was loaded (its hash moved); try again`)
  const { input, output } = zkModel.graph
  const latentLength = input.dims[1]!
  return {
    path: `${model.absolutePath}/${ZK_PIPELINE_FILE}`,
    zkModel,
    async encode(prompt) {
      const latent = promptLatent(new TextEncoder().encode(prompt), latentLength)
      return { [input.name]: { type: 'float64', dims: [...input.dims], data: Float64Array.from(latent) } } as TensorSet
    },
    async decode(outputs) {
      const tensor = outputs[output.name]
      if (!tensor) throw new UsageError(`the zk model gave no output "${output.name}"`)
      return { bytes: zkImageBytes(zkModel.layout, zkModel.config.palette, tensor.data as ArrayLike<number>), mime: 'image/bmp' }
    },
  }
}
