/**
 * Reads a zk model folder (`model.onnx` in the imo-zk-v1 format and `imo.pipeline.json` of kind
 * `zk-image`): hashes it (imo-model-v1, the hash the collection binds), then reads each file once and
 * checks its bytes against the manifest, so what is compiled is exactly what was hashed.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { UsageError } from '../errors.js'
import { hashModel } from '../model/hashModel.js'
import { sha256Hex } from '../tensor/encodeTensors.js'
import { parseJson } from '../util/parseJson.js'
import { readRegularFile } from '../util/readRegularFile.js'
import { MAX_ZK_ONNX_BYTES } from './readOnnxGraph.js'
import type { ZkGraph } from './zkGraph.js'
import {
  bmpPrefix,
  imageLayout,
  payloadOrder,
  validateZkPipelineConfig,
  type ZkImageLayout,
  type ZkPipelineConfig,
} from './zkImage.js'
import { decodeZkModel } from './zkModelFile.js'

/** The files of a zk model folder. */
export const ZK_MODEL_FILE = 'model.onnx'
export const ZK_PIPELINE_FILE = 'imo.pipeline.json'

/** A zk model, read and checked. */
export interface ZkModel {
  /** Absolute folder. */
  folder: string
  modelHash: `0x${string}`
  graph: ZkGraph
  config: ZkPipelineConfig
  layout: ZkImageLayout
  /** The fixed bytes of every aigcData before the pixels (BMP headers and palette). */
  prefix: Uint8Array
  /** Output element index of each payload byte. */
  payloadOrder: number[]
}

/**
 * Whether a folder is a zk model (holds imo.pipeline.json of kind zk-image).
 * @example
 * isZkModelFolder('models/zkcppn') // true
 */
export function isZkModelFolder(folder: string): boolean {
  const path = join(folder, ZK_PIPELINE_FILE)
  if (!existsSync(path)) return false
  try {
    return (
      (JSON.parse(readRegularFile(path, ZK_PIPELINE_FILE, { maxBytes: 1 << 20 }).toString('utf8')) as { kind?: unknown }).kind ===
      'zk-image'
    )
  } catch {
    return false
  }
}

/**
 * Reads and checks a zk model folder.
 * @param folder - the model folder.
 * @returns its hash, integer graph, pipeline settings and image layout.
 * @throws UsageError (exit 2) when a file is missing, changed since it was hashed, or breaks the format.
 * @example
 * import { readZkModel } from './zk/readZkModel.js'
 * const model = await readZkModel('models/zkcppn')
 * model.modelHash // '0x…'
 */
export async function readZkModel(folder: string): Promise<ZkModel> {
  const hashed = await hashModel(folder)
  const read = (name: string, maxBytes: number) => {
    const entry = hashed.files.find((f) => f.path === name)
    if (!entry) throw new UsageError(`${folder} is not a zk model folder: it has no ${name}`)
    const bytes = readRegularFile(join(hashed.root, name), name, { maxBytes })
    if (sha256Hex(bytes) !== `0x${entry.sha256}`)
      throw new UsageError(`${join(folder, name)} changed while it was read; run again`)
    return bytes
  }
  const config = validateZkPipelineConfig(
    parseJson(read(ZK_PIPELINE_FILE, 1 << 20).toString('utf8'), ZK_PIPELINE_FILE, { expected: 'a zk pipeline description' }),
    join(folder, ZK_PIPELINE_FILE),
  )
  const graph = decodeZkModel(read(ZK_MODEL_FILE, MAX_ZK_ONNX_BYTES), join(folder, ZK_MODEL_FILE))
  const layout = imageLayout(graph.output.dims)
  return {
    folder: hashed.root,
    modelHash: hashed.modelHash,
    graph,
    config,
    layout,
    prefix: bmpPrefix(layout, config.palette),
    payloadOrder: payloadOrder(layout),
  }
}
