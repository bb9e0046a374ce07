/**
 * Clean-up on Ctrl-C / SIGTERM. src/cli.ts owns the signal handlers and the exit; code that holds
 * something to release (a devnet child process, a temporary file) registers a clean-up here.
 */
type Cleanup = () => void | Promise<void>

const cleanups: Cleanup[] = []
let exitCodeOnInterrupt = 130
let interrupting = false
let journalInUse = false

/**
 * Registers a clean-up to run when the process is interrupted; returns a function that removes it.
 * @example
 * const release = onInterrupt(() => child.kill())
 */
export function onInterrupt(cleanup: Cleanup): () => void {
  cleanups.push(cleanup)
  return () => {
    const index = cleanups.indexOf(cleanup)
    if (index >= 0) cleanups.splice(index, 1)
  }
}

/** For commands whose normal end is Ctrl-C (`imo devnet`): exit with this code instead of 130. */
export function setInterruptExitCode(code: number): void {
  exitCodeOnInterrupt = code
}

/**
 * Marks that this process sends through the journal, so an interrupt says the journal is intact and a
 * re-run resumes (a command without one, `imo hash` say, has nothing to resume).
 * @example
 * markJournalInUse()
 */
export function markJournalInUse(): void {
  journalInUse = true
}

/**
 * The line printed when the process is interrupted.
 * @example
 * interruptMessage('SIGINT') // 'interrupted (SIGINT)' or 'interrupted (SIGINT); the journal is intact, re-run to resume'
 */
export function interruptMessage(signal: string): string {
  return `interrupted (${signal})${journalInUse ? '; the journal is intact, re-run to resume' : ''}`
}

/** True once an interrupt's clean-ups have started: what stops now is being stopped on purpose. */
export function isInterrupting(): boolean {
  return interrupting
}

/** Runs every registered clean-up (newest first, each at most 3 s); returns the exit code to use. */
export async function runCleanups(): Promise<number> {
  interrupting = true
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await Promise.race([cleanup(), new Promise((resolve) => setTimeout(resolve, 3000).unref())])
    } catch {
      // A failing clean-up must not hide the interrupt itself.
    }
  }
  return exitCodeOnInterrupt
}
