import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decryptKeystore, encryptKeystore } from './keystore.js'

// Test vectors of the Web3 Secret Storage Definition (Ethereum wiki): password "testpassword".
const secret = '0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d'
const pbkdf2Vector = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: { iv: '6087dab2f9fdbbfaddc31a909735c1e6' },
    ciphertext: '5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46',
    kdf: 'pbkdf2',
    kdfparams: {
      c: 262144,
      dklen: 32,
      prf: 'hmac-sha256',
      salt: 'ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd',
    },
    mac: '517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2',
  },
  id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
  version: 3,
}
const scryptVector = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: { iv: '83dbcc02d8ccb40e466191a123791e0e' },
    ciphertext: 'd172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c',
    kdf: 'scrypt',
    kdfparams: { dklen: 32, n: 262144, p: 8, r: 1, salt: 'ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19' },
    mac: '2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097',
  },
  id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
  version: 3,
}

/** A keystore holding any 32 bytes (encryptKeystore refuses invalid keys), with scrypt n=2^12. */
async function encryptKeystoreUnchecked(value: `0x${string}`) {
  const { createCipheriv, randomBytes, scryptSync } = await import('node:crypto')
  const { keccak256 } = await import('viem')
  const salt = randomBytes(32)
  const iv = randomBytes(16)
  const derived = scryptSync(Buffer.from('pw'), salt, 32, { N: 2 ** 12, r: 8, p: 1 })
  const cipher = createCipheriv('aes-128-ctr', derived.subarray(0, 16), iv)
  const ciphertext = Buffer.concat([cipher.update(Buffer.from(value.slice(2), 'hex')), cipher.final()])
  const mac = keccak256(Buffer.concat([derived.subarray(16, 32), ciphertext])).slice(2)
  return {
    version: 3,
    id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
    crypto: {
      cipher: 'aes-128-ctr',
      cipherparams: { iv: iv.toString('hex') },
      ciphertext: ciphertext.toString('hex'),
      kdf: 'scrypt',
      kdfparams: { dklen: 32, n: 2 ** 12, r: 8, p: 1, salt: salt.toString('hex') },
      mac,
    },
  }
}

describe('decryptKeystore', () => {
  it('decrypts the spec PBKDF2-SHA-256 vector', async () => {
    assert.equal(await decryptKeystore(JSON.stringify(pbkdf2Vector), 'testpassword'), secret)
  })
  it('decrypts the spec scrypt vector', async () => {
    assert.equal(await decryptKeystore(scryptVector, 'testpassword'), secret)
  })
  it('refuses a wrong password with a MAC mismatch, without the key in the message', async () => {
    await assert.rejects(decryptKeystore(pbkdf2Vector, 'wrong', 'k.json'), (error: Error) => {
      assert.equal(error.message, 'wrong password for keystore k.json (MAC mismatch)')
      return true
    })
  })
  it('refuses a tampered ciphertext', async () => {
    const tampered = structuredClone(scryptVector)
    tampered.crypto.ciphertext = `ee${tampered.crypto.ciphertext.slice(2)}`
    await assert.rejects(decryptKeystore(tampered, 'testpassword', 'k.json'), /MAC mismatch/)
  })
  it('caps KDF parameters at what real wallets write, before deriving anything, and says what was refused', async () => {
    const refuse = async (params: Record<string, unknown>, message: RegExp, kdf = scryptVector) => {
      const keystore = structuredClone(kdf) as { crypto: { kdfparams: Record<string, unknown> } }
      Object.assign(keystore.crypto.kdfparams, params)
      const started = Date.now()
      await assert.rejects(decryptKeystore(keystore, 'testpassword', 'k.json'), (error: Error) => {
        assert.match(error.message, message)
        return true
      })
      assert.ok(Date.now() - started < 200, 'refused before any derivation')
    }
    // The review's cases: 75 s of CPU (n=2^20, p=64) and 1.1 GB of memory (n=2^20, r=8).
    await refuse(
      { n: 2 ** 20, r: 1, p: 64 },
      /^keystore k\.json asks for scrypt n=2\^20 r=1 p=64, refused: n above 2\^18, p above 8, work n\*r\*p above 2\^21$/,
    )
    await refuse({ n: 2 ** 20, r: 8, p: 1 }, /refused: n above 2\^18, work n\*r\*p above 2\^21, memory 1024 MiB above 256 MiB$/)
    await refuse({ n: 2 ** 18, r: 8, p: 2 }, /refused: work n\*r\*p above 2\^21$/)
    await refuse({ n: 2 ** 10, r: 16, p: 1 }, /refused: r above 8$/)
    await refuse({ n: 3 * 2 ** 32 }, /scrypt n must be a power of two/)
    await refuse(
      { c: 10_000_000 },
      /^keystore k\.json asks for pbkdf2 c=10000000, refused: more than 1000000 iterations$/,
      pbkdf2Vector as never,
    )
  })
  it("accepts the largest real wallets' parameters (geth standard n=2^18 r=8 p=1, geth light n=2^12 r=8 p=6)", async () => {
    const key = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
    for (const params of [
      { n: 2 ** 18, r: 8, p: 1 },
      { n: 2 ** 12, r: 8, p: 6 },
    ]) {
      const keystore = await encryptKeystore(key, 'pw', params)
      assert.equal(await decryptKeystore(keystore, 'pw'), key)
    }
  })
  it('never quotes a decrypted value that is not a valid key, in any notation', async () => {
    const invalid = `0x${'ff'.repeat(32)}` as const // above the curve order
    const keystore = await encryptKeystoreUnchecked(invalid)
    await assert.rejects(decryptKeystore(keystore, 'pw', 'k.json'), (error: Error) => {
      assert.equal(error.message, 'keystore k.json decrypts to a value that is not a valid secp256k1 private key')
      return true
    })
  })
  it('rejects malformed files clearly', async () => {
    await assert.rejects(decryptKeystore('{not json', 'x', 'k.json'), /keystore k.json is not valid JSON/)
    await assert.rejects(decryptKeystore({ version: 1 }, 'x', 'k.json'), /not an Ethereum V3 keystore/)
    const badKdf = structuredClone(pbkdf2Vector) as { crypto: { kdf: string } }
    badKdf.crypto.kdf = 'argon2'
    await assert.rejects(decryptKeystore(badKdf, 'x', 'k.json'), /unsupported kdf/)
  })
})

describe('encryptKeystore', () => {
  it('round-trips and records the address', async () => {
    const key = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
    const keystore = await encryptKeystore(key, 'pw', { n: 2 ** 12 })
    assert.equal(keystore.address, 'f39fd6e51aad88f6f4ce6ab8827279cfffb92266')
    assert.equal(keystore.crypto.kdfparams.n, 4096)
    assert.equal(await decryptKeystore(JSON.stringify(keystore), 'pw'), key)
    await assert.rejects(decryptKeystore(keystore, 'pw2'), /MAC mismatch/)
  })
})
