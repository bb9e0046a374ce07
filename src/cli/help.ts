import type { Command } from 'commander'

/**
 * Appends an `Examples:` section to a command's --help (every command has at least one).
 * @example
 * withExamples(cmd, ['imo hash ./model.onnx', 'imo hash ./model --manifest model.manifest --json'])
 */
export function withExamples(command: Command, examples: string[]): Command {
  const lines = examples.map((example) => `  $ ${example}`).join('\n')
  return command.addHelpText('after', `\nExamples:\n${lines}\n`)
}
