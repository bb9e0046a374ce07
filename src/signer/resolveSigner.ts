/**
 * Turns the signer flags into a viem LocalAccount. Sources (README "Settings, signers and chains"): IMO_PRIVATE_KEY /
 * --private-key (warned when typed on the command line), --private-key-file, --keystore FILE,
 * --account NAME (~/.foundry/keystores/NAME), --mnemonic-file with --mnemonic-index. Every secret
 * is registered for redaction the moment it is read, before it is validated, so no error can echo it.
 */
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { LocalAccount } from 'viem'
import { InputNeededError, UsageError } from '../errors.js'
import { readRegularFile } from '../util/readRegularFile.js'
import { registerSecret } from '../util/redact.js'
import { isValidPrivateKey } from './keystore.js'

export interface SignerOptionValues {
  privateKey?: string
  privateKeyFile?: string
  keystore?: string
  account?: string
  passwordFile?: string
  mnemonicFile?: string
  mnemonicIndex?: string
}

export interface ResolveSignerOptions {
  /** commander getOptionValueSource: 'cli' | 'env' | 'config' | 'default' | undefined. */
  sources?: (key: string) => string | undefined
  /** Called with a warning text (e.g. key typed on the command line). */
  warn?: (message: string) => void
  /** Whether a person can be asked (password prompt). */
  interactive?: boolean
  /** Fallback when no source is given (the devnet's first dev account). */
  fallback?: () => LocalAccount | undefined
  /** Environment (tests). */
  env?: NodeJS.ProcessEnv
}

export type SignerSource = 'private-key' | 'private-key-file' | 'keystore' | 'account' | 'mnemonic-file'

const flagOf: Record<SignerSource, [keyof SignerOptionValues, string]> = {
  'private-key': ['privateKey', '--private-key'],
  'private-key-file': ['privateKeyFile', '--private-key-file'],
  keystore: ['keystore', '--keystore'],
  account: ['account', '--account'],
  'mnemonic-file': ['mnemonicFile', '--mnemonic-file'],
}

const rank = (source: string | undefined): number =>
  source === 'cli' ? 0 : source === 'env' ? 1 : source === 'config' ? 2 : source === 'implied' ? 3 : 1

/** Reads a secret file and registers its value for redaction; `clean` trims it (a password keeps its inner spaces). */
function readSecretFile(path: string, what: string, clean = (text: string) => text.trim()): string {
  const text = readRegularFile(path, `the ${what} file`, { maxBytes: 64 * 1024 }).toString('utf8')
  registerSecret(text)
  const value = clean(text)
  registerSecret(value)
  return value
}

/**
 * Parses a hex private key (with or without 0x); never quotes the input in its errors.
 * @param key - the candidate key, already registered as a secret.
 * @param where - where it came from, for the error message.
 * @returns the 0x-prefixed lowercase key.
 * @example
 * parsePrivateKey('ac09…ff80', 'IMO_PRIVATE_KEY') // '0xac09…ff80'
 */
export function parsePrivateKey(key: string, where: string): `0x${string}` {
  registerSecret(key)
  const hex = key.trim().replace(/^0x/i, '')
  if (!/^[0-9a-fA-F]{64}$/.test(hex))
    throw new UsageError(`the private key from ${where} is malformed: expected 32 bytes as 64 hex digits`)
  if (!isValidPrivateKey(hex)) throw new UsageError(`the private key from ${where} is not a valid secp256k1 key`)
  return `0x${hex.toLowerCase()}`
}

/**
 * viem's account for a key, with any error replaced at the source: viem's messages quote the key
 * (in decimal, which redaction of the hex form would miss), and no cause is kept for --verbose.
 */
async function accountOf(key: `0x${string}`, where: string): Promise<LocalAccount> {
  const { privateKeyToAccount } = await import('viem/accounts')
  try {
    return privateKeyToAccount(key)
  } catch {
    throw new UsageError(`the private key from ${where} is not usable`)
  }
}

async function readPassword(values: SignerOptionValues, options: ResolveSignerOptions, file: string): Promise<string> {
  const env = options.env ?? process.env
  if (values.passwordFile) return readSecretFile(values.passwordFile, 'password', (text) => text.replace(/\r?\n$/, ''))
  const fromEnv = env.IMO_KEYSTORE_PASSWORD
  if (fromEnv !== undefined) {
    registerSecret(fromEnv)
    return fromEnv
  }
  if (!options.interactive)
    throw new InputNeededError('--password-file', `the password for keystore ${file}`, 'IMO_KEYSTORE_PASSWORD')
  const { default: inquirer } = await import('inquirer')
  const answer = await inquirer.prompt<{ password: string }>([
    { type: 'password', name: 'password', message: `Password for ${file}:`, mask: '*' },
  ])
  registerSecret(answer.password)
  return answer.password
}

async function fromMnemonic(values: SignerOptionValues): Promise<LocalAccount> {
  const file = values.mnemonicFile as string
  const phrase = readSecretFile(file, 'mnemonic').normalize('NFKD').split(/\s+/).filter(Boolean).join(' ')
  registerSecret(phrase)
  const [{ validateMnemonic }, { wordlist }, { mnemonicToAccount }] = await Promise.all([
    import('@scure/bip39'),
    import('@scure/bip39/wordlists/english'),
    import('viem/accounts'),
  ])
  const words = phrase.split(' ')
  const known = new Set(wordlist)
  if (![12, 15, 18, 21, 24].includes(words.length) || words.some((word) => !known.has(word)))
    throw new UsageError(`the mnemonic in ${file} is malformed: expected 12-24 words of the BIP-39 English list`)
  // Words and count are right here, so a false is the BIP-39 checksum (last word).
  if (!validateMnemonic(phrase, wordlist)) throw new UsageError(`the mnemonic in ${file} has a bad checksum`)
  const indexText = values.mnemonicIndex ?? '0'
  if (!/^\d+$/.test(indexText) || Number(indexText) > 2 ** 31 - 1)
    throw new UsageError(`--mnemonic-index must be a whole number from 0 to 2147483647, not "${indexText}"`)
  try {
    return mnemonicToAccount(phrase, { addressIndex: Number(indexText) })
  } catch {
    throw new UsageError(`the mnemonic in ${file} gives no usable key at index ${indexText}`)
  }
}

/**
 * The keystore file named by --keystore FILE or --account NAME (~/.foundry/keystores/NAME), checked to
 * exist; undefined when neither is given. `kind` says which of the two was chosen when both are set.
 * @throws UsageError (exit 2) for a missing file or an --account that is a path.
 * @example
 * keystoreFileOf({ account: 'deployer' }) // '/home/me/.foundry/keystores/deployer'
 */
export function keystoreFileOf(
  values: SignerOptionValues,
  env: NodeJS.ProcessEnv = process.env,
  kind: 'keystore' | 'account' = values.keystore ? 'keystore' : 'account',
): string | undefined {
  if (kind === 'keystore' && values.keystore) {
    if (!existsSync(values.keystore)) throw new UsageError(`keystore ${values.keystore} does not exist`)
    return values.keystore
  }
  if (!values.account) return undefined
  if (values.account.includes('/'))
    throw new UsageError('--account takes a keystore name under ~/.foundry/keystores, not a path (use --keystore FILE)')
  const file = join(env.HOME ?? homedir(), '.foundry', 'keystores', values.account)
  if (!existsSync(file)) throw new UsageError(`no Foundry keystore named "${values.account}" (${file} does not exist)`)
  return file
}

/**
 * The address a V3 keystore declares in its (optional, unauthenticated) `address` field, read
 * without the password; undefined when the file has none. Good for showing whose balance a read
 * is about, never for signing.
 * @example
 * keystoreAddressOf({ keystore: 'operator.json' }) // '0xf39F…2266'
 */
export function keystoreAddressOf(values: SignerOptionValues, env?: NodeJS.ProcessEnv): string | undefined {
  const file = keystoreFileOf(values, env)
  if (!file) return undefined
  try {
    const text = readRegularFile(file, 'the keystore', { maxBytes: 1024 * 1024 }).toString('utf8')
    const address = (JSON.parse(text) as { address?: unknown }).address
    if (typeof address !== 'string') return undefined
    const hex = address.startsWith('0x') ? address.slice(2) : address
    return /^[0-9a-fA-F]{40}$/.test(hex) ? `0x${hex}` : undefined
  } catch {
    return undefined // not JSON: resolveSigner reports it properly
  }
}

/**
 * Resolves the one signer the flags describe.
 * @param values - the signer option values (commander opts()).
 * @param options - value sources, warning sink, interactivity, fallback.
 * @returns the account and which source gave it.
 * @throws UsageError (exit 2) for malformed keys, wrong passwords, several sources, or none while non-interactive.
 * @example
 * import { resolveSigner } from './resolveSigner.js'
 * const { account } = await resolveSigner({ privateKeyFile: 'key.txt' })
 * account.address // '0xf39F…2266'
 */
export async function resolveSigner(
  values: SignerOptionValues,
  options: ResolveSignerOptions = {},
): Promise<{ account: LocalAccount; source: SignerSource | 'fallback' | 'prompt' }> {
  // Register every secret value first, whatever happens next.
  if (values.privateKey) registerSecret(values.privateKey)
  const given = (Object.keys(flagOf) as SignerSource[]).filter((source) => {
    const value = values[flagOf[source][0]]
    return typeof value === 'string' && value.length > 0
  })
  let chosen: SignerSource | undefined
  if (given.length > 0) {
    const ranked = given.map((source) => ({ source, rank: rank(options.sources?.(flagOf[source][0])) }))
    const best = Math.min(...ranked.map((entry) => entry.rank))
    const top = ranked.filter((entry) => entry.rank === best)
    if (top.length > 1)
      throw new UsageError(`several signers given (${top.map((entry) => flagOf[entry.source][1]).join(', ')}): pass only one`)
    chosen = top[0]!.source
  }
  switch (chosen) {
    case 'private-key': {
      const source = options.sources?.('privateKey')
      const where = source === 'cli' ? '--private-key' : source === 'config' ? 'imo.config.json' : 'IMO_PRIVATE_KEY'
      if (source === 'cli')
        options.warn?.(
          'a private key on the command line is visible to other users (process list, shell history); prefer IMO_PRIVATE_KEY, --private-key-file or a keystore',
        )
      return { account: await accountOf(parsePrivateKey(values.privateKey as string, where), where), source: chosen }
    }
    case 'private-key-file': {
      const file = values.privateKeyFile as string
      const key = readSecretFile(file, 'private key')
      return { account: await accountOf(parsePrivateKey(key, file), file), source: chosen }
    }
    case 'keystore':
    case 'account': {
      const file = keystoreFileOf(values, options.env, chosen)!
      const text = readRegularFile(file, 'the keystore', { maxBytes: 1024 * 1024 }).toString('utf8')
      const password = await readPassword(values, options, file)
      const { decryptKeystore } = await import('./keystore.js')
      const key = await decryptKeystore(text, password, file)
      return { account: await accountOf(key, file), source: chosen }
    }
    case 'mnemonic-file':
      return { account: await fromMnemonic(values), source: chosen }
    default: {
      const fallback = options.fallback?.()
      if (fallback) return { account: fallback, source: 'fallback' }
      if (!options.interactive)
        throw new InputNeededError('--private-key-file, --keystore, --account or --mnemonic-file', 'signer', 'IMO_PRIVATE_KEY')
      const { default: inquirer } = await import('inquirer')
      const answer = await inquirer.prompt<{ key: string }>([
        { type: 'password', name: 'key', message: 'Private key (hidden; better: --keystore or --account):', mask: '*' },
      ])
      registerSecret(answer.key)
      return { account: await accountOf(parsePrivateKey(answer.key, 'the prompt'), 'the prompt'), source: 'prompt' }
    }
  }
}
