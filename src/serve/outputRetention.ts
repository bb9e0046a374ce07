/**
 * How much of its output `imo serve` keeps (`--keep-outputs N|all`, default 1000). Each fulfilment
 * leaves a folder under `--out` (`<first 12 hex of the commitment>-request-<id>`): its record, mint.json (proof,
 * transaction), metadata.json (what the token URI names), the artifact and, in-process, the input and
 * output tensors (1.8 MB a request with the bundled model, almost all tensors). The newest N
 * fulfilments keep everything; older folders keep only the three JSON files (a few KB), which is what
 * re-verification needs: the record holds the artifact's SHA-256 and the tensors' hashes, and
 * `imo verify --token` re-derives the tensors and the artifact by re-running the model. So the disk a
 * node uses is bounded by N folders plus a few KB a request.
 *
 * The order of the folders kept whole survives restarts in `.imo/serve/<chainId>/<collection>.outputs.json`,
 * written at most every few seconds and at the stop (a crash may leave the last few folders whole).
 */
import { lstatSync, readdirSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { UsageError } from '../errors.js'
import { readRegularFile } from '../util/readRegularFile.js'
import { writeFileAtomic } from '../util/writeFileAtomic.js'

/** What every folder keeps, whatever its age. */
export const KEPT_FILES = new Set(['record.json', 'mint.json', 'metadata.json'])
/** The default of `--keep-outputs`. */
export const DEFAULT_KEEP_OUTPUTS = 1000
const WRITE_EVERY_MS = 5000

export interface OutputRetention {
  /** A fulfilment's folder, newest last. */
  kept(outDir: string): void
  /** Writes the list of folders kept whole (at the stop). */
  flush(): void
}

/**
 * Path of the list of folders kept whole.
 * @example
 * retentionPath('/cwd/.imo/serve/31337/0x5fbd….json') // '/cwd/.imo/serve/31337/0x5fbd….outputs.json'
 */
export function retentionPath(cursorFile: string): string {
  return cursorFile.replace(/\.json$/, '.outputs.json')
}

/**
 * Removes a folder's tensors and artifact, keeping its record, mint.json and metadata.json.
 * @returns the bytes freed.
 * @example
 * pruneOutputFolder('out/3fa2b4c1d9e0-request-7') // 1572864
 */
export function pruneOutputFolder(folder: string): number {
  let freed = 0
  let entries: import('node:fs').Dirent[]
  try {
    entries = readdirSync(folder, { withFileTypes: true })
  } catch {
    return 0 // gone already (moved or removed by the operator)
  }
  for (const entry of entries) {
    if (!entry.isFile() || KEPT_FILES.has(entry.name)) continue
    const path = join(folder, entry.name)
    freed += lstatSync(path, { throwIfNoEntry: false })?.size ?? 0
    rmSync(path, { force: true })
  }
  return freed
}

/**
 * Opens the retention of one serve's outputs.
 * @param listFile - where the folders kept whole are listed (retentionPath).
 * @param keep - how many fulfilments keep their whole folder (`all`: nothing is pruned).
 * @example
 * const retention = openOutputRetention(retentionPath(cursorFile), 1000)
 * retention.kept(outcome.outDir)
 */
export function openOutputRetention(listFile: string, keep: number | 'all'): OutputRetention {
  if (keep === 'all') return { kept() {}, flush() {} }
  let folders: string[] = []
  try {
    const parsed = JSON.parse(readRegularFile(listFile, 'the list of kept outputs').toString('utf8')) as unknown
    if (Array.isArray(parsed)) folders = parsed.filter((entry): entry is string => typeof entry === 'string')
  } catch (error) {
    if (!(error instanceof UsageError) || !/no such file/.test(error.shortMessage)) throw error
  }
  let dirty = false
  let writtenAt = 0
  const write = () => {
    writeFileAtomic(listFile, `${JSON.stringify(folders)}\n`)
    dirty = false
    writtenAt = Date.now()
  }
  const trim = () => {
    while (folders.length > keep) {
      pruneOutputFolder(folders.shift()!)
      dirty = true
    }
  }
  trim()
  return {
    kept(outDir) {
      const folder = resolve(outDir)
      folders = folders.filter((entry) => entry !== folder)
      folders.push(folder)
      dirty = true
      trim()
      if (Date.now() - writtenAt >= WRITE_EVERY_MS) write()
    },
    flush() {
      if (dirty) write()
    },
  }
}
