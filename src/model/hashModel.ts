/**
 * The model hash `imo-model-v1` of a .onnx file or a model folder (docs/formats.md section 1): lists the
 * model's files, hashes them in parallel, and builds the manifest. Deploy, infer and verify call it.
 */
import { createHash } from 'node:crypto'
import type { ModelInfo } from '../onnx/readModelInfo.js'
import { readRegularFile } from '../util/readRegularFile.js'
import { buildManifest } from './buildManifest.js'
import { type FileDigest, type HashFilesOptions, hashFiles } from './hashFiles.js'
import { listModelFiles, type ModelFile, type ModelFileList } from './listModelFiles.js'

/** Progress callback (about ten times a second and at the end) and parallelism, see {@link HashFilesOptions}. */
export type HashModelOptions = Pick<HashFilesOptions, 'onProgress' | 'concurrency' | 'inlineBelow'> & {
  /**
   * Absolute path of one listed file to read whole and hand back (`keptBytes`), its digest computed
   * from those very bytes: the file is read once, and the caller uses exactly the bytes the model hash
   * covers (loadModel opens its onnxruntime session from them).
   */
  keep?: string
}

/** What hashModel returns. */
export interface HashModelResult {
  modelHash: `0x${string}`
  manifest: string
  /** Absolute folder the manifest's paths are relative to. */
  root: string
  /** Sorted by path bytes, as in the manifest. */
  files: { path: string; size: number; sha256: string }[]
  /** Facts of the .onnx file: the input itself, or a folder's only top-level .onnx file. */
  onnx?: ModelInfo
  /** The bytes of the file named by `options.keep`, whose SHA-256 is the manifest's. */
  keptBytes?: Buffer
}

/**
 * Computes a model's manifest and model hash.
 * @param path - a .onnx file (with the external-data files it names), another single file, or a model folder;
 *   or what listModelFiles returned for one (so a caller that checked the listing hashes exactly it).
 * @param options - progress callback and parallelism.
 * @returns the model hash (`0x` + 64 hex), the manifest text, the root folder, each file's path, size and SHA-256, and the ONNX facts.
 * @throws UsageError (exit 2) for a missing path, an empty folder, a symlink or a newline in a path,
 *   external data that escapes the folder or is missing, a .onnx file that is not ONNX, an unreadable file.
 * @example
 * import { hashModel } from './model/hashModel.js'
 * const { modelHash, manifest } = await hashModel('models/cppn')
 * // modelHash: '0x5f…', manifest: 'imo-model-v1\n<sha256>  model.onnx\n…'
 */
export async function hashModel(path: string | ModelFileList, options: HashModelOptions = {}): Promise<HashModelResult> {
  const listing = typeof path === 'string' ? listModelFiles(path) : path
  const { keep, ...hashOptions } = options
  const kept = keep === undefined ? -1 : listing.files.findIndex((file) => file.absolute === keep)
  if (keep !== undefined && kept < 0) throw new Error(`hashModel: ${keep} is not one of the model's files`)
  const others = kept < 0 ? listing.files : listing.files.filter((_, index) => index !== kept)
  const [otherDigests, keptFile] = await Promise.all([
    hashFiles(others, hashOptions),
    kept < 0 ? undefined : readAndHash(listing.files[kept]!),
  ])
  const digests: FileDigest[] = [...otherDigests]
  if (keptFile) digests.splice(kept, 0, keptFile.digest)
  const files = listing.files.map((file, index) => ({
    path: file.path,
    size: digests[index]!.size,
    sha256: digests[index]!.sha256,
  }))
  const { manifest, modelHash } = buildManifest(files)
  return {
    modelHash,
    manifest,
    root: listing.root,
    files,
    ...(listing.onnx ? { onnx: listing.onnx } : {}),
    ...(keptFile ? { keptBytes: keptFile.bytes } : {}),
  }
}

/** Slices hashed between two turns of the event loop, so Ctrl-C stays live while a large file is hashed. */
const SLICE = 16 * 1024 * 1024

/** Reads a whole regular file once and hashes those bytes. */
async function readAndHash(file: ModelFile): Promise<{ bytes: Buffer; digest: FileDigest }> {
  const bytes = readRegularFile(file.absolute, 'model file')
  const hash = createHash('sha256')
  for (let offset = 0; offset < bytes.length; offset += SLICE) {
    hash.update(bytes.subarray(offset, offset + SLICE))
    if (offset + SLICE < bytes.length) await new Promise<void>((resolve) => setImmediate(resolve))
  }
  return { bytes, digest: { sha256: hash.digest('hex'), size: bytes.length } }
}
