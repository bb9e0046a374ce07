/**
 * `imo serve`'s cursor: `.imo/serve/<chainId>/<collection>.json`, the next block whose `Requested`
 * events still need a look. It only moves past a block once every request in it is settled (fulfilled
 * some blocks deep, or skipped for a stated reason), so a restart re-reads at least every request that
 * might still need work (re-reading a settled one costs a status read, never a second fulfilment: the
 * journal and the contract both refuse that). Written atomically.
 */
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { ImoError } from '../errors.js'
import { writeFileAtomic } from '../util/writeFileAtomic.js'

export interface ServeCursor {
  format: 'imo-serve-cursor-v1'
  chainId: number
  collection: string
  /** The next block to scan, decimal. */
  nextBlock: string
  updatedAt: string
}

/**
 * Path of the cursor file.
 * @example
 * cursorPath(31337, '0x5FbD…') // '/cwd/.imo/serve/31337/0x5fbd….json'
 */
export function cursorPath(chainId: number, collection: string, root = resolve(process.cwd(), '.imo')): string {
  return resolve(root, 'serve', String(chainId), `${collection.toLowerCase()}.json`)
}

/**
 * Reads the cursor (undefined when serve never ran here).
 * @throws ImoError when the file is not a cursor (move it aside to start over).
 * @example
 * readCursor(path)?.nextBlock // '1234'
 */
export function readCursor(path: string): ServeCursor | undefined {
  if (!existsSync(path)) return undefined
  try {
    const cursor = JSON.parse(readFileSync(path, 'utf8')) as ServeCursor
    if (cursor.format !== 'imo-serve-cursor-v1' || !/^\d+$/.test(cursor.nextBlock)) throw new Error('not a serve cursor')
    return cursor
  } catch (error) {
    throw new ImoError(`the serve cursor ${path} is unreadable; move it aside to rescan from the deployment's block`, {
      cause: error,
    })
  }
}

/**
 * Writes the cursor atomically.
 * @example
 * writeCursor(path, { chainId: 31337, collection, nextBlock: 1234n })
 */
export function writeCursor(path: string, value: { chainId: number; collection: string; nextBlock: bigint }): void {
  const cursor: ServeCursor = {
    format: 'imo-serve-cursor-v1',
    chainId: value.chainId,
    collection: value.collection,
    nextBlock: value.nextBlock.toString(),
    updatedAt: new Date().toISOString(),
  }
  writeFileAtomic(path, `${JSON.stringify(cursor, null, 2)}\n`)
}
