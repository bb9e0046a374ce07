import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { configureUi, spinner, withSpinner } from './ui.js'

/** Runs fn while capturing what is written to stderr (stderr is not a terminal under the test runner). */
async function captureStderr(fn: () => Promise<void>): Promise<string> {
  const write = process.stderr.write.bind(process.stderr)
  let text = ''
  process.stderr.write = ((chunk: string | Uint8Array) => {
    text += String(chunk)
    return true
  }) as typeof process.stderr.write
  try {
    await fn()
  } finally {
    process.stderr.write = write
  }
  return text
}

describe('spinner', () => {
  it('a spinner started inside another stays silent; the next one speaks again', async () => {
    configureUi({ json: false, quiet: false, color: false })
    const isTTY = process.stderr.isTTY
    process.stderr.isTTY = false
    try {
      const text = await captureStderr(async () => {
        const outer = await spinner('deploying')
        const inner = await spinner('sending deploy ImoToken')
        inner.succeed('deploy ImoToken: confirmed')
        outer.succeed('deployed')
        outer.stop()
        const next = await spinner('claiming')
        next.stop()
      })
      assert.equal(text, '… deploying\n✔ deployed\n… claiming\n')
    } finally {
      process.stderr.isTTY = isTTY
    }
  })
})

describe('withSpinner', () => {
  it('ends with the done line on success; on failure stops silently, rethrows, and frees the slot', async () => {
    configureUi({ json: false, quiet: false, color: false })
    const isTTY = process.stderr.isTTY
    process.stderr.isTTY = false
    try {
      const boom = new Error('RPC went away')
      let value = 0
      const text = await captureStderr(async () => {
        value = await withSpinner(
          'minting',
          async (progress) => {
            progress.update('sending')
            return 2
          },
          (n) => `minted ${n}`,
        )
        await assert.rejects(
          withSpinner(
            'minting again',
            async () => Promise.reject(boom),
            () => 'never',
          ),
          (error) => error === boom,
        )
        // the failed spinner was released: the next one is not silenced as nested
        const next = await spinner('claiming')
        next.stop()
      })
      assert.equal(value, 2)
      assert.equal(text, '… minting\n✔ minted 2\n… minting again\n… claiming\n')
    } finally {
      process.stderr.isTTY = isTTY
    }
  })
})
