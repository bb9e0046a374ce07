/**
 * How imo calls snarkjs: loaded lazily (it is large), with a logger that keeps its messages (snarkjs
 * reports some failures only by logging and returning -1), and with its worker threads stopped after
 * each use (snarkjs keeps one multi-threaded bn128 curve in `globalThis.curve_bn128`, whose workers
 * would otherwise keep the process alive).
 */
import type { Logger } from 'snarkjs'

/** A snarkjs logger that keeps every message and passes each on. */
export interface CapturingLogger extends Logger {
  messages: string[]
  errors: string[]
}

/**
 * A logger for snarkjs calls.
 * @param onMessage - called with each message (snarkjs reports its prover's rounds at debug level).
 * @example
 * const logger = capturingLogger()
 * await snarkjs.plonk.setup(r1cs, ptau, zkey, logger)
 * logger.errors // ['circuit too big for this power of tau ceremony. 39540 > 2**15']
 */
export function capturingLogger(onMessage?: (message: string) => void): CapturingLogger {
  const messages: string[] = []
  const errors: string[] = []
  const keep = (m: string) => {
    messages.push(m)
    onMessage?.(m)
  }
  return {
    messages,
    errors,
    info: keep,
    debug: keep,
    warn: keep,
    error: (m) => {
      errors.push(m)
      keep(m)
    },
  }
}

/**
 * Runs `work` with snarkjs, then stops the curve's worker threads.
 * @example
 * const ok = await withSnarkjs((snarkjs) => snarkjs.plonk.verify(vk, signals, proof))
 */
export async function withSnarkjs<T>(work: (snarkjs: typeof import('snarkjs')) => Promise<T>): Promise<T> {
  const snarkjs = await import('snarkjs')
  try {
    return await work(snarkjs)
  } finally {
    const global = globalThis as { curve_bn128?: { terminate(): Promise<void> } | null }
    const curve = global.curve_bn128
    if (curve) {
      global.curve_bn128 = null
      await curve.terminate()
    }
  }
}

/**
 * Runs `work` with console output held back: circom's witness generator prints its failures with
 * console.log/error before it throws, and imo reports them once, as one error line.
 * @returns what `work` returns; the held-back lines are dropped.
 * @example
 * await quietConsole(() => snarkjs.wtns.calculate(input, wasm, witness))
 */
export async function quietConsole<T>(work: () => Promise<T>): Promise<T> {
  const saved = { log: console.log, error: console.error, warn: console.warn }
  const drop = () => {}
  Object.assign(console, { log: drop, error: drop, warn: drop })
  try {
    return await work()
  } finally {
    Object.assign(console, saved)
  }
}
