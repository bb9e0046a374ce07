/**
 * Maps over items with at most `limit` promises in flight, keeping the results in input order.
 * Used where many independent RPC calls (simulating a batch of mints) would otherwise wait for
 * each other one round trip at a time.
 * @param items - the inputs.
 * @param limit - the most calls running at once (at least 1).
 * @param fn - the async mapping; the first rejection rejects the whole map.
 * @returns the results, in the order of `items`.
 * @example
 * import { mapConcurrent } from './util/mapConcurrent.js'
 * const gas = await mapConcurrent(steps, 8, (step) => simulateStep(ctx, step))
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++
      results[index] = await fn(items[index]!, index)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker))
  return results
}
