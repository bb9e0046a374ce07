/**
 * A causal-lm model's own chat template: the Jinja `chat_template` of its tokenizer_config.json (a
 * string, or a list of named templates whose `default` is used), rendered with `@huggingface/jinja`
 * (the Hugging Face reimplementation made for these templates) as transformers' apply_chat_template
 * does: the messages, `add_generation_prompt: true`, and the special tokens of the config. A model
 * without one gets the plain template (apiRequests.ts: plainChatPrompt).
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** Chat messages to one prompt. */
export type ChatTemplate = (messages: ReadonlyArray<{ role: string; content: string }>) => string

/**
 * The model folder's chat template, parsed, or undefined when it has none.
 * @param folder - the model's folder.
 * @throws UsageError (exit 2) when tokenizer_config.json cannot be read or its template cannot be parsed.
 * @example
 * const render = await loadChatTemplate('models/chatlm')
 * render?.([{ role: 'user', content: 'hi' }]) // '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n'
 */
export async function loadChatTemplate(folder: string): Promise<ChatTemplate | undefined> {
  const { UsageError } = await import('../errors.js')
  const file = join(folder, 'tokenizer_config.json')
  if (!existsSync(file)) return undefined
  let config: Record<string, unknown>
  try {
    config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
  } catch (error) {
    throw new UsageError(`${file} is not JSON: ${(error as Error).message}`)
  }
  const given = config.chat_template
  const source = Array.isArray(given)
    ? (given as Array<{ name?: unknown; template?: unknown }>).find((entry) => entry?.name === 'default')?.template
    : given
  if (given === undefined || given === null) return undefined
  if (typeof source !== 'string')
    throw new UsageError(`${file}: chat_template must be a string (or a list with a "default" template)`)
  const { Template } = await import('@huggingface/jinja')
  let template: InstanceType<typeof Template>
  try {
    template = new Template(source)
  } catch (error) {
    throw new UsageError(`${file}: its chat_template is not a Jinja template imo can render: ${(error as Error).message}`)
  }
  // Special tokens as the template knows them: a string, or an AddedToken object's content.
  const tokens: Record<string, string> = {}
  for (const name of ['bos_token', 'eos_token', 'unk_token', 'pad_token', 'sep_token', 'cls_token', 'mask_token']) {
    const value = config[name] as string | { content?: unknown } | undefined
    const text = typeof value === 'string' ? value : typeof value?.content === 'string' ? value.content : undefined
    if (text !== undefined) tokens[name] = text
  }
  return (messages) => template.render({ ...tokens, messages, add_generation_prompt: true })
}
