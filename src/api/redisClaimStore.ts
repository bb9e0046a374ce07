/**
 * The paid API's authorization claims in Redis (`imo serve --http --queue`): every serve process behind
 * one balancer claims a payment authorization in the queue's Redis before it verifies it, so a payment
 * sent to two of them at once runs the model once and settles once. A claim is one key,
 * `imo:inference:imo-api-claim:<asset>:<payer>:<nonce>`, taken with SET NX and expiring with the
 * authorization (authorizationClaims.ts); its value says `in-flight:<token>` or `settled`.
 */
import { QUEUE_NAME, QUEUE_PREFIX } from '../queue/inferenceJob.js'
import type { ClaimStore } from './authorizationClaims.js'

/** Deletes the key only while it is the caller's in-flight claim. */
const RELEASE_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"

/**
 * Opens the store on the queue's Redis.
 * @param url - the queue's `redis://` URL (its password, if any, in it).
 * @throws RpcError / UsageError from checkRedis when the Redis cannot be used.
 * @example
 * const claims = createAuthorizationClaims(ctx, usdc, await redisClaimStore('redis://10.0.0.5:6379/0'))
 */
export async function redisClaimStore(url: string): Promise<ClaimStore> {
  const { checkRedis, loadRedis, parseQueueUrl, redisOptions } = await import('../queue/connectRedis.js')
  const { randomUUID } = await import('node:crypto')
  const parsed = parseQueueUrl(url)
  await checkRedis(parsed)
  const Redis = await loadRedis()
  const client = new Redis({ ...redisOptions(parsed), maxRetriesPerRequest: 3 })
  client.on('error', () => {}) // a failed command rejects the call: 500, nothing charged
  const keyOf = (key: string) => `${QUEUE_PREFIX}:${QUEUE_NAME}:imo-api-claim:${key}`
  return {
    async take(key, ttlMs) {
      const token = randomUUID()
      if ((await client.set(keyOf(key), `in-flight:${token}`, 'PX', ttlMs, 'NX')) === 'OK') return { taken: true, token }
      const state = await client.get(keyOf(key))
      return { taken: false, state: state === 'settled' ? 'settled' : 'in-flight' }
    },
    async settle(key, ttlMs) {
      await client.set(keyOf(key), 'settled', 'PX', ttlMs)
    },
    async release(key, token) {
      await client.eval(RELEASE_SCRIPT, 1, keyOf(key), `in-flight:${token}`)
    },
    async close() {
      client.disconnect()
    },
  }
}
