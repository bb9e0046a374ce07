/**
 * Last line of defence for secrets: every value registered here is replaced by `***` in anything
 * the CLI prints (messages, errors, JSON). Signers register keys, passwords and mnemonics as soon
 * as they read them, so even an unexpected error that quotes its input cannot leak one.
 */
const secrets = new Set<string>()

/**
 * Registers a secret (and its 0x-less / 0x-prefixed twin for hex keys) for redaction.
 * @example
 * import { registerSecret, redact } from './util/redact.js'
 * registerSecret('0xac09...')
 * redact('bad key 0xac09...') // 'bad key ***'
 */
export function registerSecret(secret: string): void {
  const value = secret.trim()
  if (value.length < 6) return // too short to redact without mangling ordinary text
  secrets.add(value)
  // Key material in other notations too (viem prints an invalid key in decimal).
  if (/^(0x)?[0-9a-fA-F]{64}$/.test(value)) secrets.add(BigInt(`0x${value.replace(/^0x/, '')}`).toString())
  if (/^0x[0-9a-fA-F]+$/.test(value)) secrets.add(value.slice(2))
  else if (/^[0-9a-fA-F]{32,}$/.test(value)) secrets.add(`0x${value}`)
  for (const word of value.split(/\s+/)) if (word.length >= 12) secrets.add(word)
}

/** Replaces every registered secret in `text` by `***` (case-insensitively for hex). */
export function redact(text: string): string {
  let out = text
  for (const secret of secrets) {
    if (!out.toLowerCase().includes(secret.toLowerCase())) continue
    out = out.replace(new RegExp(secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), '***')
  }
  return out
}

/**
 * Registers the parts of an RPC URL that may hold an API key (user name, password, path, query) as
 * secrets, so an error that quotes the whole URL (viem puts it in its messages) prints only the
 * scheme, host and port. Call it as soon as a URL is read.
 * @example
 * registerUrlSecrets('https://mainnet.infura.io/v3/KEY')
 * redact('POST https://mainnet.infura.io/v3/KEY failed') // 'POST https://mainnet.infura.io*** failed'
 */
export function registerUrlSecrets(url: string): void {
  let parsed: URL
  try {
    parsed = new URL(url.trim())
  } catch {
    return
  }
  if (parsed.username || parsed.password) {
    secrets.add(`${parsed.username}${parsed.password ? `:${parsed.password}` : ''}@`)
    if (parsed.password.length >= 6) secrets.add(parsed.password)
    if (parsed.username.length >= 12) secrets.add(parsed.username)
  }
  for (const text of [url.trim(), parsed.href]) {
    const at = text.indexOf(parsed.host)
    const rest = at >= 0 ? text.slice(at + parsed.host.length) : ''
    if (rest.length >= 6) secrets.add(rest) // shorter paths (`/rpc`) hold no key, and would mangle ordinary text
  }
}
