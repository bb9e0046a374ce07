/**
 * Which files make up a model (docs/formats.md section 1): a .onnx file with every external-data file its
 * tensors name, or every regular file under a folder. Paths are relative to the model's root,
 * `/`-separated, valid UTF-8, and printable the way `sha256sum` prints them (no newline, carriage
 * return or backslash, which `sha256sum` would escape).
 */
import { type Dirent, lstatSync, readdirSync, realpathSync, statSync } from 'node:fs'
import { basename, dirname, join, posix, resolve, sep } from 'node:path'
import { UsageError } from '../errors.js'
import { type ModelInfo, readModelInfo } from '../onnx/readModelInfo.js'

/** One file of a model. */
export interface ModelFile {
  /** Relative to the root, `/`-separated: the path written in the manifest. */
  path: string
  /** Absolute path on this machine. */
  absolute: string
  size: number
}

/** What listModelFiles returns. */
export interface ModelFileList {
  /** The folder the manifest's paths are relative to (absolute). */
  root: string
  /** Sorted by the path's UTF-8 bytes. */
  files: ModelFile[]
  /** Facts of the .onnx file: the input itself, or a folder's only top-level .onnx file. */
  onnx?: ModelInfo
  /** Absolute path of that .onnx file. */
  onnxPath?: string
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** Compares two paths by their UTF-8 bytes (the manifest's order). */
export function comparePathBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

function checkName(path: string, where: string): void {
  if (path.includes('\n')) throw new UsageError(`path contains a newline: ${JSON.stringify(path)} in ${where}`)
  if (path.includes('\r')) throw new UsageError(`path contains a carriage return: ${JSON.stringify(path)} in ${where}`)
  if (path.includes('\\'))
    throw new UsageError(`path contains a backslash: ${JSON.stringify(path)} in ${where}`, {
      hint: 'sha256sum escapes such names, so the manifest could not be checked with it; rename the file',
    })
}

function walk(root: string, relative: string, files: ModelFile[]): void {
  const folder = relative === '' ? root : join(root, relative)
  let entries: Dirent<Buffer>[]
  try {
    entries = readdirSync(folder, { withFileTypes: true, encoding: 'buffer' })
  } catch (error) {
    throw new UsageError(`cannot read folder ${folder} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, {
      cause: error,
    })
  }
  for (const entry of entries) {
    let name: string
    try {
      name = strictUtf8.decode(entry.name)
    } catch {
      throw new UsageError(`file name is not valid UTF-8: ${JSON.stringify(entry.name.toString('latin1'))} in ${folder}`)
    }
    if (name.startsWith('.')) continue
    const path = relative === '' ? name : `${relative}/${name}`
    checkName(path, root)
    if (entry.isSymbolicLink()) throw new UsageError(`symlink in the model folder: ${path} (in ${root})`)
    if (entry.isDirectory()) walk(root, path, files)
    else if (entry.isFile()) files.push({ path, absolute: join(root, path), size: lstatSync(join(root, path)).size })
    else throw new UsageError(`not a regular file: ${path} (in ${root})`)
  }
}

function insideRoot(realRoot: string, target: string): boolean {
  return target.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep)
}

/** Normalises an ONNX external-data location, rejecting one that escapes the model's folder. */
function normaliseLocation(location: string, onnxPath: string): string {
  checkName(location, onnxPath)
  if (location.startsWith('/') || /^[A-Za-z]:/.test(location))
    throw new UsageError(`external data location is absolute: ${location} (in ${onnxPath})`)
  const normal = posix.normalize(location)
  if (normal === '..' || normal.startsWith('../'))
    throw new UsageError(`external data location escapes the model folder: ${location} (in ${onnxPath})`)
  if (normal === '.' || normal.endsWith('/'))
    throw new UsageError(`external data location is not a file: ${location} (in ${onnxPath})`)
  return normal.startsWith('./') ? normal.slice(2) : normal
}

function externalFile(root: string, realRoot: string, path: string, onnxPath: string): ModelFile {
  const absolute = join(root, path)
  let stat: ReturnType<typeof lstatSync>
  try {
    stat = lstatSync(absolute)
  } catch {
    throw new UsageError(`external data file not found: ${path} (named by ${onnxPath})`)
  }
  if (stat.isSymbolicLink()) throw new UsageError(`external data file is a symlink: ${path} (named by ${onnxPath})`)
  if (!stat.isFile()) throw new UsageError(`external data file is not a regular file: ${path} (named by ${onnxPath})`)
  if (!insideRoot(realRoot, realpathSync(absolute)))
    throw new UsageError(`external data location escapes the model folder: ${path} (in ${onnxPath})`)
  return { path, absolute, size: stat.size }
}

/**
 * Lists the files of a model, checked and sorted as the manifest needs them.
 * @param input - a .onnx file (with its external data), any other single file, or a model folder.
 * @returns the root folder, the files sorted by path bytes, and the ONNX facts when there is a .onnx file.
 * @throws UsageError (exit 2): missing path, empty folder, symlink or bad name inside a folder,
 *   external data that escapes the folder or is missing, a .onnx file that is not ONNX.
 * @example
 * import { listModelFiles } from './model/listModelFiles.js'
 * const { root, files } = listModelFiles('models/cppn')
 * // files: [{ path: 'model.onnx', absolute: '/…/models/cppn/model.onnx', size: 5120 }, …]
 */
export function listModelFiles(input: string): ModelFileList {
  let stat: ReturnType<typeof statSync>
  try {
    stat = statSync(input)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new UsageError(
      code === 'ENOENT' ? `no such file or folder: ${input}` : `cannot read ${input} (${code ?? String(error)})`,
      {
        cause: error,
      },
    )
  }
  const absolute = resolve(input)
  if (stat.isDirectory()) {
    const root = absolute
    const files: ModelFile[] = []
    walk(root, '', files)
    if (files.length === 0) throw new UsageError(`empty model folder: ${input} (no files, names starting with '.' are skipped)`)
    files.sort((a, b) => comparePathBytes(a.path, b.path))
    const listed = new Set(files.map((file) => file.path))
    const realRoot = realpathSync(root)
    // The escape check covers every ONNX file in the folder, whatever the case of its extension and
    // wherever it sits: whichever one a runtime or a pipeline later opens, its external data is inside.
    let onnx: ModelInfo | undefined
    const onnxFiles = files.filter((file) => isOnnxName(file.path))
    for (const file of onnxFiles) {
      const info = readModelInfo(file.absolute)
      const folder = posix.dirname(file.path)
      for (const location of info.externalDataLocations) {
        const normal = normaliseLocation(location, file.absolute)
        const path = folder === '.' ? normal : posix.normalize(`${folder}/${normal}`)
        if (path === '..' || path.startsWith('../'))
          throw new UsageError(`external data location escapes the model folder: ${location} (in ${file.absolute})`)
        externalFile(root, realRoot, path, file.absolute)
        if (!listed.has(path))
          throw new UsageError(`external data file is skipped by the folder walk: ${path} (names starting with '.' are skipped)`)
      }
      if (!file.path.includes('/')) onnx = onnx ? undefined : info
    }
    const top = onnxFiles.filter((file) => !file.path.includes('/'))
    if (top.length !== 1 || !onnx) return { root, files }
    return { root, files, onnx, onnxPath: top[0]!.absolute }
  }
  if (!stat.isFile()) throw new UsageError(`not a regular file or folder: ${input}`)
  const root = dirname(absolute)
  const name = basename(absolute)
  checkName(name, root)
  const own: ModelFile = { path: name, absolute, size: stat.size }
  if (!isOnnxName(name)) return { root, files: [own] }
  const onnx = readModelInfo(input)
  const realRoot = realpathSync(root)
  const byPath = new Map<string, ModelFile>([[name, own]])
  for (const location of onnx.externalDataLocations) {
    const path = normaliseLocation(location, input)
    if (!byPath.has(path)) byPath.set(path, externalFile(root, realRoot, path, input))
  }
  const files = [...byPath.values()].sort((a, b) => comparePathBytes(a.path, b.path))
  return { root, files, onnx, onnxPath: absolute }
}

/**
 * The one rule for what an ONNX file is, used everywhere imo looks for one: a name ending in `.onnx`
 * in any case (`model.ONNX` is as loadable as `model.onnx`).
 * @example
 * isOnnxName('model.ONNX') // true
 */
export function isOnnxName(name: string): boolean {
  return name.toLowerCase().endsWith('.onnx')
}

/**
 * The variants of an ONNX decoder as Hugging Face repositories name them (transformers.js's `dtype`):
 * `model.onnx` is fp32, `model_fp16.onnx` fp16, `model_quantized.onnx` q8, and so on; the same
 * suffixes follow `decoder_model_merged` in older exports.
 */
export const ONNX_VARIANTS = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
} as const

export type OnnxVariant = keyof typeof ONNX_VARIANTS

/** The base names a variant suffix follows, in the order they are preferred (Optimum's merged decoder after transformers.js's `model`). */
const VARIANT_BASES = ['model', 'decoder_model_merged']

/**
 * The ONNX files a folder offers to run: those at its top level, or, when there are none, those in
 * its `onnx/` folder (the Hugging Face Hub layout of transformers.js-ready repositories).
 * @example
 * onnxChoices(listModelFiles('models/tinylm')) // ['model.onnx']
 */
export function onnxChoices(listing: ModelFileList): string[] {
  const onnx = listing.files.filter((file) => isOnnxName(file.path)).map((file) => file.path)
  const top = onnx.filter((path) => !path.includes('/'))
  return top.length > 0 ? top : onnx.filter((path) => /^onnx\/[^/]+$/.test(path))
}

/**
 * The ONNX file a model runs: the file itself; else, in a folder, the one the variant names (a file's
 * path inside the folder, or fp32 / fp16 / q8 / int8 / uint8 / q4 / q4f16 / bnb4 for `model*.onnx` or
 * `decoder_model_merged*.onnx`, see ONNX_VARIANTS); without a variant, the folder's only ONNX file
 * (at its top level, else in `onnx/`), or its fp32 variant when it has several.
 * @param listing - what listModelFiles returned for `given`.
 * @param given - the path as the user gave it, for messages.
 * @param variant - the variant asked for (`--variant`, or the file a record committed).
 * @returns the absolute path of the ONNX file.
 * @throws UsageError when the path is not an ONNX file, the folder holds none, the variant is not
 *   there, or several files leave the choice open (the message lists them).
 * @example
 * runnableOnnx(listModelFiles('models/cppn'), 'models/cppn') // '/…/models/cppn/model.onnx'
 * runnableOnnx(listModelFiles('gpt2'), 'gpt2', 'q8') // '/…/gpt2/onnx/model_quantized.onnx'
 */
export function runnableOnnx(listing: ModelFileList, given: string, variant?: string): string {
  if (listing.root !== resolve(given)) {
    if (!listing.onnxPath) throw new UsageError(`model ${given} is not a .onnx file or a folder holding one`)
    if (variant !== undefined)
      throw new UsageError(`a variant (${variant}) chooses among the ONNX files of a model folder; ${given} is one file`)
    return listing.onnxPath
  }
  if (variant === undefined && listing.onnxPath) return listing.onnxPath
  const choices = onnxChoices(listing)
  const absolute = (path: string) => listing.files.find((file) => file.path === path)!.absolute
  const offered = () =>
    choices
      .map((path) => {
        const name = variantOf(path)
        return name ? `${name} (${path})` : path
      })
      .join(', ') || 'none'
  if (variant !== undefined && isOnnxName(variant)) {
    const path = posix.normalize(variant.split(sep).join('/')).replace(/^\.\//, '')
    if (listing.files.some((file) => file.path === path)) return absolute(path)
    throw new UsageError(`model ${given} has no ONNX file ${variant}; it offers: ${offered()}`)
  }
  if (variant !== undefined && !Object.hasOwn(ONNX_VARIANTS, variant))
    throw new UsageError(
      `unknown variant ${JSON.stringify(variant)}: give ${Object.keys(ONNX_VARIANTS).join(', ')}, or an ONNX file's path inside ${given}`,
    )
  if (choices.length === 0) throw new UsageError(`model folder ${given} holds no .onnx file at its top level or in onnx/`)
  if (choices.length === 1 && (variant === undefined || variant === variantOf(choices[0]!))) return absolute(choices[0]!)
  const suffix = ONNX_VARIANTS[(variant ?? 'fp32') as OnnxVariant]
  for (const base of VARIANT_BASES) {
    const match = choices.find((path) => posix.basename(path) === `${base}${suffix}.onnx`)
    if (match) return absolute(match)
  }
  if (variant !== undefined) throw new UsageError(`model ${given} has no ${variant} variant; it offers: ${offered()}`)
  throw new UsageError(
    `model folder ${given} holds several .onnx files (${choices.join(', ')}): choose one with --variant (${Object.keys(ONNX_VARIANTS).join(', ')}, or a file's path)`,
  )
}

/**
 * The variant name of an ONNX file's path (`onnx/model_quantized.onnx` -> q8), or undefined.
 * @example
 * variantOf('onnx/model_fp16.onnx') // 'fp16'
 */
export function variantOf(path: string): OnnxVariant | undefined {
  const name = posix.basename(path)
  for (const base of VARIANT_BASES)
    for (const [variant, suffix] of Object.entries(ONNX_VARIANTS))
      if (name === `${base}${suffix}.onnx`) return variant as OnnxVariant
  return undefined
}
