/**
 * Ethereum V3 JSON keystores (Web3 Secret Storage Definition) on audited primitives only:
 * node:crypto's scrypt / pbkdf2 / aes-128-ctr, and viem's keccak256 for the MAC, compared in
 * constant time. KDF parameters are capped so a hostile file cannot exhaust memory or time.
 */
import { createCipheriv, createDecipheriv, pbkdf2, randomBytes, randomUUID, scrypt, timingSafeEqual } from 'node:crypto'
import { UsageError } from '../errors.js'
import { registerSecret } from '../util/redact.js'

/** Largest scrypt cost accepted (2^20, 1 GiB with r = 8). */
export const MAX_SCRYPT_N = 2 ** 20
/** Largest scrypt r * p accepted. */
export const MAX_SCRYPT_RP = 64
/** Largest memory scrypt may use (128 * n * r bytes). */
export const MAX_SCRYPT_MEMORY = 1024 * 1024 * 1024 + 1024 * 1024
/** Largest PBKDF2 iteration count accepted. */
export const MAX_PBKDF2_ITERATIONS = 10_000_000

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
    if ((n & (n - 1)) !== 0 || n < 2) throw new UsageError(`keystore ${source}: scrypt n must be a power of two`)
    if (n > MAX_SCRYPT_N || r * p > MAX_SCRYPT_RP || 128 * n * r > MAX_SCRYPT_MEMORY)
      throw new UsageError(
        `keystore ${source} asks for scrypt n=${n} r=${r} p=${p}, beyond the accepted maximum (n <= 2^20, r*p <= ${MAX_SCRYPT_RP}, 1 GiB); re-encrypt it with smaller parameters`,
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
      throw new UsageError(`keystore ${source} asks for ${c} pbkdf2 iterations, beyond the accepted ${MAX_PBKDF2_ITERATIONS}`)
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
  if (privateKey.length !== 32) throw new UsageError(`keystore ${source} does not hold a 32-byte private key`)
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
