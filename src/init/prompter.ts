/**
 * The questions `imo init` asks, behind a small interface: the wizard talks to an InitPrompter,
 * which is inquirer on a terminal (prompts drawn on stderr so stdout stays for the result) and a
 * scripted answer list in unit tests. Ctrl-C in a prompt becomes an InterruptedError (exit 130).
 */
import { InterruptedError } from '../errors.js'

export interface Choice<T> {
  name: string
  value: T
  description?: string
}

export interface InitPrompter {
  /** A line of text; `validate` returns true or the message to show. */
  input(message: string, options?: { default?: string; validate?: (value: string) => true | string }): Promise<string>
  /** Hidden input, echoed as `*`. */
  password(message: string, options?: { validate?: (value: string) => true | string }): Promise<string>
  select<T>(message: string, choices: Choice<T>[], defaultValue?: T): Promise<T>
  confirm(message: string, defaultValue?: boolean): Promise<boolean>
}

/**
 * Inquirer-backed prompter drawing on stderr; inquirer is loaded here, lazily.
 * @returns the prompter `imo init` uses on a terminal.
 * @example
 * import { createInquirerPrompter } from './prompter.js'
 * const ask = await createInquirerPrompter()
 * const name = await ask.input('Token name', { default: 'Pattern Model' })
 */
export async function createInquirerPrompter(): Promise<InitPrompter> {
  const { createPromptModule } = await import('inquirer')
  const prompt = createPromptModule({ output: process.stderr })
  // biome-ignore lint/suspicious/noExplicitAny: inquirer's question union is too wide to spell here
  const one = async <T>(question: any): Promise<T> => {
    try {
      const answers = (await prompt([{ ...question, name: 'value' }])) as { value: T }
      return answers.value
    } catch (error) {
      if ((error as Error)?.name === 'ExitPromptError') throw new InterruptedError('imo init interrupted; nothing was written')
      throw error
    }
  }
  return {
    input: (message, options = {}) =>
      one<string>({
        type: 'input',
        message,
        ...(options.default !== undefined ? { default: options.default } : {}),
        ...(options.validate ? { validate: options.validate } : {}),
      }).then((value) => value.trim()),
    password: (message, options = {}) =>
      one<string>({ type: 'password', message, mask: '*', ...(options.validate ? { validate: options.validate } : {}) }),
    select: <T>(message: string, choices: Choice<T>[], defaultValue?: T) =>
      one<T>({ type: 'select', message, choices, ...(defaultValue !== undefined ? { default: defaultValue } : {}) }),
    confirm: (message, defaultValue = true) => one<boolean>({ type: 'confirm', message, default: defaultValue }),
  }
}
