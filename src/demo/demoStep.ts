/**
 * One stage of `imo demo` as the user sees it: a spinner line (stderr) that ends with what was done and
 * how long it took, the time recorded in the report's `timings` under the stage's key.
 */

/** The spinner factory `imo demo` is given (ora on a terminal, nothing under --json or in tests). */
export type DemoProgress = (text: string) => Promise<{ succeed(text?: string): void; fail(text?: string): void }>

/** Runs `fn` as the stage `key`: `text` while it runs, `done(value)` after it. */
export type DemoStep = <T>(key: string, text: string, fn: () => Promise<T>, done?: (value: T) => string) => Promise<T>

/**
 * Makes the step runner of one demo run.
 * @param progress - spinner factory.
 * @param timings - filled with each step's milliseconds.
 * @example
 * const step = demoStep(spinner, timings)
 * await step('deposit', 'depositing 1 ETH', () => depositRevenue(ctx, token, 10n ** 18n))
 */
export function demoStep(progress: DemoProgress, timings: Record<string, number>): DemoStep {
  return async (key, text, fn, done) => {
    const spin = await progress(text)
    const t0 = performance.now()
    try {
      const value = await fn()
      timings[key] = Math.round(performance.now() - t0)
      spin.succeed(`${done ? done(value) : text} (${(timings[key]! / 1000).toFixed(1)} s)`)
      return value
    } catch (error) {
      spin.fail()
      throw error
    }
  }
}
