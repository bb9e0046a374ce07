import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { encryptKeystore } from './keystore.js'
import { resolveSigner } from './resolveSigner.js'

describe('resolveSigner: unreadable files', () => {
  it('says "no such file" / "it is a folder" in plain words, never a bare errno code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imo-signer-'))
    try {
      const missing = join(dir, 'missing.txt')
      await assert.rejects(resolveSigner({ privateKeyFile: missing }), {
        name: 'UsageError',
        message: `cannot read the private key file ${missing}: no such file`,
      })
      await assert.rejects(resolveSigner({ mnemonicFile: dir }), {
        name: 'UsageError',
        message: `cannot read the mnemonic file ${dir}: it is a folder`,
      })
      // The password file is read before the keystore is decrypted, so any file stands in for the keystore.
      const keystore = join(dir, 'keystore.json')
      writeFileSync(keystore, '{}')
      await assert.rejects(resolveSigner({ keystore, passwordFile: missing }), {
        name: 'UsageError',
        message: `cannot read the password file ${missing}: no such file`,
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('resolveSigner: hostile files', () => {
  it('refuses a FIFO before opening it for a blocking read (it would hang beyond Ctrl-C)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imo-signer-'))
    try {
      const fifo = join(dir, 'key.fifo')
      execFileSync('mkfifo', [fifo])
      for (const [values, label] of [
        [{ privateKeyFile: fifo }, 'the private key file'],
        [{ mnemonicFile: fifo }, 'the mnemonic file'],
        [{ keystore: fifo }, 'the keystore'],
      ] as const)
        await assert.rejects(resolveSigner(values), {
          name: 'UsageError',
          message: `cannot read ${label} ${fifo}: it is a FIFO (named pipe), not a regular file`,
        })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('never puts a value decrypted from a keystore in a message, whatever its notation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imo-signer-'))
    try {
      // A keystore whose content is the curve order itself: not a valid key (viem quoted it in decimal).
      const order = '0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141'
      const valid = await encryptKeystore(`0x${'11'.repeat(32)}`, 'pw', { n: 2 ** 12 })
      const { createCipheriv, scryptSync } = await import('node:crypto')
      const { keccak256 } = await import('viem')
      const { salt, n, r, p } = valid.crypto.kdfparams as { salt: string; n: number; r: number; p: number }
      const derived = scryptSync(Buffer.from('pw'), Buffer.from(salt, 'hex'), 32, { N: n, r, p })
      const cipher = createCipheriv('aes-128-ctr', derived.subarray(0, 16), Buffer.from(valid.crypto.cipherparams.iv, 'hex'))
      const ciphertext = Buffer.concat([cipher.update(Buffer.from(order.slice(2), 'hex')), cipher.final()])
      valid.crypto.ciphertext = ciphertext.toString('hex')
      valid.crypto.mac = keccak256(Buffer.concat([derived.subarray(16, 32), ciphertext])).slice(2)
      const keystore = join(dir, 'bad.json')
      const passwordFile = join(dir, 'pw.txt')
      writeFileSync(keystore, JSON.stringify(valid))
      writeFileSync(passwordFile, 'pw')
      await assert.rejects(resolveSigner({ keystore, passwordFile }), (error: Error) => {
        assert.equal(error.name, 'UsageError')
        assert.equal(error.message, `keystore ${keystore} decrypts to a value that is not a valid secp256k1 private key`)
        assert.equal((error as { cause?: unknown }).cause, undefined)
        return true
      })
      const { redact } = await import('../util/redact.js')
      assert.equal(redact(`got ${BigInt(order)} and ${order}`), 'got *** and ***')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
