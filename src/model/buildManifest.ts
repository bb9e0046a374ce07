/**
 * The `imo-model-v1` manifest and model hash (docs/formats.md section 1): the line `imo-model-v1`, then per
 * file, sorted by the path's UTF-8 bytes, `<64 hex>  <path>\n` exactly as `sha256sum` prints it;
 * the model hash is `0x` + SHA-256 of the manifest's bytes.
 */
import { createHash } from 'node:crypto'
import { UsageError } from '../errors.js'
import { comparePathBytes } from './listModelFiles.js'

export const MANIFEST_HEADER = 'imo-model-v1'

/** What buildManifest returns. */
export interface Manifest {
  manifest: string
  modelHash: `0x${string}`
}

/**
 * Builds the manifest text and the model hash from each file's path and SHA-256.
 * @param entries - relative `/`-separated paths with their lowercase hex SHA-256, in any order.
 * @returns the manifest and `0x` + sha256(manifest).
 * @throws UsageError for a duplicate path, a path sha256sum would escape, or a malformed digest.
 * @example
 * import { buildManifest } from './model/buildManifest.js'
 * buildManifest([{ path: 'a.txt', sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' }])
 * // { manifest: 'imo-model-v1\ne3b0…b855  a.txt\n', modelHash: '0x…' }
 */
export function buildManifest(entries: readonly { path: string; sha256: string }[]): Manifest {
  const sorted = [...entries].sort((a, b) => comparePathBytes(a.path, b.path))
  let manifest = `${MANIFEST_HEADER}\n`
  let previous: string | undefined
  for (const { path, sha256 } of sorted) {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new UsageError(`not a lowercase hex SHA-256 for ${path}: ${sha256}`)
    if (path === '' || /[\n\r\\]/.test(path) || path.startsWith('/'))
      throw new UsageError(`invalid manifest path: ${JSON.stringify(path)}`)
    if (path === previous) throw new UsageError(`duplicate manifest path: ${path}`)
    previous = path
    manifest += `${sha256}  ${path}\n`
  }
  const modelHash = `0x${createHash('sha256').update(manifest, 'utf8').digest('hex')}` as const
  return { manifest, modelHash }
}
