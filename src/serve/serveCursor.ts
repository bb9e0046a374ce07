/**
 * `imo serve`'s cursor: `.imo/serve/<chainId>/<collection>.json`, the next block whose `Requested`
 * events still need a look. It only moves past a block once every request in it is settled (fulfilled
 * some blocks deep, or skipped for a stated reason), so a restart re-reads at least every request that
 * might still need work (re-reading a settled one costs a status read, never a second fulfilment: the
 * journal and the contract both refuse that). Written atomically.
 *
 * Version 2 ties the cursor to its chain (chainKey.ts: the hash of the collection's deployment block)
 * and lists the requests of the watch window whose outcome was logged already, so a restart re-checks
 * them without logging or counting them again. A version 1 cursor (no chain, no list) is still read.
 */
import { existsSync, renameSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Hex } from 'viem'
import { UsageError } from '../errors.js'
import { readRegularFile } from '../util/readRegularFile.js'
import { writeFileAtomic } from '../util/writeFileAtomic.js'
import type { ChainKey } from './chainKey.js'

export interface ServeCursor {
  format: 'imo-serve-cursor-v2' | 'imo-serve-cursor-v1'
  chainId: number
  collection: string
  /** The chain it was written on (absent in version 1). */
  chain?: { block: string; hash: Hex }
  /** The next block to scan, decimal. */
  nextBlock: string
  /** Keys of requests in the watch window whose outcome was logged (absent in version 1). */
  reported?: string[]
  updatedAt: string
}

/** Where serve starts, and what it already reported. */
export interface CursorStart {
  /** The first block to scan. */
  fromBlock: bigint
  reported: Set<string>
  /** What was found and done when the cursor did not fit the chain (for the log), if anything. */
  warning?: string
}

/**
 * How far past the node's head a cursor of this very chain may be: a load-balanced RPC's backends lag
 * one another by a few blocks (serve then waits for the head). A version 1 cursor names no chain, so it
 * gets no tolerance: beyond the head, it may be another chain's, and serving from it would skip requests.
 */
export const CURSOR_AHEAD_TOLERANCE = 64n

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
 * @throws UsageError (exit 2) naming the file when it is not a readable cursor: not a regular file (a
 *   FIFO is refused, never waited on), not JSON, another format, or a block that is not a whole number.
 * @example
 * readCursor(path)?.nextBlock // '1234'
 */
export function readCursor(path: string): ServeCursor | undefined {
  if (!existsSync(path)) return undefined
  const hint = "move it aside to rescan from the deployment's block (or pass --from-block)"
  const text = readRegularFile(path, 'the serve cursor', { maxBytes: 16 * 1024 * 1024 }).toString('utf8')
  let cursor: ServeCursor
  try {
    cursor = JSON.parse(text) as ServeCursor
  } catch {
    throw new UsageError(`the serve cursor ${path} is not JSON`, { hint })
  }
  if (cursor?.format !== 'imo-serve-cursor-v1' && cursor?.format !== 'imo-serve-cursor-v2')
    throw new UsageError(`the serve cursor ${path} is not a serve cursor (no imo-serve-cursor format)`, { hint })
  if (typeof cursor.nextBlock !== 'string' || !/^\d{1,20}$/.test(cursor.nextBlock))
    throw new UsageError(
      `the serve cursor ${path} has no valid next block (${JSON.stringify(cursor.nextBlock)}: a block is a whole number, 0 or more)`,
      { hint },
    )
  const chain = cursor.chain
  if (
    cursor.format === 'imo-serve-cursor-v2' &&
    (!chain || !/^\d{1,20}$/.test(chain.block) || !/^0x[0-9a-f]{64}$/i.test(chain.hash))
  )
    throw new UsageError(`the serve cursor ${path} names no valid chain (block and hash)`, { hint })
  if (cursor.reported !== undefined && !(Array.isArray(cursor.reported) && cursor.reported.every((k) => typeof k === 'string')))
    throw new UsageError(`the serve cursor ${path} has an invalid list of reported requests`, { hint })
  return cursor
}

/**
 * Writes the cursor atomically.
 * @example
 * writeCursor(path, { chainId: 31337, collection, chain, nextBlock: 1234n, reported: ['7:0x…:0x…'] })
 */
export function writeCursor(
  path: string,
  value: { chainId: number; collection: string; chain: ChainKey; nextBlock: bigint; reported: Iterable<string> },
): void {
  const cursor: ServeCursor = {
    format: 'imo-serve-cursor-v2',
    chainId: value.chainId,
    collection: value.collection,
    chain: { block: value.chain.block.toString(), hash: value.chain.hash },
    nextBlock: value.nextBlock.toString(),
    reported: [...value.reported],
    updatedAt: new Date().toISOString(),
  }
  writeFileAtomic(path, `${JSON.stringify(cursor, null, 2)}\n`)
}

/**
 * Decides where serve starts from the cursor file, the chain and `--from-block`. A cursor written on
 * another chain (its deployment block's hash differs: the chain was re-created) is moved aside and
 * serve starts from the deployment's block, saying so; a cursor far beyond the node's head is refused.
 * @param path - the cursor file.
 * @param chain - this chain's key; `head`: the node's head block; `deployedAt`: the collection's block.
 * @returns the first block to scan and the requests reported already.
 * @throws UsageError (exit 2) for an unreadable cursor, or one far beyond the head.
 * @example
 * const start = loadCursor(path, { chain, head: 120n, deployedAt: 12n }) // { fromBlock: 108n, reported: Set(2) }
 */
export function loadCursor(
  path: string,
  options: { chain: ChainKey; head: bigint; deployedAt: bigint; fromBlock?: bigint },
): CursorStart {
  const saved = readCursor(path)
  const fresh = { fromBlock: options.fromBlock ?? options.deployedAt, reported: new Set<string>() }
  if (!saved) return fresh
  const { chain } = options
  if (saved.chain && (BigInt(saved.chain.block) !== chain.block || saved.chain.hash.toLowerCase() !== chain.hash.toLowerCase())) {
    const aside = `${path}.other-chain-${Date.now()}`
    renameSync(path, aside)
    return {
      ...fresh,
      warning: `the serve cursor was written on another chain: there block ${saved.chain.block} (the collection's deployment) had hash ${saved.chain.hash}, here block ${chain.block} has ${chain.hash} (a re-created local chain?); it was moved to ${aside}, and serving starts from block ${fresh.fromBlock}`,
    }
  }
  const next = BigInt(saved.nextBlock)
  const tolerance = saved.chain ? CURSOR_AHEAD_TOLERANCE : 0n
  if (options.fromBlock === undefined && next > options.head + 1n + tolerance)
    throw new UsageError(
      `the serve cursor ${path} says block ${next} is next, but the node's head is block ${options.head}: it was not written on this chain (or was edited), and serving from it would skip every request before block ${next}`,
      { hint: "move it aside to rescan from the deployment's block, or pass --from-block N" },
    )
  return { fromBlock: options.fromBlock ?? next, reported: new Set(saved.reported ?? []) }
}
