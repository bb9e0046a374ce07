/**
 * Ethereum V3 JSON keystores (Web3 Secret Storage Definition) on audited primitives only:
 * node:crypto's scrypt / pbkdf2 / aes-128-ctr, and viem's keccak256 for the MAC, compared in
 * constant time. KDF parameters are capped so a hostile file cannot exhaust memory or time.
 */
import { createCipheriv, createDecipheriv, pbkdf2, randomBytes, randomUUID, scrypt, timingSafeEqual } from 'node:crypto'
import { UsageError } from '../errors.js'
import { registerSecret } from '../util/redact.js'

/**
 * KDF caps: the largest parameters real wallets write, so a hostile keystore cannot take minutes of
 * CPU or gigabytes of memory. geth's standard scrypt is n=2^18, r=8, p=1 (256 MiB) and its light
 * setting n=2^12, r=8, p=6; ethers and MetaMask's exports write n=2^17 or 2^18 with r=8, p=1;
 * Foundry (eth-keystore) n=2^13, r=8, p=1; the Web3 Secret Storage vector n=2^18, r=1, p=8.
 */
export const MAX_SCRYPT_N = 2 ** 18
/** Largest scrypt block size r accepted. */
export const MAX_SCRYPT_R = 8
/** Largest scrypt parallelism p accepted. */
export const MAX_SCRYPT_P = 8
/** Largest scrypt work n * r * p accepted (geth's standard and the spec vector both sit at 2^21). */
export const MAX_SCRYPT_WORK = 2 ** 21
/** Largest memory scrypt may use (128 * n * r bytes): 256 MiB, geth's standard. */
export const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024
/** Largest PBKDF2 iteration count accepted (the spec vector and geth use 262144; MetaMask's vault 900000). */
export const MAX_PBKDF2_ITERATIONS = 1_000_000

const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

/**
 * True when `hex` (32 bytes, 0x optional) is a usable secp256k1 private key: from 1 to the curve order - 1.
 * @example
 * isValidPrivateKey('0x' + '00'.repeat(32)) // false
 */
export function isValidPrivateKey(hex: string): boolean {
  const digits = hex.replace(/^0x/i, '')
  if (!/^[0-9a-fA-F]{64}$/.test(digits)) return false
  const value = BigInt(`0x${digits}`)
  return value > 0n && value < SECP256K1_ORDER
}

export interface KeystoreV3 {
  version: 3
  id: string
  address?: string
  crypto: {
    cipher: 'aes-128-ctr'
    cipherparams: { iv: string }
    ciphertext: string
    kdf: 'scrypt' | 'pbkdf2'
    kdfparams: Record<string, unknown>
    mac: string
  }
}

const hexPattern = /^(0x)?[0-9a-fA-F]*$/

const formatMiB = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`

function hexField(value: unknown, name: string, source: string, bytes?: number): Buffer {
  if (typeof value !== 'string' || !hexPattern.test(value) || value.replace(/^0x/, '').length % 2 !== 0)
    throw new UsageError(`keystore ${source} is malformed: ${name} is not hex`)
  const buffer = Buffer.from(value.replace(/^0x/, ''), 'hex')
  if (bytes !== undefined && buffer.length !== bytes)
    throw new UsageError(`keystore ${source} is malformed: ${name} must be ${bytes} bytes`)
  return buffer
}

function intField(value: unknown, name: string, source: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
    throw new UsageError(`keystore ${source} is malformed: kdfparams.${name} must be a positive integer`)
  return value
}

async function deriveKey(
  password: string,
  kdf: unknown,
  params: Record<string, unknown>,
  source: string,
): Promise<{ key: Buffer; dklen: number }> {
  const salt = hexField(params.salt, 'kdfparams.salt', source)
  const dklen = intField(params.dklen, 'dklen', source)
  if (dklen < 32 || dklen > 64) throw new UsageError(`keystore ${source} is malformed: dklen must be 32..64`)
  const pass = Buffer.from(password.normalize('NFKC'), 'utf8')
  if (kdf === 'scrypt') {
    const n = intField(params.n, 'n', source)
    const r = intField(params.r, 'r', source)
    const p = intField(params.p, 'p', source)
    if (!Number.isInteger(Math.log2(n)) || n < 2) throw new UsageError(`keystore ${source}: scrypt n must be a power of two`)
    const refused = [
      n > MAX_SCRYPT_N && `n above 2^${Math.log2(MAX_SCRYPT_N)}`,
      r > MAX_SCRYPT_R && `r above ${MAX_SCRYPT_R}`,
      p > MAX_SCRYPT_P && `p above ${MAX_SCRYPT_P}`,
      n * r * p > MAX_SCRYPT_WORK && `work n*r*p above 2^${Math.log2(MAX_SCRYPT_WORK)}`,
      128 * n * r > MAX_SCRYPT_MEMORY && `memory ${formatMiB(128 * n * r)} above ${formatMiB(MAX_SCRYPT_MEMORY)}`,
    ].filter(Boolean)
    if (refused.length > 0)
      throw new UsageError(
        `keystore ${source} asks for scrypt n=2^${Math.log2(n)} r=${r} p=${p}, refused: ${refused.join(', ')}`,
        {
          hint: "real wallets write at most geth's standard n=2^18 r=8 p=1; re-encrypt the key with those (e.g. `cast wallet import`)",
        },
      )
    // OpenSSL (node:crypto) enforces RFC 7914's n < 2^(16 r); V3 keystores in the wild (the spec's own
    // vector: n = 2^18, r = 1) break it, so those go to @noble/hashes' audited scrypt (viem's dependency).
    if (n >= 2 ** Math.min(16 * r, 52)) {
      const { scryptAsync } = await import('@noble/hashes/scrypt')
      const key = Buffer.from(
        await scryptAsync(pass, salt, { N: n, r, p, dkLen: dklen, maxmem: 128 * n * r * p + 64 * 1024 * 1024 }),
      )
      return { key, dklen }
    }
    const key = await new Promise<Buffer>((resolve, reject) =>
      scrypt(pass, salt, dklen, { N: n, r, p, maxmem: 128 * n * r * p + 64 * 1024 * 1024 }, (error, derived) =>
        error ? reject(error) : resolve(derived),
      ),
    )
    return { key, dklen }
  }
  if (kdf === 'pbkdf2') {
    if (params.prf !== 'hmac-sha256') throw new UsageError(`keystore ${source}: unsupported pbkdf2 prf (need hmac-sha256)`)
    const c = intField(params.c, 'c', source)
    if (c > MAX_PBKDF2_ITERATIONS)
      throw new UsageError(`keystore ${source} asks for pbkdf2 c=${c}, refused: more than ${MAX_PBKDF2_ITERATIONS} iterations`, {
        hint: "real wallets write at most a few hundred thousand; re-encrypt the key (e.g. with geth's standard scrypt)",
      })
    const key = await new Promise<Buffer>((resolve, reject) =>
      pbkdf2(pass, salt, c, dklen, 'sha256', (error, derived) => (error ? reject(error) : resolve(derived))),
    )
    return { key, dklen }
  }
  throw new UsageError(`keystore ${source}: unsupported kdf ${JSON.stringify(String(kdf)).slice(0, 40)} (need scrypt or pbkdf2)`)
}

/**
 * Decrypts an Ethereum V3 keystore and returns its 32-byte private key as 0x-hex (registered as a secret).
 * @param json - the keystore file's text or parsed object.
 * @param password - the password (registered as a secret by the caller).
 * @param source - how to name the keystore in errors (a file path).
 * @returns the private key.
 * @throws UsageError for a wrong password (MAC mismatch), malformed files and excessive KDF parameters.
 * @example
 * import { decryptKeystore } from './keystore.js'
 * const key = await decryptKeystore(readFileSync('key.json', 'utf8'), 'testpassword', 'key.json')
 * // '0x7a28…fe9d'
 */
export async function decryptKeystore(json: string | object, password: string, source = 'file'): Promise<`0x${string}`> {
  let parsed: unknown
  try {
    parsed = typeof json === 'string' ? JSON.parse(json) : json
  } catch {
    throw new UsageError(`keystore ${source} is not valid JSON`)
  }
  const root = parsed as Record<string, unknown>
  const crypto = (root?.crypto ?? root?.Crypto) as Record<string, unknown> | undefined
  if (!crypto || typeof crypto !== 'object' || (root.version !== 3 && root.version !== '3'))
    throw new UsageError(`keystore ${source} is not an Ethereum V3 keystore`)
  if (crypto.cipher !== 'aes-128-ctr') throw new UsageError(`keystore ${source}: unsupported cipher (need aes-128-ctr)`)
  const iv = hexField((crypto.cipherparams as Record<string, unknown> | undefined)?.iv, 'cipherparams.iv', source, 16)
  const ciphertext = hexField(crypto.ciphertext, 'ciphertext', source)
  const mac = hexField(crypto.mac, 'mac', source, 32)
  const params = crypto.kdfparams
  if (!params || typeof params !== 'object') throw new UsageError(`keystore ${source} is malformed: no kdfparams`)
  const { key } = await deriveKey(password, crypto.kdf, params as Record<string, unknown>, source)
  const { keccak256 } = await import('viem')
  const computed = Buffer.from(keccak256(Buffer.concat([key.subarray(16, 32), ciphertext])).slice(2), 'hex')
  if (!timingSafeEqual(computed, mac)) throw new UsageError(`wrong password for keystore ${source} (MAC mismatch)`)
  const decipher = createDecipheriv('aes-128-ctr', key.subarray(0, 16), iv)
  const privateKey = Buffer.concat([decipher.update(ciphertext), decipher.final()])
  const hex = `0x${privateKey.toString('hex')}` as const
  registerSecret(hex)
  // Never quote the value: it is key material, whatever its format (viem's own check prints it in decimal).
  if (privateKey.length !== 32) throw new UsageError(`keystore ${source} does not hold a 32-byte private key`)
  if (!isValidPrivateKey(hex))
    throw new UsageError(`keystore ${source} decrypts to a value that is not a valid secp256k1 private key`)
  return hex
}

export interface EncryptKeystoreOptions {
  /** scrypt cost (power of two); default 2^17 (about 0.5 s, 128 MiB). Tests may pass 2^12. */
  n?: number
  r?: number
  p?: number
}

/**
 * Encrypts a private key into an Ethereum V3 keystore (scrypt + aes-128-ctr), as `imo init` writes.
 * @param privateKey - 0x-hex 32-byte key.
 * @param password - the password.
 * @param options - scrypt parameters.
 * @returns the keystore object (write it with mode 0o600).
 * @example
 * import { encryptKeystore } from './keystore.js'
 * const keystore = await encryptKeystore('0xac09…ff80', 'pw', { n: 2 ** 12 })
 */
export async function encryptKeystore(
  privateKey: `0x${string}`,
  password: string,
  options: EncryptKeystoreOptions = {},
): Promise<KeystoreV3> {
  const n = options.n ?? 2 ** 17
  const r = options.r ?? 8
  const p = options.p ?? 1
  const keyBytes = Buffer.from(privateKey.replace(/^0x/, ''), 'hex')
  if (keyBytes.length !== 32) throw new UsageError('the private key must be 32 bytes of hex')
  const salt = randomBytes(32)
  const iv = randomBytes(16)
  const { key } = await deriveKey(password, 'scrypt', { n, r, p, dklen: 32, salt: salt.toString('hex') }, 'to write')
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), iv)
  const ciphertext = Buffer.concat([cipher.update(keyBytes), cipher.final()])
  const { keccak256 } = await import('viem')
  const { privateKeyToAddress } = await import('viem/accounts')
  const mac = keccak256(Buffer.concat([key.subarray(16, 32), ciphertext])).slice(2)
  return {
    version: 3,
    id: randomUUID(),
    address: privateKeyToAddress(privateKey).slice(2).toLowerCase(),
    crypto: {
      cipher: 'aes-128-ctr',
      cipherparams: { iv: iv.toString('hex') },
      ciphertext: ciphertext.toString('hex'),
      kdf: 'scrypt',
      kdfparams: { dklen: 32, n, r, p, salt: salt.toString('hex') },
      mac,
    },
  }
}
