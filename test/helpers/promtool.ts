/** Prometheus' own checker of an exposition (`promtool check metrics`, Debian's prometheus package). */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((path) => existsSync(path))

/** `promtool check metrics` on an exposition: its complaints (empty when it passes). */
export function promtool(text: string): string {
  if (!PROMTOOL) throw new Error('promtool is not installed (Debian: apt-get install prometheus)')
  try {
    execFileSync(PROMTOOL, ['check', 'metrics'], { input: text, stdio: ['pipe', 'pipe', 'pipe'] })
    return ''
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer }
    return `${stdout ?? ''}${stderr ?? ''}`.trim() || String(error)
  }
}
