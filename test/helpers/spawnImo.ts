/**
 * Long-running `imo` children for the queue tests (`imo worker`, `imo serve --queue`): spawned with
 * `--json`, so their stderr is JSON lines, collected as they come; plain lines (errors) are kept as
 * `{ text }`. A child can be SIGSTOPped or SIGKILLed by its pid.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { cleanEnv, imoBin, repoRoot } from './runCli.js'

export interface SpawnedImo {
  child: ChildProcess
  pid: number
  /** stderr lines so far. */
  lines: Array<Record<string, unknown>>
  stdout: string
  exited: Promise<number | null>
  /** Resolves once a line with `event === readyEvent` was logged (or the child exited). */
  ready: Promise<void>
}

/**
 * Starts `imo ...args --json` in `cwd` (under `node ...nodeFlags`).
 * @example
 * const worker = spawnImo(['worker', '--queue', redis.url, '--model', CPPN], { readyEvent: 'ready' })
 * await worker.ready
 */
export function spawnImo(
  args: string[],
  options: {
    cwd?: string
    env?: Record<string, string | undefined>
    readyEvent?: string
    nodeFlags?: string[]
    /** Another script to run instead of imo (a test's hostile worker), with the same log handling. */
    script?: string
  } = {},
): SpawnedImo {
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), options.script ?? imoBin, ...args, '--json'], {
    cwd: options.cwd ?? repoRoot,
    env: cleanEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const spawned: SpawnedImo = {
    child,
    pid: child.pid ?? 0,
    lines: [],
    stdout: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    ready: Promise.resolve(),
  }
  let buffer = ''
  let markReady: () => void = () => {}
  spawned.ready = new Promise((resolve) => {
    markReady = resolve
  })
  child.stdout?.on('data', (chunk) => {
    spawned.stdout += chunk
  })
  child.stderr?.on('data', (chunk) => {
    buffer += chunk
    let end = buffer.indexOf('\n')
    while (end >= 0) {
      const text = buffer.slice(0, end)
      buffer = buffer.slice(end + 1)
      end = buffer.indexOf('\n')
      try {
        const line = JSON.parse(text) as Record<string, unknown>
        spawned.lines.push(line)
        if (options.readyEvent && line.event === options.readyEvent) markReady()
      } catch {
        spawned.lines.push({ text })
      }
    }
  })
  void spawned.exited.then(() => markReady())
  return spawned
}

/** SIGTERM (unless it is gone already) and the exit code. */
export async function stopImo(spawned: SpawnedImo): Promise<number | null> {
  if (spawned.child.exitCode === null && spawned.child.signalCode === null) spawned.child.kill('SIGTERM')
  return spawned.exited
}

/**
 * SIGKILLs `worker` while it holds a job (BullMQ's `processedBy` is `<hostname>:<pid>`), and returns
 * that job's id, or undefined when it never held one before the deadline. The worker is frozen
 * (SIGSTOP) before each look, so a job seen active cannot complete under our eyes (a job seen and
 * killed a moment later may already be done); between jobs it is thawed and tried again.
 * @param activeJobs - the queue's active jobs (e.g. a bullmq `Queue`'s getActive()).
 */
export async function killMidJob(
  worker: SpawnedImo,
  activeJobs: () => Promise<Array<{ id?: string; processedBy?: string }>>,
  timeoutMs: number,
): Promise<string | undefined> {
  const { hostname } = await import('node:os')
  const name = `${hostname()}:${worker.pid}`
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    worker.child.kill('SIGSTOP')
    await new Promise((resolve) => setTimeout(resolve, 50)) // let a command already sent land
    const mine = (await activeJobs()).find((job) => job.processedBy === name)
    if (mine) {
      worker.child.kill('SIGKILL')
      return mine.id
    }
    worker.child.kill('SIGCONT')
    await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20))
  }
  return undefined
}
