/**
 * Log queries that survive public RPCs' block-range limits (often 1,000-10,000 blocks per
 * eth_getLogs): one query over the whole range first; when the node refuses it, the range is
 * walked in chunks (halved while the node still refuses). findLatestLogs walks backwards from the
 * newest block and stops at the first chunk that holds matching logs (callers want the latest
 * event); readAllLogs walks forwards through the whole range and reports its progress.
 */
import { isConnectionError } from './toImoError.js'

export interface BlockRange {
  fromBlock: bigint
  toBlock: bigint
}

export interface FindLatestLogsOptions extends BlockRange {
  /** First chunk size when the whole range is refused (default 10,000 blocks). */
  chunk?: bigint
}

/**
 * Runs `query` over [fromBlock, toBlock], or in chunks from the newest block down when refused.
 * @param query - one eth_getLogs-style query over a range.
 * @param options - the range, and the first chunk size.
 * @returns the logs of the whole range, or of the newest chunk that has any (empty when none).
 * @throws the query's error when it is a connection failure, or when even a one-block range is refused.
 * @example
 * import { findLatestLogs } from './chain/findLatestLogs.js'
 * const logs = await findLatestLogs((range) => client.getContractEvents({ ...filter, ...range }), { fromBlock: 0n, toBlock: head })
 */
export async function findLatestLogs<T>(
  query: (range: BlockRange) => Promise<T[]>,
  options: FindLatestLogsOptions,
): Promise<T[]> {
  const found: T[][] = []
  await walkChunks(query, options, 'backward', (logs) => {
    if (logs.length === 0) return true
    found.push(logs)
    return false
  })
  return found[0] ?? []
}

/**
 * Runs `query` over [fromBlock, toBlock], or chunk by chunk from the oldest block when refused,
 * and returns every log, oldest first.
 * @param query - one eth_getLogs-style query over a range.
 * @param options - the range, the first chunk size, and onProgress(blocksDone, blocksTotal) after each chunk.
 * @returns all logs of the range.
 * @throws the query's error when it is a connection failure, or when even a one-block range is refused.
 * @example
 * import { readAllLogs } from './chain/findLatestLogs.js'
 * const logs = await readAllLogs((range) => client.getLogs({ address, event, ...range }), { fromBlock, toBlock: head })
 */
export async function readAllLogs<T>(
  query: (range: BlockRange) => Promise<T[]>,
  options: FindLatestLogsOptions & { onProgress?(blocksDone: bigint, blocksTotal: bigint): void },
): Promise<T[]> {
  const all: T[] = []
  const total = options.toBlock - options.fromBlock + 1n
  await walkChunks(query, options, 'forward', (logs, range) => {
    all.push(...logs)
    options.onProgress?.(range.toBlock - options.fromBlock + 1n, total)
    return true
  })
  return all
}

/** The whole range at once, else chunks in `direction`; `take` returns false to stop early. */
async function walkChunks<T>(
  query: (range: BlockRange) => Promise<T[]>,
  options: FindLatestLogsOptions,
  direction: 'forward' | 'backward',
  take: (logs: T[], range: BlockRange) => boolean,
): Promise<void> {
  const { fromBlock, toBlock } = options
  try {
    take(await query({ fromBlock, toBlock }), { fromBlock, toBlock })
    return
  } catch (error) {
    if (isConnectionError(error) || toBlock <= fromBlock) throw error
  }
  let size = options.chunk ?? 10_000n
  let start = fromBlock
  let end = toBlock
  while (start <= end) {
    const range =
      direction === 'backward'
        ? { fromBlock: end - size + 1n > start ? end - size + 1n : start, toBlock: end }
        : { fromBlock: start, toBlock: start + size - 1n < end ? start + size - 1n : end }
    let logs: T[]
    try {
      logs = await query(range)
    } catch (error) {
      if (isConnectionError(error) || size === 1n) throw error
      size = size / 2n // still too wide for this node: narrow the window and retry the same place
      continue
    }
    if (!take(logs, range)) return
    if (direction === 'backward') end = range.fromBlock - 1n
    else start = range.toBlock + 1n
  }
}
