import { existsSync, readFileSync } from 'node:fs'
import { basename, dirname, extname, resolve } from 'node:path'
import { UsageError } from '../errors.js'
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
    const bytes = readInputFile(file)
    if (extension === '.npy') {
      add(name ?? basename(file, extname(file)), readNpy(bytes, file), file)
    } else if (extension === '.json' || extension === '.imt') {
      if (name !== undefined)
        throw new UsageError(`--input ${arg}: a name only goes with a .npy file; ${extension} files name their tensors`)
      const tensors =
        extension === '.imt'
          ? decodeTensors(bytes, file)
          : parseJsonTensors(Buffer.from(bytes).toString('utf8'), file, {
              loadNpy: (npyFile) => readNpy(readInputFile(resolve(dirname(file), npyFile)), npyFile),
            })
      for (const [tensorName, tensor] of Object.entries(tensors)) add(tensorName, tensor, file)
    } else throw new UsageError(`--input ${arg}: use a .json, .npy (NAME=FILE.npy) or .imt file`)
  }
  return set
}

function readInputFile(file: string): Uint8Array {
  try {
    return readFileSync(file)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new UsageError(
      `cannot read input file ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : String(code)}`,
    )
  }
}
