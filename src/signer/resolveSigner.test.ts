import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
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
