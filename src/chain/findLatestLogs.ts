/**
 * Log queries that survive public RPCs' block-range limits (often 1,000-10,000 blocks per
 * eth_getLogs): one query over the whole range first; when the node refuses it, the range is
 * walked backwards from the newest block in chunks (halved while the node still refuses), stopping
 * at the first chunk that holds matching logs, since callers want the latest event.
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
  const { fromBlock, toBlock } = options
  try {
    return await query({ fromBlock, toBlock })
  } catch (error) {
    if (isConnectionError(error) || toBlock <= fromBlock) throw error
  }
  let size = options.chunk ?? 10_000n
  let end = toBlock
  while (end >= fromBlock) {
    const start = end - size + 1n > fromBlock ? end - size + 1n : fromBlock
    let logs: T[]
    try {
      logs = await query({ fromBlock: start, toBlock: end })
    } catch (error) {
      if (isConnectionError(error) || size === 1n) throw error
      size = size / 2n // still too wide for this node: narrow the window and retry the same end
      continue
    }
    if (logs.length > 0) return logs
    end = start - 1n
  }
  return []
}
