/**
 * `.imo/devnet.json`: written by `imo devnet` while it runs (removed on stop), so other commands use
 * that chain when no RPC URL is configured.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { isProcessAlive } from '../util/isProcessAlive.js'
import { writeFileAtomic } from '../util/writeFileAtomic.js'

export interface DevnetInfo {
  rpcUrl: string
  chainId: number
  pid: number
  startedAt: string
  /** The devnet's test USDC (src/devnet/deployTestUsdc.ts), when it deployed one. */
  testUsdc?: `0x${string}`
}

/** Path of the devnet file under the working folder. */
export function devnetFilePath(cwd = process.cwd()): string {
  return resolve(cwd, '.imo', 'devnet.json')
}

/**
 * Writes the devnet file atomically.
 * @example
 * writeDevnetFile({ rpcUrl: 'http://127.0.0.1:8545', chainId: 31337, pid: process.pid, startedAt: new Date().toISOString() })
 */
export function writeDevnetFile(info: DevnetInfo, cwd = process.cwd()): void {
  writeFileAtomic(devnetFilePath(cwd), `${JSON.stringify(info, null, 2)}\n`)
}

/** Removes the devnet file if it is ours (same pid). */
export function removeDevnetFile(pid: number, cwd = process.cwd()): void {
  const info = readDevnetFile(cwd)
  if (info && info.pid === pid) rmSync(devnetFilePath(cwd), { force: true })
}

/**
 * Reads the devnet file when present, well-formed, and its process is alive (answering is checked by the caller).
 * @returns the devnet info, or undefined.
 * @example
 * readDevnetFile()?.rpcUrl // 'http://127.0.0.1:8545'
 */
export function readDevnetFile(cwd = process.cwd()): DevnetInfo | undefined {
  const path = devnetFilePath(cwd)
  if (!existsSync(path)) return undefined
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as DevnetInfo
    if (typeof info.rpcUrl !== 'string' || typeof info.pid !== 'number') return undefined
    return isProcessAlive(info.pid) ? info : undefined
  } catch {
    return undefined
  }
}
