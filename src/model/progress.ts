/**
 * A one-line progress bar on stderr for long hashing: bytes done / total, rate and time left.
 * Drawn only when stderr is a terminal that can animate (canAnimate), not with --quiet, and only once the work has run for a
 * second, so quick runs and pipes see nothing.
 */
import { canAnimate, formatBytes, uiSettings } from '../cli/ui.js'

export interface ProgressBar {
  /** Feed it to hashModel's `onProgress`. */
  update(done: number, total: number): void
  /** Clears the line. */
  stop(): void
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--'
  const s = Math.max(0, Math.round(seconds))
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`
}

/**
 * Renders one progress line: a bar, bytes done / total, rate, and time left.
 * @example
 * import { renderProgress } from './model/progress.js'
 * renderProgress(512 * 2 ** 20, 2 ** 30, 2) // '[##########----------]  512.0 MiB / 1.0 GiB  256.0 MiB/s  ETA 2s'
 */
export function renderProgress(done: number, total: number, elapsedSeconds: number, width = 20): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1
  const filled = Math.round(fraction * width)
  const rate = elapsedSeconds > 0 ? done / elapsedSeconds : 0
  const eta = rate > 0 ? (total - done) / rate : Number.POSITIVE_INFINITY
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]  ${formatBytes(done)} / ${formatBytes(total)}  ${formatBytes(rate)}/s  ETA ${formatSeconds(eta)}`
}

/**
 * A progress bar for hashing, on stderr.
 * @param label - words before the bar, e.g. 'hashing'.
 * @param stream - where to draw (default process.stderr); nothing is drawn unless it is a terminal.
 * @example
 * import { progressBar } from './model/progress.js'
 * const bar = progressBar('hashing')
 * try { await hashModel(path, { onProgress: bar.update }) } finally { bar.stop() }
 */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr, delayMs = 1000): ProgressBar {
  const enabled = canAnimate(stream) && !uiSettings().quiet
  const started = Date.now()
  let drawn = false
  return {
    update(done, total) {
      if (!enabled) return
      const elapsed = Date.now() - started
      if (elapsed < delayMs) return
      stream.write(`\r${label} ${renderProgress(done, total, elapsed / 1000)}\x1b[K`)
      drawn = true
    },
    stop() {
      if (drawn) stream.write('\r\x1b[K')
      drawn = false
    },
  }
}
