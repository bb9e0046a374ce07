/**
 * Stage 1 of `imo demo`: the local chain. anvil on a free port, stopped when the demo ends; with
 * --keep, a detached anvil that outlives the demo (its log in `<out>/anvil.log`).
 */
import { join } from 'node:path'
import type { DemoStep } from './demoStep.js'

export interface DemoChain {
  rpcUrl: string
  pid: number
  stop(): Promise<void>
}

/**
 * Starts the devnet.
 * @example
 * const chain = await startDemoChain(step, { outDir, keep: false })
 * await chain.stop()
 */
export async function startDemoChain(step: DemoStep, options: { outDir: string; keep: boolean }): Promise<DemoChain> {
  return step(
    'devnet',
    'starting a local devnet (anvil)',
    async () => {
      if (options.keep) {
        const { startDetachedAnvil } = await import('./startDetachedAnvil.js')
        const anvil = await startDetachedAnvil(join(options.outDir, 'anvil.log'))
        const stop = async () => {
          try {
            process.kill(anvil.pid, 'SIGTERM')
          } catch {
            // already gone
          }
        }
        return { rpcUrl: anvil.rpcUrl, pid: anvil.pid, stop }
      }
      const { startAnvil } = await import('../devnet/startAnvil.js')
      const anvil = await startAnvil()
      return { rpcUrl: anvil.rpcUrl, pid: anvil.pid, stop: () => anvil.stop() }
    },
    (a) => `devnet at ${a.rpcUrl} (pid ${a.pid})`,
  )
}
