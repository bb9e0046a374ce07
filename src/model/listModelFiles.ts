/**
 * Which files make up a model (DESIGN section 2): a .onnx file with every external-data file its
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
 * The ONNX file a model runs: the file itself, or a folder's only top-level ONNX file (see isOnnxName).
 * @param listing - what listModelFiles returned for `given`.
 * @param given - the path as the user gave it, for messages.
 * @returns the absolute path of the ONNX file.
 * @throws UsageError when the path is not an ONNX file, or the folder holds none or several at its top level.
 * @example
 * runnableOnnx(listModelFiles('models/cppn'), 'models/cppn') // '/…/models/cppn/model.onnx'
 */
export function runnableOnnx(listing: ModelFileList, given: string): string {
  if (listing.onnxPath) return listing.onnxPath
  const top = listing.files.filter((file) => !file.path.includes('/') && isOnnxName(file.path))
  if (top.length === 0 && listing.files.length === 1 && listing.files[0]!.absolute === resolve(given))
    throw new UsageError(`model ${given} is not a .onnx file or a folder holding one`)
  if (top.length === 0) throw new UsageError(`model folder ${given} holds no .onnx file at its top level`)
  throw new UsageError(
    `model folder ${given} holds several .onnx files (${top.map((file) => file.path).join(', ')}): give the .onnx file's path`,
  )
}
