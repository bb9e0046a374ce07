/**
 * Starts anvil as a background process that outlives imo (`imo demo --keep`): detached, in its own
 * process group, its log appended to a file, so the chain keeps answering after the demo exits.
 */
import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync, statSync } from 'node:fs'
import { ImoError } from '../errors.js'

export interface DetachedAnvil {
  rpcUrl: string
  port: number
  pid: number
  chainId: number
}

/**
 * Starts a detached anvil on a free 127.0.0.1 port and waits until it listens.
 * @param logPath - file that receives anvil's output (appended).
 * @param chainId - chain id (default 31337).
 * @returns its RPC URL, port and pid (stop it with `kill PID`).
 * @throws ImoError when anvil is missing, exits, or does not listen within 20 s.
 * @example
 * import { startDetachedAnvil } from './startDetachedAnvil.js'
 * const anvil = await startDetachedAnvil('imo-demo/anvil.log')
 * anvil.rpcUrl // 'http://127.0.0.1:40123'
 */
export async function startDetachedAnvil(logPath: string, chainId = 31337): Promise<DetachedAnvil> {
  const { anvilBinary } = await import('../devnet/startAnvil.js')
  const fd = openSync(logPath, 'a', 0o644)
  const offset = statSync(logPath).size
  const child = spawn(anvilBinary(), ['--host', '127.0.0.1', '--port', '0', '--chain-id', String(chainId)], {
    detached: true,
    stdio: ['ignore', fd, fd],
  })
  closeSync(fd)
  let exited: number | null | undefined
  child.once('exit', (code) => {
    exited = code
  })
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (error) => reject(new ImoError(`could not start anvil: ${error.message}`, { cause: error }))),
  )
  spawnError.catch(() => {})
  const deadline = Date.now() + 20_000
  for (;;) {
    const text = readFileSync(logPath, 'utf8').slice(offset)
    const match = /Listening on [\d.]+:(\d+)/.exec(text)
    if (match) {
      child.unref()
      const port = Number(match[1])
      return { rpcUrl: `http://127.0.0.1:${port}`, port, pid: child.pid ?? 0, chainId }
    }
    if (exited !== undefined) throw new ImoError(`anvil exited with code ${exited} before listening (see ${logPath})`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new ImoError(`anvil did not start within 20 s (see ${logPath})`)
    }
    await Promise.race([new Promise((resolve) => setTimeout(resolve, 50)), spawnError])
  }
}
