import { escapeControl } from '../cli/escapeControl.js'
import type { Spinner } from '../cli/ui.js'

/** Hooks for runInference's onToken/onText. */
export interface GenerationHooks {
  onToken: (id: number, index: number) => void
  onText?: (delta: string) => void
  /** Ends a streamed text with a newline (a no-op when nothing was streamed). */
  finish(): void
}

/**
 * Progress for a generation: the spinner's line shows tokens so far and tokens/s; with `stream`, the
 * text is printed as it comes (stdout, or stderr when stdout carries --json) and the spinner is
 * stopped so the two do not interleave.
 * @param progress - the command's spinner.
 * @param options - stream the text; json mode (stream to stderr).
 * @example
 * const hooks = generationProgress(spinner, { stream: true, json: false })
 * await runInference({ modelPath, prompt, onToken: hooks.onToken, onText: hooks.onText })
 * hooks.finish()
 */
export function generationProgress(progress: Spinner, options: { stream: boolean; json: boolean }): GenerationHooks {
  let started = 0
  let shown = 0
  let streamed = false
  const out = options.json ? process.stderr : process.stdout
  return {
    onToken(_id, index) {
      if (index === 0) {
        started = performance.now()
        if (streamed) out.write('\n') // the next prompt's text (infer-and-mint --prompts) on a line of its own
      }
      // At most ten updates a second (the spinner redraws at about that rate): formatting the line and
      // the spinner's re-measuring of it for every token was garbage in the generation loop.
      const now = performance.now()
      if (options.stream || (index > 0 && now - shown < 100)) return
      shown = now
      const seconds = (now - started) / 1000
      const rate = index > 0 && seconds > 0 ? `, ${(index / seconds).toFixed(1)} tokens/s` : ''
      progress.update(`generating: ${index + 1} tokens${rate}`)
    },
    ...(options.stream
      ? {
          onText(delta: string) {
            if (!streamed) progress.stop()
            streamed = true
            out.write(escapeControl(delta, { keepNewlines: true })) // a model's text is not trusted with the terminal
          },
        }
      : {}),
    finish() {
      if (streamed) out.write('\n')
    },
  }
}
