/**
 * The signer step of `imo init`: where the signing key comes from. Keys and passwords are only
 * ever read through hidden prompts or from files, registered for redaction at once, and never
 * written anywhere except inside a new encrypted keystore; `.env` gets a reference (a keystore
 * path, a Foundry account name, a key or mnemonic file path), never a key or a password.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { readRegularFile } from '../util/readRegularFile.js'
import { registerSecret } from '../util/redact.js'
import type { InitPrompter } from './prompter.js'

export type SignerPlan =
  | {
      kind: 'new-keystore'
      /** Where it will be written: the project's .imo/keystores/NAME.json or ~/.foundry/keystores/NAME. */
      location: 'project' | 'foundry'
      name: string
      path: string
      privateKey: `0x${string}`
      password: string
      address: string
      generated: boolean
    }
  | { kind: 'keystore'; path: string; address?: string }
  | { kind: 'account'; name: string; path: string; address?: string }
  | { kind: 'private-key-file'; path: string; address: string }
  | { kind: 'mnemonic-file'; path: string; index: number; address: string }
  | { kind: 'devnet-account' }
  | { kind: 'none' }

/** ~/.foundry/keystores, honouring HOME like the signer does. */
export function foundryKeystoreFolder(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.HOME ?? homedir(), '.foundry', 'keystores')
}

function keystoreAddress(path: string): string | true {
  let value: { version?: unknown; crypto?: unknown; Crypto?: unknown; address?: unknown }
  let text: string
  try {
    text = readRegularFile(path, 'keystore', { maxBytes: 1024 * 1024 }).toString('utf8')
  } catch (error) {
    return (error as Error).message
  }
  try {
    value = JSON.parse(text)
  } catch {
    return `${path} is not JSON`
  }
  if ((value?.version !== 3 && value?.version !== '3') || !(value.crypto || value.Crypto))
    return `${path} is not an Ethereum V3 keystore`
  return typeof value.address === 'string' && /^(0x)?[0-9a-fA-F]{40}$/.test(value.address)
    ? `0x${value.address.replace(/^0x/, '')}`
    : true
}

async function checksum(address: string): Promise<string> {
  const { getAddress } = await import('viem')
  return getAddress(address)
}

async function askNewKeystore(ask: InitPrompter, cwd: string, env: NodeJS.ProcessEnv, defaultName: string): Promise<SignerPlan> {
  const { generatePrivateKey, privateKeyToAddress } = await import('viem/accounts')
  const { parsePrivateKey } = await import('../signer/resolveSigner.js')
  const origin = await ask.select('Key for the new keystore', [
    { name: 'generate a new key', value: 'generate' as const },
    { name: 'paste an existing private key (hidden)', value: 'paste' as const },
  ])
  let privateKey: `0x${string}`
  if (origin === 'generate') privateKey = generatePrivateKey()
  else {
    const pasted = await ask.password('Private key (hex, hidden)', {
      validate: (value) => {
        try {
          parsePrivateKey(value, 'the prompt')
          return true
        } catch (error) {
          return (error as Error).message
        }
      },
    })
    privateKey = parsePrivateKey(pasted, 'the prompt')
  }
  registerSecret(privateKey)
  const address = privateKeyToAddress(privateKey)
  const location = await ask.select('Where to keep the keystore', [
    { name: 'in this project: .imo/keystores/NAME.json', value: 'project' as const },
    { name: 'with Foundry: ~/.foundry/keystores/NAME (then --account NAME)', value: 'foundry' as const },
  ])
  const pathOf = (name: string) =>
    location === 'project' ? resolve(cwd, '.imo', 'keystores', `${name}.json`) : join(foundryKeystoreFolder(env), name)
  const name = await ask.input('Keystore name', {
    default: defaultName,
    validate: (value) => {
      const trimmed = value.trim()
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(trimmed)) return 'letters, digits, ".", "_" and "-" only'
      if (existsSync(pathOf(trimmed))) return `${pathOf(trimmed)} exists already; choose another name`
      return true
    },
  })
  const password = await ask.password('Password for the new keystore (at least 8 characters)', {
    validate: (value) => (value.length >= 8 ? true : 'at least 8 characters'),
  })
  registerSecret(password)
  await ask.password('Repeat the password', {
    validate: (value) => (value === password ? true : 'the passwords differ'),
  })
  return {
    kind: 'new-keystore',
    location,
    name,
    path: pathOf(name),
    privateKey,
    password,
    address,
    generated: origin === 'generate',
  }
}

/**
 * Asks where the signing key comes from: the operator's, or (`purpose: 'serve'`) imo serve's own key,
 * which runs for days holding its key's journal lock, so the operator's other commands need another key.
 * @param ask - the prompter.
 * @param context - working folder, environment (HOME), whether the devnet's dev account is an option,
 *   and whose key it is.
 * @returns the plan; a new keystore is only written later, after the final confirmation.
 * @example
 * import { askSigner } from './askSigner.js'
 * const plan = await askSigner(ask, { cwd: process.cwd(), devnet: true })
 * plan.kind // 'new-keystore'
 */
export async function askSigner(
  ask: InitPrompter,
  context: { cwd: string; devnet: boolean; env?: NodeJS.ProcessEnv; purpose?: 'operator' | 'serve' },
): Promise<SignerPlan> {
  const env = context.env ?? process.env
  const serve = context.purpose === 'serve'
  type Kind = SignerPlan['kind']
  const choices: { name: string; value: Kind }[] = [
    { name: 'create a new encrypted keystore (recommended)', value: 'new-keystore' },
    { name: 'a keystore file (Ethereum V3 JSON)', value: 'keystore' },
    { name: 'a Foundry account (~/.foundry/keystores/NAME)', value: 'account' },
    { name: 'a private key file', value: 'private-key-file' },
    { name: 'a mnemonic file (BIP-39)', value: 'mnemonic-file' },
  ]
  if (context.devnet && !serve)
    choices.push({ name: "the devnet's first development account (devnet only)", value: 'devnet-account' })
  choices.push({
    name: serve ? 'none: serve uses the signer above (stop it while other commands send)' : 'none for now (configure later)',
    value: 'none',
  })
  const kind = await ask.select(
    serve
      ? 'Key for imo serve, the node that fulfils paid requests: it runs until stopped and holds its key, so a key of its own (an attester that pays the fulfilment gas) lets snapshot, claim and deposit run meanwhile'
      : 'Signer (where the signing key comes from)',
    choices,
    serve ? (context.devnet ? 'none' : 'new-keystore') : context.devnet ? 'devnet-account' : 'new-keystore',
  )
  switch (kind) {
    case 'new-keystore':
      return askNewKeystore(ask, context.cwd, env, serve ? 'serve' : 'deployer')
    case 'keystore': {
      const given = await ask.input('Keystore file', {
        validate: (value) => {
          if (value.trim() === '') return 'required'
          const found = keystoreAddress(resolve(context.cwd, value.trim()))
          return found === true || found.startsWith('0x') ? true : found
        },
      })
      const path = resolve(context.cwd, given)
      const found = keystoreAddress(path)
      return { kind, path, ...(typeof found === 'string' ? { address: await checksum(found) } : {}) }
    }
    case 'account': {
      const folder = foundryKeystoreFolder(env)
      const names = existsSync(folder)
        ? readdirSync(folder, { withFileTypes: true })
            .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
            .map((entry) => entry.name)
            .sort()
        : []
      const name =
        names.length > 0
          ? await ask.select(
              `Foundry account (${folder})`,
              names.map((n) => ({ name: n, value: n })),
            )
          : await ask.input(`Foundry account name (none found in ${folder})`, {
              validate: (value) => (/^[^/\\]+$/.test(value.trim()) ? true : 'a name, not a path'),
            })
      const path = join(folder, name)
      const found = existsSync(path) ? keystoreAddress(path) : true
      return {
        kind,
        name,
        path,
        ...(typeof found === 'string' && found.startsWith('0x') ? { address: await checksum(found) } : {}),
      }
    }
    case 'private-key-file': {
      const { parsePrivateKey } = await import('../signer/resolveSigner.js')
      const { privateKeyToAddress } = await import('viem/accounts')
      const check = (value: string): true | string => {
        const path = resolve(context.cwd, value.trim())
        try {
          parsePrivateKey(readRegularFile(path, 'private key file', { maxBytes: 64 * 1024 }).toString('utf8'), path)
          return true
        } catch (error) {
          return (error as Error).message
        }
      }
      const path = resolve(context.cwd, await ask.input('Private key file', { validate: check }))
      const key = parsePrivateKey(readRegularFile(path, 'private key file', { maxBytes: 64 * 1024 }).toString('utf8'), path)
      if ((statSync(path).mode & 0o077) !== 0) {
        const { warn } = await import('../cli/ui.js')
        warn(`${path} is readable by other users; run: chmod 600 ${path}`)
      }
      return { kind, path, address: privateKeyToAddress(key) }
    }
    case 'mnemonic-file': {
      const { resolveSigner } = await import('../signer/resolveSigner.js')
      const given = await ask.input('Mnemonic file', {
        validate: (value) => (existsSync(resolve(context.cwd, value.trim())) ? true : 'no such file'),
      })
      const path = resolve(context.cwd, given)
      const index = await ask.input("Account index (m/44'/60'/0'/0/N)", {
        default: '0',
        validate: (value) => (/^\d+$/.test(value.trim()) && Number(value) < 2 ** 31 ? true : 'a whole number'),
      })
      const { account } = await resolveSigner({ mnemonicFile: path, mnemonicIndex: index }, { interactive: false })
      return { kind, path, index: Number(index), address: account.address }
    }
    default:
      return { kind }
  }
}
