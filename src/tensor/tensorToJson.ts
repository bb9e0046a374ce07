import type { TensorSet, TensorValue } from './dtypes.js'
import { compareUtf8 } from './encodeTensors.js'
import { float16Value } from './float16.js'

/**
 * The JSON form of a tensor, the same form `--input FILE.json` reads: `{ type, dims, data }` with a
 * flat `data` list. int64/uint64 are decimal strings (JSON numbers lose precision past 2^53); float
 * NaN and infinities are the strings "NaN", "Infinity", "-Infinity"; float16 as its numbers; bool as
 * true/false.
 * @param tensor - the tensor.
 * @example
 * import { tensorToJson } from './tensor/tensorToJson.js'
 * tensorToJson({ type: 'int64', dims: [1], data: new BigInt64Array([5n]) }) // { type: 'int64', dims: [1], data: ['5'] }
 */
export function tensorToJson(tensor: TensorValue): { type: string; dims: number[]; data: unknown[] } {
  const values: unknown[] = []
  const float = (value: number) => (Number.isFinite(value) ? value : String(value))
  for (const value of tensor.data as Iterable<number | bigint | string>) {
    if (tensor.type === 'bool') values.push(value === 1)
    else if (tensor.type === 'float16') values.push(float(float16Value(value as number)))
    else if (typeof value === 'bigint') values.push(value.toString())
    else if (typeof value === 'number') values.push(float(value))
    else values.push(value)
  }
  return { type: tensor.type, dims: [...tensor.dims], data: values }
}

/**
 * The `outputs.json` document: every tensor of the set by name, small ones with their data, large
 * ones (over `maxElements` values) pointing at a `.npy` file instead (`{ type, dims, npy: FILE }`).
 * @param set - the tensors.
 * @param npyFiles - file name by tensor name for the tensors written as .npy.
 * @example
 * tensorsToJsonDocument(outputs, { image: 'image.npy' })
 */
export function tensorsToJsonDocument(set: TensorSet, npyFiles: Record<string, string>): Record<string, unknown> {
  const document: Record<string, unknown> = {}
  for (const name of Object.keys(set).sort(compareUtf8)) {
    const tensor = set[name]!
    const file = npyFiles[name]
    document[name] = file === undefined ? tensorToJson(tensor) : { type: tensor.type, dims: [...tensor.dims], npy: file }
  }
  return document
}
