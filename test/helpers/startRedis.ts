/**
 * A real redis-server for the queue tests (Debian's package; .ci/run installs it): a free loopback
 * port, a throw-away data folder, stopped (and its folder removed) by the test. `persistence: true`
 * turns the append-only file on, so `stop()` then `restart()` keeps every job.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((path) => existsSync(path))

export interface TestRedis {
  url: string
  port: number
  dir: string
  /** The running server's process id (0 while stopped; another one after restart()). */
  readonly pid: number
  /** Stops the server (SIGTERM: Redis flushes its append-only file first). */
  stop(): Promise<void>
  /** Starts it again on the same port and folder. */
  restart(): Promise<void>
  /** Stops it and removes its folder. */
  close(): Promise<void>
}

/** A free TCP port on 127.0.0.1 (redis-server cannot pick one itself: `--port 0` turns TCP off). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/**
 * Starts redis-server and resolves once it accepts connections.
 * @example
 * const redis = await startRedis({ persistence: true })
 * // ... redis.url is redis://127.0.0.1:PORT/0
 * await redis.close()
 */
export async function startRedis(options: { persistence?: boolean; args?: string[] } = {}): Promise<TestRedis> {
  if (!REDIS_SERVER) throw new Error('redis-server is not installed (apt-get install -y redis-server)')
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'imo-redis-'))
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.persistence ? 'yes' : 'no',
    '--appendfsync',
    'always',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    ...(options.args ?? []),
  ]
  let child: ChildProcess | undefined
  const launch = async () => {
    const started = spawn(REDIS_SERVER!, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    child = started
    let output = ''
    started.stdout?.on('data', (chunk) => {
      output += chunk
    })
    started.stderr?.on('data', (chunk) => {
      output += chunk
    })
    const deadline = Date.now() + 15_000
    while (!(await answers(port))) {
      if (started.exitCode !== null) throw new Error(`redis-server exited: ${output.slice(-400)}`)
      if (Date.now() > deadline) throw new Error(`redis-server did not start: ${output.slice(-400)}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const stop = async () => {
    const running = child
    child = undefined
    if (!running || running.exitCode !== null || running.signalCode !== null) return
    const exited = new Promise((resolve) => running.once('exit', resolve))
    running.kill('SIGTERM')
    const timer = setTimeout(() => running.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
  await launch()
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    dir,
    get pid() {
      return child?.pid ?? 0
    },
    stop,
    restart: launch,
    async close() {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** True when a PING on the port gets +PONG. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    import('node:net').then(({ connect }) => {
      const socket = connect(port, '127.0.0.1')
      const done = (ok: boolean) => {
        socket.destroy()
        resolve(ok)
      }
      socket.setTimeout(1000, () => done(false))
      socket.once('error', () => done(false))
      socket.once('connect', () => socket.write('PING\r\n'))
      socket.once('data', (data) => done(data.toString().startsWith('+PONG')))
    })
  })
}
