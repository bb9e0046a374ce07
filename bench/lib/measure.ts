// Timing helper for benchmarks: runs a command as a child process, measures its wall time and peak
// resident memory (RSS), and keeps the best of several runs. Peak RSS comes from GNU time
// (`/usr/bin/time -f %M`, Debian package `time`) when present; otherwise, for Node commands only, from
// process.resourceUsage().maxRSS at exit through a `--require` hook (worker threads count, since RSS
// is the whole process's). Wall time is measured here around the child, start-up included.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface Run {
  /** Wall time from spawn to exit, in milliseconds. */
  wallMs: number
  /** Peak resident set size in KiB, when it could be measured. */
  maxRssKiB: number | undefined
  code: number | null
  stdout: string
  stderr: string
}

export interface MeasureOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Measure peak RSS (default true). Off for start-up timings: GNU time adds its own exec to the wall time. */
  rss?: boolean
}

const GNU_TIME = '/usr/bin/time'
let scratch: string | undefined

function scratchFolder(): string {
  if (!scratch) {
    scratch = mkdtempSync(join(tmpdir(), 'imo-measure-'))
    const folder = scratch
    process.once('exit', () => rmSync(folder, { recursive: true, force: true }))
  }
  return scratch
}

/** True when GNU time is installed (it measures the peak RSS of any command). */
export function hasGnuTime(): boolean {
  return existsSync(GNU_TIME)
}

function rssHook(): string {
  const hook = join(scratchFolder(), 'rss-hook.cjs')
  if (!existsSync(hook))
    writeFileSync(
      hook,
      "process.on('exit', () => { if (process.env.IMO_MEASURE_RSS_FILE) require('node:fs').writeFileSync(process.env.IMO_MEASURE_RSS_FILE, String(process.resourceUsage().maxRSS)) })\n",
    )
  return hook
}

/**
 * Runs `command args` once and measures it.
 * @example
 * const run = await runOnce('openssl', ['dgst', '-sha256', '/tmp/big.bin'])
 * console.log(run.wallMs, run.maxRssKiB)
 */
export function runOnce(command: string, args: string[], options: MeasureOptions = {}): Promise<Run> {
  const rssFile = join(scratchFolder(), `rss-${process.pid}-${Math.random().toString(36).slice(2)}`)
  let file = command
  let argv = args
  const env = { ...(options.env ?? process.env) }
  if (options.rss === false) {
    // wall time only
  } else if (hasGnuTime()) {
    file = GNU_TIME
    argv = ['-f', '%M', '-o', rssFile, command, ...args]
  } else if (command === process.execPath) {
    argv = ['--require', rssHook(), ...args]
    env.IMO_MEASURE_RSS_FILE = rssFile
  }
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(file, argv, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => {
      const wallMs = performance.now() - started
      let maxRssKiB: number | undefined
      if (existsSync(rssFile)) {
        const lines = readFileSync(rssFile, 'utf8').trim().split('\n')
        const value = Number(lines.at(-1))
        if (Number.isFinite(value) && value > 0) maxRssKiB = value
        rmSync(rssFile, { force: true })
      }
      resolve({ wallMs, maxRssKiB, code, stdout, stderr })
    })
  })
}

/** The fastest of several runs, and the highest peak RSS seen over all of them. */
export interface Best {
  best: Run
  runs: Run[]
  maxRssKiB: number | undefined
}

/**
 * Runs a command `times` times in a row (it must succeed each time) and keeps the fastest.
 * @example
 * const { best } = await bestOf(3, 'sha256sum', ['/tmp/big.bin'])
 */
export async function bestOf(times: number, command: string, args: string[], options: MeasureOptions = {}): Promise<Best> {
  const runs: Run[] = []
  for (let i = 0; i < times; i++) {
    const run = await runOnce(command, args, options)
    if (run.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${run.code}: ${run.stderr.trim()}`)
    runs.push(run)
  }
  return bestRun(runs)
}

function bestRun(runs: Run[]): Best {
  const best = runs.reduce((a, b) => (b.wallMs < a.wallMs ? b : a))
  const rss = runs.map((r) => r.maxRssKiB).filter((v): v is number => v !== undefined)
  return { best, runs, maxRssKiB: rss.length > 0 ? Math.max(...rss) : undefined }
}

/** A command to measure with {@link bestOfInterleaved}. */
export interface Spec {
  command: string
  args: string[]
  options?: MeasureOptions
}

/**
 * Like bestOf for several commands, run in rounds (A B C, A B C, ...) so that each sees the same
 * background load; returns one Best per command, in the given order.
 * @example
 * const [openssl, imo] = await bestOfInterleaved(3, [{ command: 'openssl', args: ['dgst', '-sha256', f] }, { command: process.execPath, args: ['bin/imo.cjs', 'hash', f] }])
 */
export async function bestOfInterleaved<const T extends readonly Spec[]>(
  times: number,
  specs: T,
): Promise<{ [K in keyof T]: Best }> {
  const all: Run[][] = specs.map(() => [])
  for (let round = 0; round < times; round++) {
    for (const [i, spec] of specs.entries()) {
      const run = await runOnce(spec.command, spec.args, spec.options)
      if (run.code !== 0) throw new Error(`${spec.command} ${spec.args.join(' ')} exited ${run.code}: ${run.stderr.trim()}`)
      all[i]!.push(run)
    }
  }
  return all.map(bestRun) as { [K in keyof T]: Best }
}

/** A row of a benchmark table. */
export interface Row {
  figure: string
  value: string
  baseline: string
  ratio: string
  target: string
  pass: boolean | undefined
}

/** Prints rows as an aligned text table; returns true when no row failed. */
export function printTable(rows: Row[]): boolean {
  const head = ['figure', 'value', 'baseline', 'ratio', 'target', 'result']
  const cells = rows.map((r) => [
    r.figure,
    r.value,
    r.baseline,
    r.ratio,
    r.target,
    r.pass === undefined ? '-' : r.pass ? 'pass' : 'FAIL',
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
  const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ')
  console.log(line(head))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const c of cells) console.log(line(c))
  return rows.every((r) => r.pass !== false)
}
