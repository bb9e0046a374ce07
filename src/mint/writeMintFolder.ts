/**
 * A token's folder before its mint is sent: metadata.json, the artifact (when not there already) and
 * mint.json with status `pending`, each written atomically. A re-run keeps a finished mint.json's
 * status and transaction.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileAtomic } from '../util/writeFileAtomic.js'
import { METADATA_FILE, MINT_FILE, type MintFile, readMintFile, writeMintFile } from './mintFile.js'
import type { MintItem } from './mintTypes.js'

/**
 * @param item - the item (its outDir must be set).
 * @param metadataBytes - metadata.json's bytes.
 * @param mintFile - mint.json as it stands before sending.
 * @example
 * writeMintFolder(item, metadataBytes, { ...mintFile, status: 'pending' })
 */
export function writeMintFolder(item: MintItem, metadataBytes: Uint8Array, mintFile: MintFile): void {
  const dir = item.outDir!
  const artifactPath = join(dir, item.record.artifact.file)
  const same = existsSync(artifactPath) && Buffer.from(readFileSync(artifactPath)).equals(Buffer.from(item.artifactBytes))
  if (!same) writeFileAtomic(artifactPath, item.artifactBytes)
  writeFileAtomic(join(dir, METADATA_FILE), metadataBytes)
  const previous = readMintFile(join(dir, MINT_FILE))
  // Keep a finished record's transaction details when re-run.
  if (
    previous &&
    previous.status !== 'pending' &&
    previous.tokenIdHex === mintFile.tokenIdHex &&
    previous.collection === mintFile.collection
  )
    writeMintFile(join(dir, MINT_FILE), {
      ...mintFile,
      status: previous.status,
      ...(previous.txHash ? { txHash: previous.txHash } : {}),
      ...(previous.blockNumber ? { blockNumber: previous.blockNumber } : {}),
    })
  else writeMintFile(join(dir, MINT_FILE), mintFile)
}
