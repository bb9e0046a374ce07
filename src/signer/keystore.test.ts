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
  it('caps scrypt parameters before deriving anything', async () => {
    const huge = structuredClone(scryptVector)
    huge.crypto.kdfparams.n = 2 ** 21
    const started = Date.now()
    await assert.rejects(decryptKeystore(huge, 'testpassword', 'k.json'), /beyond the accepted maximum \(n <= 2\^20/)
    assert.ok(Date.now() - started < 200)
    const wide = structuredClone(scryptVector)
    wide.crypto.kdfparams.p = 1000
    await assert.rejects(decryptKeystore(wide, 'testpassword', 'k.json'), /r\*p <= 64/)
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
