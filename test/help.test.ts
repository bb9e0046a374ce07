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
import type { Command, Option } from 'commander'
import { offerOptions, queueOptions, sharedOptionGroups, sharedOriginal, zkOptions } from '../src/cli/options.js'
import { buildProgram } from '../src/cli.js'
import { commands } from '../src/commands/registry.js'
import { repoRoot, runCli } from './helpers/runCli.js'

const snapshotFolder = join(repoRoot, 'test', 'snapshots', 'help')
const program = buildProgram()
const shared = [...sharedOptionGroups, offerOptions, queueOptions, zkOptions].flatMap((group) => Object.values(group) as Option[])
const leaves = (command: Command): Command[] => (command.commands.length === 0 ? [command] : command.commands.flatMap(leaves))

describe('--help', () => {
  it('the program has commands', () => {
    assert.ok(program.commands.length > 0)
  })

  it('the registry names each command as the command names itself', () => {
    for (const [name, create] of Object.entries(commands)) assert.equal(create().name(), name)
  })

  // `imo --help` builds the commands without their per-command settings (src/cli.ts, commandsFor):
  // the snapshot was written by the CLI before that, which settled every command.
  it('imo --help matches its snapshot', async () => {
    const { code, stdout } = await runCli(['--help'], { env: { COLUMNS: '100' } })
    assert.equal(code, 0)
    const file = join(snapshotFolder, 'imo.txt')
    if (process.env.UPDATE_SNAPSHOTS) writeFileSync(file, stdout)
    assert.equal(stdout, readFileSync(file, 'utf8'), 'the program help changed: review, then UPDATE_SNAPSHOTS=1')
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
        if (twin) assert.equal(sharedOriginal(option), twin, `${command.name()} redefines ${option.long}`)
      }
    })
  }
})

describe('shared flags on every command', () => {
  it('every command accepts every shared chain, signer, transaction and deployment flag', () => {
    const everywhere = sharedOptionGroups.flatMap((group) => Object.values(group) as Option[])
    for (const command of leaves(program))
      for (const option of everywhere)
        assert.ok(
          command.options.some((own) => own.long === option.long && sharedOriginal(own) === option),
          `imo ${command.parent?.name() === 'imo' ? '' : `${command.parent?.name()} `}${command.name()} does not accept ${option.long}`,
        )
  })

  it('flags a command does not need are accepted and ignored (one .env / CI line for every command)', async () => {
    const flags = ['--rpc-url', 'http://127.0.0.1:9', '--private-key-file', 'nope.key', '--yes', '--key', 'ci-1', '--dry-run']
    const hash = await runCli(['hash', join(repoRoot, 'models', 'cppn'), ...flags, '--json'])
    assert.equal(hash.code, 0, hash.stderr)
    assert.match(JSON.parse(hash.stdout).modelHash, /^0x[0-9a-f]{64}$/)
    // verify --token gets past its flags to the RPC (exit 6: nothing listens there), not "unknown option".
    const verify = await runCli(['verify', '--token', '1', ...flags])
    assert.doesNotMatch(verify.stderr, /unknown option/)
    assert.equal(verify.code, 6, verify.stderr)
  })
})
