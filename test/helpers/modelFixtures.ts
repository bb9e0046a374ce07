/**
 * Small models built byte for byte by the tests themselves (no downloads): the golden vectors of
 * the `imo-model-v1` hash are computed over exactly these bytes.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { encodeModel, OnnxDataType } from '../../src/onnx/writeModel.js'

function write(root: string, path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(join(root, path)), { recursive: true })
  writeFileSync(join(root, path), data)
}

/** `hello.txt` = "hello\n". */
export function writeSingleFile(root: string): string {
  write(root, 'hello.txt', 'hello\n')
  return join(root, 'hello.txt')
}

/**
 * A folder whose byte order differs from a naive walk ('a-b.txt' < 'a.txt' < 'a/z.bin' < 'b.txt' <
 * 'é.txt'), with dot-files that must be skipped at every level.
 */
export function writeFolder(root: string): string {
  const folder = join(root, 'folder')
  write(folder, 'b.txt', 'b\n')
  write(folder, 'a.txt', 'a\n')
  write(folder, 'a-b.txt', '')
  write(
    folder,
    'a/z.bin',
    Uint8Array.from({ length: 256 }, (_, i) => i),
  )
  write(folder, 'é.txt', 'e\n')
  write(folder, '.hidden', 'skipped\n')
  write(folder, 'a/.cache/x', 'skipped\n')
  return folder
}

/**
 * model/model.onnx (Add of x and an initializer, plus a Constant whose tensor is external) with two
 * external-data files, weights/w.bin and const.bin, and an unrelated notes.txt that a .onnx input
 * leaves out but a folder input includes.
 */
export function writeOnnxModel(root: string): { folder: string; onnx: string } {
  const folder = join(root, 'model')
  const weights = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer)
  write(folder, 'weights/w.bin', weights)
  write(folder, 'const.bin', new Uint8Array(new Float32Array([0.5]).buffer))
  write(folder, 'notes.txt', 'not named by the model\n')
  const bytes = encodeModel({
    producerName: 'imo-test',
    graph: {
      name: 'add',
      nodes: [
        { opType: 'Add', inputs: ['x', 'w'], outputs: ['s'] },
        {
          opType: 'Constant',
          inputs: [],
          outputs: ['c'],
          attributes: [
            {
              name: 'value',
              type: 'tensor',
              value: { name: 'c0', dataType: OnnxDataType.FLOAT, dims: [1], externalData: { location: 'const.bin' } },
            },
          ],
        },
        { opType: 'Mul', inputs: ['s', 'c'], outputs: ['y'] },
      ],
      initializers: [
        {
          name: 'w',
          dataType: OnnxDataType.FLOAT,
          dims: [4],
          externalData: { location: 'weights/w.bin', offset: 0, length: 16 },
        },
      ],
      inputs: [{ name: 'x', elemType: OnnxDataType.FLOAT, shape: ['batch', 4] }],
      outputs: [{ name: 'y', elemType: OnnxDataType.FLOAT, shape: ['batch', 4] }],
    },
  })
  write(folder, 'model.onnx', bytes)
  return { folder, onnx: join(folder, 'model.onnx') }
}

/** A .onnx file whose only initializer names `location` as its external data. */
export function writeOnnxWithLocation(root: string, name: string, location: string): string {
  const bytes = encodeModel({
    graph: {
      name: 'ext',
      nodes: [{ opType: 'Identity', inputs: ['w'], outputs: ['y'] }],
      initializers: [{ name: 'w', dataType: OnnxDataType.FLOAT, dims: [1], externalData: { location } }],
      inputs: [],
      outputs: [{ name: 'y', elemType: OnnxDataType.FLOAT, shape: [1] }],
    },
  })
  write(root, name, bytes)
  return join(root, name)
}
