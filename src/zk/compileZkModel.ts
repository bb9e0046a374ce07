/**
 * `imo zk compile`: a float ONNX model becomes a quantized zk model folder (`<out>/model`: model.onnx
 * in the imo-zk-v1 format and imo.pipeline.json) and its circuit (`<out>/circuit`); a zk model folder
 * only gets its circuit. With a powers-of-tau file the PLONK setup and the Solidity verifier are made
 * too. The same input gives the same bytes.
 */
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { UsageError } from '../errors.js'
import { checkOutFolder } from '../util/checkOutFolder.js'
import { readRegularFile } from '../util/readRegularFile.js'
import { writeFileAtomic } from '../util/writeFileAtomic.js'
import { describePtau } from './checkPtau.js'
import { ZK_MODEL_FORMAT } from './fixedPoint.js'
import { quantizeModel } from './quantizeModel.js'
import { MAX_ZK_ONNX_BYTES, parseOnnxGraph } from './readOnnxGraph.js'
import { isZkModelFolder, readZkModel, ZK_MODEL_FILE, ZK_PIPELINE_FILE, type ZkModel } from './readZkModel.js'
import { ensureZkCircuit, ensureZkSetup, type ZkCircuitInfo, type ZkSetupInfo } from './zkArtifacts.js'
import { imageLayout, ZK_PIPELINE_KIND, type ZkPipelineConfig } from './zkImage.js'
import { encodeZkModel } from './zkModelFile.js'

export interface CompileZkOptions {
  /** A float .onnx file, or a zk model folder. */
  input: string
  outDir: string
  fracBits?: number
  /** Key colours of a one-channel image's palette ("#rrggbb"). */
  palette?: string[]
  ptau?: string
  allowInsecurePtau?: boolean
  /** false: write the quantized model only (no circuit, no setup). */
  circuit?: boolean
  onStep?: (step: string) => void
}

export interface CompileZkResult {
  model: ZkModel
  /** The quantized model folder written (undefined when the input was one already). */
  modelFolder: string | undefined
  circuitDir: string | undefined
  circuit: ZkCircuitInfo | undefined
  setup: ZkSetupInfo | undefined
  /** How the setup's ptau is named in output (INSECURE when not published). */
  ptau: string | undefined
  /** Largest magnitude a value reaches, and where (quantized input only). */
  largest: { node: string; bound: bigint } | undefined
}

/**
 * Compiles a model for zk proofs.
 * @throws UsageError (exit 2) for an unsupported operator, shape or range (naming the node and why), an
 *   input that is neither a .onnx file nor a zk model folder, or a bad ptau file.
 * @example
 * import { compileZkModel } from './zk/compileZkModel.js'
 * const result = await compileZkModel({ input: 'cppn.onnx', outDir: 'out/zk' })
 * result.model.modelHash // the hash a collection binds
 */
export async function compileZkModel(options: CompileZkOptions): Promise<CompileZkResult> {
  checkOutFolder(options.outDir)
  let isFolder: boolean
  try {
    isFolder = statSync(options.input).isDirectory()
  } catch {
    throw new UsageError(`${options.input}: no such file or folder`)
  }
  let modelFolder: string | undefined
  let largest: CompileZkResult['largest']
  if (isFolder) {
    if (!isZkModelFolder(options.input))
      throw new UsageError(
        `${options.input} is not a zk model folder (no ${ZK_PIPELINE_FILE} of kind ${ZK_PIPELINE_KIND}): give a float .onnx file to compile`,
      )
    if (options.fracBits !== undefined || options.palette)
      throw new UsageError('--frac-bits and --palette apply to a float .onnx model, not to a zk model folder')
  } else {
    options.onStep?.('quantizing')
    const bytes = readRegularFile(options.input, 'ONNX model', { maxBytes: MAX_ZK_ONNX_BYTES })
    const quantized = quantizeModel(parseOnnxGraph(bytes, options.input), {
      label: options.input,
      ...(options.fracBits !== undefined ? { fracBits: options.fracBits } : {}),
    })
    const layout = imageLayout(quantized.graph.output.dims)
    if (options.palette && layout.channels !== 1) throw new UsageError('--palette applies to one-channel images only')
    const config: ZkPipelineConfig = {
      kind: ZK_PIPELINE_KIND,
      format: ZK_MODEL_FORMAT,
      fracBits: quantized.fracBits,
      ...(options.palette ? { palette: options.palette } : {}),
    }
    modelFolder = join(options.outDir, 'model')
    writeFileAtomic(
      join(modelFolder, ZK_MODEL_FILE),
      encodeZkModel(quantized.graph, { 'imo.zk.fracBits': String(quantized.fracBits) }),
    )
    writeFileAtomic(join(modelFolder, ZK_PIPELINE_FILE), `${JSON.stringify(config, null, 2)}\n`)
    largest = quantized.largest
  }
  const model = await readZkModel(modelFolder ?? options.input)
  if (options.circuit === false)
    return { model, modelFolder, circuitDir: undefined, circuit: undefined, setup: undefined, ptau: undefined, largest }
  const circuitDir = join(options.outDir, 'circuit')
  const circuit = await ensureZkCircuit(model, circuitDir, options.onStep)
  let setup: ZkSetupInfo | undefined
  let ptau: string | undefined
  if (options.ptau) {
    const made = await ensureZkSetup(circuit, options.ptau, {
      allowInsecure: options.allowInsecurePtau ?? false,
      ...(options.onStep ? { onStep: options.onStep } : {}),
    })
    setup = made.info
    ptau = describePtau(made.ptau)
  }
  return { model, modelFolder, circuitDir, circuit: circuit.info, setup, ptau, largest }
}
