/**
 * The commander program and the one error boundary: the only code that calls process.exit.
 * Command modules are light (their heavy capabilities are imported inside their actions), so
 * `imo --help` never loads viem or onnxruntime.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { Command, CommanderError, Help } from 'commander'
import { rpcFailureKind, toImoError } from './chain/toImoError.js'
import { escapeControl } from './cli/escapeControl.js'
import { acceptSharedOptions, outputOptions } from './cli/options.js'
import { applyConfig, applyEnvFallbacks, CONFIG_FILE, loadDotenv, readConfigFile } from './cli/settings.js'
import { color, configureUi, toJson, uiSettings } from './cli/ui.js'
import { commands } from './commands/registry.js'
import { ExitCode, ImoError } from './errors.js'
import { interruptMessage, runCleanups } from './util/interrupt.js'
import { redact } from './util/redact.js'
import { version } from './version.js'

/** Which commands to build, and whether to give them their per-command settings (see inheritSettings). */
export interface NeededCommands {
  names: string[]
  settled: boolean
  /** Without settings, list the commands from the build's list (default) rather than building them. */
  fromList?: boolean
}

/**
 * The commands a command line needs built: the one it names (building all of them is about half of
 * the CLI's own start-up time). Anything else (a typo, `imo help X`, `--`, or a config file, whose
 * check reads every command's flags) needs all of them; with no command word at all (`imo --help`,
 * `--version`, a bare `imo`) no command parses or runs, so they need no per-command settings.
 * @example
 * commandsFor(['node', 'imo', '--json', 'claimable', '0x…']) // { names: ['claimable'], settled: true }
 */
export function commandsFor(argv: string[], cwd = process.cwd()): NeededCommands {
  const all = Object.keys(commands)
  const words = argv.slice(2)
  if (words.includes('--') || existsSync(resolve(cwd, CONFIG_FILE))) return { names: all, settled: true }
  const first = words.find((word) => !word.startsWith('-'))
  if (first === undefined) return { names: all, settled: false }
  return { names: Object.hasOwn(commands, first) ? [first] : all, settled: true }
}

/** Builds the program with the needed commands (default: all, settled; the help and shared-flag tests use that). */
export function buildProgram(needed: NeededCommands = { names: Object.keys(commands), settled: true }): Command {
  const program = new Command('imo')
    .description(
      'Operator tool for Initial Model Offerings: hash a model, deploy its ERC-7641 revenue-sharing token and ' +
        'ERC-7007 collection, run it locally with a proof commitment, mint, share revenue, verify.',
    )
    .version(version, '-V, --version')
    .showHelpAfterError('hint: run `imo --help` for usage')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .exitOverride()
    .configureOutput(commanderOutput)
  for (const option of Object.values(outputOptions)) program.addOption(option)
  program.hook('preAction', (root, action) => {
    const globals = action.optsWithGlobals() as { json?: boolean; quiet?: boolean; verbose?: boolean; color?: boolean }
    configureUi({
      json: Boolean(globals.json),
      quiet: Boolean(globals.quiet),
      verbose: Boolean(globals.verbose),
      color: globals.color !== false && !process.env.NO_COLOR,
    })
    applyEnvFallbacks(action)
    applyConfig(action, readConfigFile())
    void root
  })
  const listed = needed.settled || needed.fromList === false ? undefined : builtCommandList()
  if (listed) listCommandsFrom(program, listed)
  for (const name of needed.names) {
    // Only the program help will read these: the name stands in for the command the build listed.
    if (listed?.has(name)) {
      program.addCommand(new Command(name))
      continue
    }
    const command = commands[name]!()
    program.addCommand(command)
    // The program's help lists `[options]` for a command with any option, hidden shared ones included:
    // a command with none of its own gets them even when nothing will run.
    if (needed.settled || (command.commands.length === 0 && command.options.length === 0)) inheritSettings(command, program)
  }
  program.addHelpText(
    'after',
    `
Examples:
  $ imo demo                                  # the whole loop on a local chain with the bundled model
  $ imo hash ./models/cppn                    # model hash and manifest
  $ imo deploy --model ./models/cppn --name "Pattern Model" --symbol PAT --supply 1000000
  $ imo infer-and-mint "a red spiral"
  $ imo claim --json

Settings: flag > environment (IMO_*) > .env > imo.config.json > prompt (terminal only) > default.
Exit codes: 0 ok, 1 internal, 2 usage/input needed, 3 simulation reverted (nothing sent),
  4 reverted on chain, 5 sent but not confirmed (re-run resumes), 6 RPC unreachable/wrong chain,
  7 nonce conflict, 8 insufficient funds, 9 verification failed, 10 unverified (a check could
  not run), 130 interrupted.`,
  )
  return program
}

/** A command's line in the program help: its name, its term (`hash [options] <PATH>`) and its description. */
export type CommandListEntry = readonly [name: string, term: string, description: string]

/**
 * Every command's line in the program help, from the commands themselves. The build
 * (scripts/build.mjs) runs it and bakes the result into dist/cli.cjs, so `imo --help` and `--version`
 * build none of the commands (about a third of the CLI's own start-up time).
 * @example
 * commandList()[0] // ['demo', 'demo [options]', 'the whole loop on a local chain ...']
 */
export function commandList(): CommandListEntry[] {
  const program = buildProgram({ names: Object.keys(commands), settled: false, fromList: false })
  const help = program.createHelp()
  return program.commands.map((command) => [command.name(), help.subcommandTerm(command), help.subcommandDescription(command)])
}

/** The list the build baked in (see commandList), or undefined when running from the sources. */
declare const __IMO_COMMAND_LIST__: CommandListEntry[] | undefined
function builtCommandList(): Map<string, CommandListEntry> | undefined {
  if (typeof __IMO_COMMAND_LIST__ === 'undefined') return undefined
  return new Map(__IMO_COMMAND_LIST__.map((entry) => [entry[0], entry]))
}

/** The program help takes the listed commands' terms and descriptions from the list. */
function listCommandsFrom(program: Command, listed: Map<string, CommandListEntry>): void {
  const plain = new Help()
  program.configureHelp({
    ...program.configureHelp(),
    subcommandTerm: (command: Command) => listed.get(command.name())?.[1] ?? plain.subcommandTerm(command),
    subcommandDescription: (command: Command) => listed.get(command.name())?.[2] ?? plain.subcommandDescription(command),
  })
}

/** Commander's own errors quote what was typed (`unknown option '…'`): escaped like every other output. */
const commanderOutput = {
  writeErr: (text: string) => process.stderr.write(escapeControl(redact(text), { keepNewlines: true })),
  outputError: (text: string, write: (text: string) => void) => write(text),
}

/**
 * addCommand() does not pass the program's settings down: give every (sub)command the exit override,
 * the global flags (--json, --quiet, ...) in its --help, and a `hint:` line after a usage error.
 */
function inheritSettings(command: Command, parent: Command): void {
  command.exitOverride()
  command.configureOutput(commanderOutput)
  command.configureHelp({ ...parent.configureHelp(), ...command.configureHelp() })
  const path = []
  for (let at: Command | null = command; at; at = at.parent) path.unshift(at.name())
  command.showHelpAfterError(`hint: run \`${path.join(' ')} --help\` for usage`)
  if (command.commands.length === 0) acceptSharedOptions(command)
  for (const sub of command.commands) inheritSettings(sub, command)
}

/** True when the command line asks for --json (read before parsing, for commander's own usage errors). */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--')
  return (end === -1 ? argv : argv.slice(0, end)).slice(2).includes('--json')
}

/** Turns any error into the one-line message, optional details, and an exit code. */
export function reportError(thrown: unknown): number {
  const { json, verbose } = uiSettings()
  if (thrown instanceof CommanderError) {
    // Commander already printed its message (or the help) on stderr.
    if (thrown.code === 'commander.helpDisplayed' || thrown.code === 'commander.version' || thrown.exitCode === 0) return 0
    if (json) {
      const message =
        thrown.code === 'commander.help' ? 'missing command (the help is on stderr)' : thrown.message.replace(/^error: /, '')
      process.stdout.write(`${toJson({ error: { name: 'UsageError', message, exitCode: ExitCode.Usage } })}\n`)
    }
    return ExitCode.Usage
  }
  // An RPC failure a command did not convert (a raw read) is still exit 6, not an internal error.
  const error = !(thrown instanceof ImoError) && rpcFailureKind(thrown) !== undefined ? toImoError(thrown) : thrown
  const known = error instanceof ImoError
  const exitCode = known ? error.exitCode : ExitCode.Internal
  const message = known ? error.shortMessage : `internal error: ${(error as Error)?.message ?? String(error)}`
  // Messages quote input (file lines, prompts, texts from Redis): escaped before any colour is added,
  // the message and hint whole (one line each), details and stacks keeping their line breaks.
  const line = (text: string) => escapeControl(redact(text))
  const block = (text: string) => escapeControl(redact(text), { keepNewlines: true })
  const lines = [`${color.red('error:')} ${line(message)}`]
  if (known && error.hint) lines.push(`${color.dim('hint:')} ${line(error.hint)}`)
  if (!known) lines.push(`${color.dim('hint:')} this is a bug in imo; re-run with --verbose and report the output`)
  if (verbose) {
    if (known && error.details) lines.push(block(error.details))
    let cause: unknown = error
    while (cause) {
      if (cause instanceof Error && cause.stack) lines.push(color.dim(block(cause.stack)))
      cause = (cause as { cause?: unknown }).cause
    }
  }
  process.stderr.write(`${lines.join('\n')}\n`)
  if (json) {
    const body = {
      error: {
        name: known ? error.name : 'InternalError',
        message,
        exitCode,
        ...(known && error.details ? { details: error.details } : {}),
        ...(known && error.hint ? { hint: error.hint } : {}),
      },
      ...(known && error.data !== undefined ? { result: error.data } : {}),
    }
    process.stdout.write(`${redact(toJson(body))}\n`)
  }
  return exitCode
}

/** Entry point used by bin/imo.cjs through dist/cli.cjs. */
export async function main(argv: string[] = process.argv): Promise<never> {
  let interrupted = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(ExitCode.Interrupted)
    interrupted = true
    void runCleanups().then((code) => {
      if (code !== 0) process.stderr.write(`\n${color.yellow(interruptMessage(signal))}\n`)
      void flushStdio().then(() => process.exit(code))
    })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  // A reader that went away (`| head`) leaves the rest of the output nowhere to go; not a crash.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {})
  let exitCode = 0
  try {
    configureUi({ json: wantsJson(argv) })
    await loadDotenv()
    await buildProgram(commandsFor(argv)).parseAsync(argv)
  } catch (error) {
    exitCode = reportError(error)
  }
  await flushStdio()
  process.exit(exitCode)
}

/**
 * Resolves once everything written to stdout and stderr has left the process. Writes to a pipe are
 * asynchronous, and process.exit drops what is still queued: a --json document over 64 KiB read by a
 * slow reader (`| jq`, a parent process) was cut short.
 * @example
 * await flushStdio()
 * process.exit(0)
 */
function flushStdio(): Promise<void> {
  const flush = (stream: NodeJS.WriteStream) =>
    new Promise<void>((resolve) => {
      if (stream.destroyed || stream.writableLength === 0) return resolve()
      stream.write('', () => resolve())
    })
  return Promise.all([flush(process.stdout), flush(process.stderr)]).then(() => undefined)
}
