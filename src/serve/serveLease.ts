/**
 * One dispatcher per collection on a queue: `imo serve --queue` holds a lease in the queue's Redis
 * (`imo:serve-lease:<chainId>:<collection>`, 15 s, renewed every 5 s). A second dispatcher started from
 * another folder or machine is refused at start (exit 2): both would be safe on chain, but every
 * request would be inferred twice and one of its two fulfilments would revert, gas paid for nothing.
 * A dispatcher restarted from the same folder on the same host takes its lease over at once (a
 * SIGKILLed one cannot release it, and its journal lock already keeps two of them apart there).
 */
import { hostname } from 'node:os'
import type { Address } from 'viem'
import { UsageError } from '../errors.js'
import type { ServeEvent } from './serveEvent.js'

/** How long a lease lasts without renewal. */
export const LEASE_MS = 15_000
const RENEW_MS = 5_000

/** Who holds a lease. */
export interface LeaseHolder {
  host: string
  pid: number
  /** The folder whose `.imo` the dispatcher uses. */
  folder: string
  /** When it took the lease (ISO 8601). */
  since: string
}

/**
 * Takes the lease of `collection` in the queue's Redis, or refuses.
 * @param url - the queue's `redis://` URL.
 * @param target - the chain id, the collection, and the folder of serve's state.
 * @returns release(), which ends the renewal and deletes the lease if it is still this process's.
 * @throws UsageError (exit 2) naming the other dispatcher when one holds the lease.
 * @example
 * const lease = await takeServeLease('redis://10.0.0.5:6379/0', { chainId: 1, collection, folder: process.cwd() }, log)
 * await lease.release()
 */
export async function takeServeLease(
  url: string,
  target: { chainId: number; collection: Address; folder: string },
  log: (event: ServeEvent) => void,
): Promise<{ release(): Promise<void> }> {
  const { loadRedis, parseQueueUrl, redisOptions } = await import('../queue/connectRedis.js')
  const Redis = await loadRedis()
  const client = new Redis({ ...redisOptions(parseQueueUrl(url)), maxRetriesPerRequest: 3 })
  client.on('error', () => {}) // the queue's own connection reports Redis trouble
  const key = `imo:serve-lease:${target.chainId}:${target.collection.toLowerCase()}`
  const me: LeaseHolder = { host: hostname(), pid: process.pid, folder: target.folder, since: new Date().toISOString() }
  const value = JSON.stringify(me)
  try {
    const taken = await client.set(key, value, 'PX', LEASE_MS, 'NX')
    if (taken !== 'OK') {
      const text = await client.get(key)
      const holder = text ? (JSON.parse(text) as LeaseHolder) : undefined
      if (holder && !(holder.host === me.host && holder.folder === me.folder))
        throw new UsageError(
          `another dispatcher serves the collection ${target.collection} through this Redis: pid ${holder.pid} on ${holder.host}, in ${holder.folder}, since ${holder.since}; a second one would infer every request twice and pay for fulfilments that revert`,
          { hint: `stop that one first (its lease lapses ${LEASE_MS / 1000} s after it stops), or serve from its folder` },
        )
      await client.set(key, value, 'PX', LEASE_MS)
    }
  } catch (error) {
    client.disconnect()
    if (error instanceof UsageError) throw error
    const { RpcError } = await import('../errors.js')
    throw new RpcError(`cannot take the dispatcher's lease in Redis: ${(error as Error).message.split('\n')[0]}`, {
      cause: error,
    })
  }
  let warned = false
  // Renewed only while it is still ours (compare and extend in one step).
  const renew = async () => {
    const kept = await client
      .eval(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end return 0",
        1,
        key,
        value,
        String(LEASE_MS),
      )
      .catch(() => undefined)
    if (kept === 0 && !warned) {
      warned = true
      log({
        event: 'warning',
        message: `another dispatcher took over the lease of this collection (${(await client.get(key).catch(() => null)) ?? 'unknown'}) while this one could not renew it: stop one of them`,
      })
    }
  }
  const timer = setInterval(() => void renew(), RENEW_MS)
  timer.unref()
  return {
    async release() {
      clearInterval(timer)
      await client
        .eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, key, value)
        .catch(() => {})
      client.disconnect()
    },
  }
}
