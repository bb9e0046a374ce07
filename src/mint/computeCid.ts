/**
 * IPFS content identifiers computed locally, without an IPFS node.
 *
 * What is implemented, exactly: CIDv1, multicodec `raw` (0x55), multihash sha2-256 (0x12) of the
 * file's bytes, base32 (`bafkrei…`). This is the CID that kubo's `ipfs add --cid-version=1` (which
 * implies `--raw-leaves`) prints for a file that fits in ONE block of its default chunker
 * (`size-262144`): such a file is stored as a single raw leaf, and the leaf's CID is the file's CID
 * (golden vector: "hello\n" -> bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am, the
 * value kubo's own gateway tests use). Larger files become UnixFS dag-pb trees whose CID this module
 * does NOT compute: computeCid returns undefined for them, and callers fall back (no ipfs:// link,
 * a note). Note: js-ipfs/helia wrap even single-block files in a dag-pb node by default, so their
 * CIDs differ; pin with kubo (`ipfs add --cid-version=1`) or any service that keeps raw leaves.
 */
import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'

/** kubo's default chunk size (`--chunker=size-262144`): files up to this many bytes are one raw block. */
export const IPFS_MAX_RAW_BLOCK = 262_144

/** Multicodec code of `raw`. */
const RAW_CODEC = 0x55
/** Multihash code of sha2-256. */
const SHA2_256 = 0x12

/**
 * The CIDv1 (raw, sha2-256, base32) of a file that fits in one IPFS block.
 * @param bytes - the file's content.
 * @returns the CID string, or undefined when the file is larger than IPFS_MAX_RAW_BLOCK bytes (its
 *   kubo CID would be a dag-pb tree, not computed here).
 * @example
 * import { computeCid } from './mint/computeCid.js'
 * computeCid(new TextEncoder().encode('hello\n'))
 * // 'bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am'
 */
export function computeCid(bytes: Uint8Array): string | undefined {
  if (bytes.byteLength > IPFS_MAX_RAW_BLOCK) return undefined
  const digest = new Uint8Array(createHash('sha256').update(bytes).digest())
  return CID.createV1(RAW_CODEC, createDigest(SHA2_256, digest)).toString()
}

/**
 * Parses `ipfs://CID[/path]` (or a bare CID) into the CID in canonical base32 form, or undefined
 * when the text is not one.
 * @example
 * parseIpfsUri('ipfs://bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am')
 * // 'bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am'
 */
export function parseIpfsUri(uri: string): string | undefined {
  const match = /^(?:ipfs:\/\/(?:ipfs\/)?)?([A-Za-z0-9]+)$/.exec(uri.trim())
  if (!match) return undefined
  try {
    return CID.parse(match[1]!).toV1().toString()
  } catch {
    return undefined
  }
}
