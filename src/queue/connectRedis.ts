/**
 * The Redis behind `--queue redis://HOST:PORT/DB`: parse the URL, then check once, before any queue
 * is opened, that a Redis server answers there and that it is set up the way BullMQ needs it
 * (`maxmemory-policy noeviction`: with any other policy Redis may silently drop queue keys, and
 * jobs with them). Long-running connections made from the result reconnect on their own.
 */
import type { Redis, RedisOptions } from 'ioredis'
import { RpcError, UsageError } from '../errors.js'
import { registerSecret } from '../util/redact.js'

/** A parsed `--queue` URL: what ioredis needs, and the URL to show (password replaced by `***`). */
export interface QueueUrl {
  host: string
  port: number
  db: number
  username?: string
  password?: string
  tls: boolean
  /** The URL with its password hidden, for messages and logs. */
  display: string
}

/** What the check found. */
export interface RedisInfo {
  version: string
  maxmemoryPolicy: string
}

/** BullMQ runs on Redis 5 and later (6.2 and later recommended). */
const MINIMUM_VERSION = [5, 0, 0]
const CHECK_TIMEOUT_MS = 3000

/**
 * Parses `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]` (`rediss://` for TLS). No message ever quotes
 * the URL as typed: a URL that does not parse is shown with everything before its last `@` hidden
 * (maskQueueUrl), a parsed one with its password (or a lone user name, which is often a password
 * missing its colon) as `***`, and the credentials are registered as secrets for every output.
 * @param url - the `--queue` value.
 * @returns the parsed URL.
 * @throws UsageError (exit 2) for anything else, naming the expected form.
 * @example
 * import { parseQueueUrl } from './queue/connectRedis.js'
 * parseQueueUrl('redis://10.0.0.5:6379/2') // { host: '10.0.0.5', port: 6379, db: 2, tls: false, display: 'redis://10.0.0.5:6379/2' }
 */
export function parseQueueUrl(url: string): QueueUrl {
  const form = 'use redis://HOST:PORT/DB (rediss:// for TLS)'
  // Messages quote the URL only through maskQueueUrl: whatever is malformed, the part before the last `@` is hidden.
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    registerUserInfo(url)
    throw new UsageError(`--queue ${JSON.stringify(maskQueueUrl(url))} is not a URL: ${form}`)
  }
  const safe = (value: string) => {
    try {
      return decodeURIComponent(value)
    } catch {
      return value
    }
  }
  const username = safe(parsed.username)
  const password = safe(parsed.password)
  if (password)
    registerSecret(password) // never printed, whatever quotes it
  else if (username) registerSecret(username)
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new UsageError(`--queue ${JSON.stringify(maskQueueUrl(url))} is not a Redis URL: ${form}`)
  if (!parsed.hostname) throw new UsageError(`--queue ${JSON.stringify(maskQueueUrl(url))} names no host: ${form}`)
  const path = parsed.pathname.replace(/^\//, '')
  if (path !== '' && !/^\d{1,5}$/.test(path)) throw new UsageError(`--queue database "${path}" is not a number: ${form}`)
  if (parsed.search || parsed.hash) throw new UsageError(`--queue takes no query or fragment: ${form}`)
  const port = parsed.port ? Number(parsed.port) : 6379
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port,
    db: path === '' ? 0 : Number(path),
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    tls: parsed.protocol === 'rediss:',
    display: hideCredentials(parsed),
  }
}

/**
 * A `--queue` value for a message when it does not parse as a URL: everything between the scheme and
 * the last `@` (where a password sits, however malformed the rest) replaced by `***`.
 * @example
 * maskQueueUrl('redis://:Secret@[::1:6379/0') // 'redis://***@[::1:6379/0'
 * maskQueueUrl('redis//:Secret@host') // '***@host'
 */
export function maskQueueUrl(text: string): string {
  const at = text.lastIndexOf('@')
  if (at === -1) return text
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0] ?? ''
  return `${scheme}***@${text.slice(at + 1)}`
}

/** Registers the credentials of a URL that does not parse (the part before its last `@`) as secrets. */
function registerUserInfo(text: string): void {
  const at = text.lastIndexOf('@')
  if (at === -1) return
  const info = text.slice(0, at).replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
  registerSecret(info)
  const colon = info.indexOf(':')
  if (colon !== -1) registerSecret(info.slice(colon + 1))
}

function hideCredentials(url: URL): string {
  const copy = new URL(url.href)
  if (copy.password) copy.password = '***'
  else if (copy.username) copy.username = '***' // a lone user name is often a password without its colon
  return copy.href.replace(/\/$/, '')
}

/** A password file: its first line, at most 64 KiB. */
const MAX_PASSWORD_FILE_BYTES = 64 * 1024

/**
 * The `--queue` URL a command hands on: parsed first (a bad one fails before any chain or model work,
 * with its credentials hidden), with the password of `--queue-password-file` put in, and a warning
 * when a password was typed on the command line, where other users see it (process list, history).
 * @param values - the command's `queue` and `queuePasswordFile` option values.
 * @param options - where `queue` came from (commander's value source: 'cli' warns) and how to warn.
 * @returns the URL to use, or undefined without `--queue`.
 * @throws UsageError (exit 2) for a bad URL, an unreadable password file, or a password given twice.
 * @example
 * const queue = await resolveQueueUrl(cmd.opts(), { source: cmd.getOptionValueSource('queue'), warn })
 */
export async function resolveQueueUrl(
  values: { queue?: string; queuePasswordFile?: string },
  options: { source?: string | undefined; warn?: (message: string) => void } = {},
): Promise<string | undefined> {
  if (values.queuePasswordFile && !values.queue) throw new UsageError('--queue-password-file needs --queue URL (or IMO_QUEUE)')
  if (!values.queue) return undefined
  const parsed = parseQueueUrl(values.queue)
  if (options.source === 'cli' && (parsed.password || parsed.username))
    options.warn?.(
      'a Redis password on the command line is visible to other users (process list, shell history); prefer IMO_QUEUE or --queue-password-file',
    )
  if (!values.queuePasswordFile) return values.queue
  if (parsed.password) throw new UsageError('--queue holds a password and --queue-password-file gives another: pass it once')
  const { readRegularFile } = await import('../util/readRegularFile.js')
  const text = readRegularFile(values.queuePasswordFile, 'the queue password file', { maxBytes: MAX_PASSWORD_FILE_BYTES })
  const password = text.toString('utf8').split(/\r?\n/)[0]!
  if (!password) throw new UsageError(`the queue password file ${values.queuePasswordFile} is empty`)
  registerSecret(password)
  const url = new URL(values.queue)
  url.password = encodeURIComponent(password)
  return url.href
}

/**
 * ioredis options for a long-lived BullMQ connection: commands wait (instead of failing) while Redis
 * is away, and the client reconnects with a capped backoff, so a Redis restart is ridden out.
 * @example
 * new Worker(name, processor, { connection: redisOptions(parseQueueUrl(url)) })
 */
export function redisOptions(url: QueueUrl): RedisOptions {
  return {
    host: url.host,
    port: url.port,
    db: url.db,
    ...(url.username ? { username: url.username } : {}),
    ...(url.password ? { password: url.password } : {}),
    ...(url.tls ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(100 * times, 2000),
  }
}

/**
 * The ioredis client class, loaded lazily. (ioredis is CommonJS: bundled by esbuild, a dynamic import
 * yields only its `default`, so look there too.)
 * @example
 * const Redis = await loadRedis()
 * const client = new Redis(redisOptions(parseQueueUrl(url)))
 */
export async function loadRedis(): Promise<typeof Redis> {
  const module = (await import('ioredis')) as unknown as { Redis?: typeof Redis; default: { Redis?: typeof Redis } }
  return (module.Redis ?? module.default.Redis)!
}

/**
 * Connects once to check the server: it must answer as Redis, be at least version 5, and run with
 * `maxmemory-policy noeviction` (read from INFO, which works where CONFIG is disabled).
 * @param url - the parsed `--queue` URL.
 * @returns its version and eviction policy.
 * @throws RpcError (exit 6) when nothing answers there, or what answers is not Redis; UsageError
 *   (exit 2) for a wrong password, a database out of range, an old Redis, or an eviction policy other
 *   than noeviction.
 * @example
 * import { checkRedis, parseQueueUrl } from './queue/connectRedis.js'
 * await checkRedis(parseQueueUrl('redis://127.0.0.1:6379/0')) // { version: '7.0.15', maxmemoryPolicy: 'noeviction' }
 */
export async function checkRedis(url: QueueUrl): Promise<RedisInfo> {
  const Redis = await loadRedis()
  const client = new Redis({
    ...redisOptions(url),
    lazyConnect: true,
    connectTimeout: CHECK_TIMEOUT_MS,
    commandTimeout: CHECK_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    reconnectOnError: () => false,
  })
  let lastError: Error | undefined
  client.on('error', (error: Error) => {
    lastError = error
  })
  try {
    const info = await (async () => {
      await client.connect()
      return client.info()
    })().catch((error: unknown) => {
      throw toRedisError(url, (lastError as Error | undefined) ?? error)
    })
    const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim()
    const version = field('redis_version')
    if (!version) throw new RpcError(`${url.display} answered, but not as Redis (INFO has no redis_version)`)
    const parts = version.split('.').map(Number)
    for (let i = 0; i < 3; i++) {
      const have = parts[i] ?? 0
      if (have > MINIMUM_VERSION[i]!) break
      if (have < MINIMUM_VERSION[i]!)
        throw new UsageError(`${url.display} runs Redis ${version}; the queue (BullMQ) needs Redis 5 or later (6.2+ recommended)`)
    }
    const maxmemoryPolicy = field('maxmemory_policy') ?? 'unknown'
    if (maxmemoryPolicy !== 'noeviction')
      throw new UsageError(
        `${url.display} runs with maxmemory-policy ${maxmemoryPolicy}; the queue needs maxmemory-policy noeviction (else Redis may evict jobs)`,
        { hint: 'set `maxmemory-policy noeviction` in redis.conf, or run `redis-cli CONFIG SET maxmemory-policy noeviction`' },
      )
    return { version, maxmemoryPolicy }
  } finally {
    client.disconnect()
  }
}

/** Turns a connection failure into one line: unreachable, not Redis, refused credentials or database. */
function toRedisError(url: QueueUrl, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: string })?.code
  if (/WRONGPASS|NOAUTH|invalid password|invalid username/i.test(message))
    return new UsageError(`${url.display} refused the credentials: ${message.split('\n')[0]}`, { cause: error })
  if (/DB index is out of range|invalid DB index/i.test(message))
    return new UsageError(`${url.display}: database ${url.db} does not exist on that server`, { cause: error })
  if (/Protocol error|unexpected|ERR unknown command/i.test(message))
    return new RpcError(`${url.display} is not a Redis server (it does not speak the Redis protocol)`, { cause: error })
  const reason =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'unknown host'
        : code === 'ETIMEDOUT' || /timed? ?out/i.test(message)
          ? `no answer within ${CHECK_TIMEOUT_MS / 1000} s (not Redis, or a firewall)`
          : /Connection is closed|ECONNRESET|EPIPE|Stream isn't writeable/i.test(message)
            ? 'the connection was closed (is it a Redis server?)'
            : message.split('\n')[0]
  return new RpcError(`cannot reach Redis at ${url.display}: ${reason}`, { cause: error })
}

/**
 * Whether `work` settles (either way) within `ms`. A BullMQ close waits for the commands it has in
 * flight, and with Redis gone those wait for a reconnection that may never come: every close is
 * bounded with this, then the connection is dropped.
 * @example
 * if (!(await settlesWithin(worker.close(), 2500))) await settlesWithin(worker.disconnect(), 500)
 */
export function settlesWithin(work: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  return Promise.race([
    Promise.resolve(work).then(
      () => true,
      () => true,
    ),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), ms).unref()),
  ])
}
