/**
 * --help is documentation: every command has examples, and its text is snapshot-tested so a change
 * to a flag or a description is a deliberate, reviewed change (UPDATE_SNAPSHOTS=1 rewrites them;
 * a missing snapshot is written on a developer's machine and is a failure in CI).
 * Also checks the cast habit: shared flags are the very same Option objects on every command.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { Option } from 'commander'
import { deploymentOptions, offerOptions, queueOptions, rpcOptions, signerOptions, txOptions } from '../src/cli/options.js'
import { buildProgram } from '../src/cli.js'
import { repoRoot, runCli } from './helpers/runCli.js'

const snapshotFolder = join(repoRoot, 'test', 'snapshots', 'help')
const program = buildProgram()
const shared = [rpcOptions, signerOptions, txOptions, deploymentOptions, offerOptions, queueOptions].flatMap(
  (group) => Object.values(group) as Option[],
)

describe('--help', () => {
  it('the program has commands', () => {
    assert.ok(program.commands.length > 0)
  })

  // Commands and their subcommands (`imo offer buy`), each with its own snapshot (`offer-buy.txt`).
  const all = program.commands.flatMap((command) => [
    { command, path: [command.name()] },
    ...command.commands.map((sub) => ({ command: sub, path: [command.name(), sub.name()] })),
  ])
  for (const { command, path } of all) {
    it(`imo ${path.join(' ')} --help matches its snapshot and has examples`, async () => {
      const { code, stdout } = await runCli([...path, '--help'], { env: { COLUMNS: '100' } })
      assert.equal(code, 0)
      assert.match(stdout, /Examples:\n {2}\$ imo /)
      const file = join(snapshotFolder, `${path.join('-')}.txt`)
      if (process.env.UPDATE_SNAPSHOTS || (!existsSync(file) && !process.env.CI)) {
        mkdirSync(snapshotFolder, { recursive: true })
        writeFileSync(file, stdout)
      }
      assert.equal(stdout, readFileSync(file, 'utf8'), `help of ${path.join(' ')} changed: review, then UPDATE_SNAPSHOTS=1`)
    })

    it(`imo ${path.join(' ')} uses the shared flag objects`, () => {
      for (const option of command.options) {
        const twin = shared.find((candidate) => candidate.long === option.long)
        if (twin) assert.equal(option, twin, `${command.name()} redefines ${option.long}`)
      }
    })
  }
})
