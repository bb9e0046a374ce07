/**
 * Stage 0 of `imo demo`: the folders. Refuses what the demo must not overwrite (an --out folder of
 * someone else's; with --keep, a devnet or a chain-31337 deployment already recorded in the working
 * folder), then empties and marks the output folder.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { UsageError } from '../errors.js'

const MARKER = '.imo-demo'

/**
 * Checks and prepares the folders.
 * @param keptDeployment - where --keep records the deployment (checked only with keep).
 * @throws UsageError when --out holds other files, or with --keep when the working folder has a devnet or that deployment.
 * @example
 * await prepareDemo({ cwd, outDir, keep: false, keptDeployment })
 */
export async function prepareDemo(options: {
  cwd: string
  outDir: string
  keep: boolean
  keptDeployment: string
}): Promise<void> {
  if (options.keep) {
    const { readDevnetFile } = await import('../devnet/devnetFile.js')
    const running = readDevnetFile(options.cwd)
    if (running)
      throw new UsageError(`a devnet is already running for this folder (pid ${running.pid}, ${running.rpcUrl})`, {
        hint: 'stop it first, or run `imo demo` without --keep',
      })
    if (existsSync(options.keptDeployment))
      throw new UsageError(`--keep records the demo's deployment in ${options.keptDeployment}, which exists already`, {
        hint: 'remove it (a deployment on a stopped devnet is of no use), or run `imo demo` without --keep',
      })
  }
  const { outDir } = options
  if (existsSync(outDir)) {
    const entries = readdirSync(outDir)
    if (entries.length > 0 && !entries.includes(MARKER))
      throw new UsageError(`the output folder ${outDir} holds other files; pass another --out DIR or empty it`)
    // A previous demo's folder: its chain is gone, start afresh.
    rmSync(outDir, { recursive: true, force: true })
  }
  mkdirSync(outDir, { recursive: true })
  writeFileSync(join(outDir, MARKER), 'made by `imo demo`; the next demo run replaces this folder\n')
}
