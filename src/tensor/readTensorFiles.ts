import { existsSync } from 'node:fs'
import { basename, dirname, extname, resolve } from 'node:path'
import { UsageError } from '../errors.js'
import { readRegularFile } from '../util/readRegularFile.js'
import { decodeTensors } from './decodeTensors.js'
import type { TensorSet, TensorValue } from './dtypes.js'
import { readNpy } from './npy.js'
import { parseJsonTensors } from './parseJsonTensors.js'

/**
 * Reads tensors from the files given as `--input` arguments and merges them into one set:
 * - `FILE.json`: tensors by name (`{"x": {"type": "float32", "dims": [1, 4], "data": [...]}}`);
 * - `NAME=FILE.npy` (or `FILE.npy`, named after the file): one tensor;
 * - `FILE.imt`: an imo-tensor-v1 encoding, e.g. the `inputs.imt` of an earlier run.
 * @param args - the `--input` values, in order.
 * @returns the merged tensors.
 * @throws UsageError for missing or malformed files, unknown extensions or a name given twice.
 * @example
 * import { readTensorFiles } from './tensor/readTensorFiles.js'
 * readTensorFiles(['inputs.json', 'mask=mask.npy'])
 */
export function readTensorFiles(args: readonly string[]): TensorSet {
  const set: TensorSet = {}
  const add = (name: string, tensor: TensorValue, file: string) => {
    if (Object.hasOwn(set, name)) throw new UsageError(`input "${name}" is given twice (again in ${file})`)
    set[name] = tensor
  }
  for (const arg of args) {
    let name: string | undefined
    let file = arg
    const equals = arg.indexOf('=')
    if (equals > 0 && !existsSync(arg)) {
      name = arg.slice(0, equals)
      file = arg.slice(equals + 1)
    }
    const extension = extname(file).toLowerCase()
    const bytes = readInputFile(file, extension === '.json')
    if (extension === '.npy') {
      add(name ?? basename(file, extname(file)), readNpy(bytes, file), file)
    } else if (extension === '.json' || extension === '.imt') {
      if (name !== undefined)
        throw new UsageError(`--input ${arg}: a name only goes with a .npy file; ${extension} files name their tensors`)
      const tensors =
        extension === '.imt'
          ? decodeTensors(bytes, file)
          : parseJsonTensors(bytes, file, {
              loadNpy: (npyFile) => readNpy(readInputFile(resolve(dirname(file), npyFile)), npyFile),
            })
      for (const [tensorName, tensor] of Object.entries(tensors)) add(tensorName, tensor, file)
    } else throw new UsageError(`--input ${arg}: use a .json, .npy (NAME=FILE.npy) or .imt file`)
  }
  return set
}

/** JSON tensor files above this size are refused before parsing (JSON costs ~25x its size in memory). */
export const MAX_JSON_INPUT_BYTES = 16 * 1024 * 1024
/** Binary tensor files (.npy, .imt) above this size are refused before reading. */
const MAX_BINARY_INPUT_BYTES = 2 * 1024 * 1024 * 1024 - 1

function readInputFile(file: string, json = false): Uint8Array {
  try {
    return readRegularFile(file, 'input file', { maxBytes: json ? MAX_JSON_INPUT_BYTES : MAX_BINARY_INPUT_BYTES })
  } catch (error) {
    if (json && error instanceof UsageError && /too large/.test(error.shortMessage))
      throw new UsageError(error.shortMessage, { hint: 'give large tensors as .npy files (NAME=FILE.npy) instead of JSON' })
    throw error
  }
}
