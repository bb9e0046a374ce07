import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { encryptKeystore } from '../signer/keystore.js'
import { resolveHolder } from './resolveHolder.js'

// anvil's first public development key and its address
const KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const ADDRESS = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const folder = mkdtempSync(join(tmpdir(), 'imo-holder-'))
after(() => rmSync(folder, { recursive: true, force: true }))
const ctx = { fromDevnet: false, chainId: 1 }

describe('resolveHolder', () => {
  it('reads the address a keystore declares, without asking for its password', async () => {
    const file = join(folder, 'with-address.json')
    writeFileSync(file, JSON.stringify(await encryptKeystore(KEY, 'pw', { n: 2 ** 10 })))
    const saved = process.env.IMO_KEYSTORE_PASSWORD
    delete process.env.IMO_KEYSTORE_PASSWORD
    try {
      assert.equal(await resolveHolder(ctx, { keystore: file }, undefined, { name: 'ADDRESS' }), ADDRESS)
    } finally {
      if (saved !== undefined) process.env.IMO_KEYSTORE_PASSWORD = saved
    }
  })

  it('decrypts a keystore that declares no address (the password is then needed)', async () => {
    const keystore = await encryptKeystore(KEY, 'pw', { n: 2 ** 10 })
    const file = join(folder, 'no-address.json')
    writeFileSync(file, JSON.stringify({ ...keystore, address: undefined }))
    const passwordFile = join(folder, 'pw.txt')
    writeFileSync(passwordFile, 'pw\n')
    assert.equal(await resolveHolder(ctx, { keystore: file, passwordFile }, undefined, { name: 'ADDRESS' }), ADDRESS)
  })

  it('prefers the address given, and rejects a malformed one', async () => {
    assert.equal(await resolveHolder(ctx, {}, ADDRESS.toLowerCase(), { name: 'ADDRESS' }), ADDRESS)
    await assert.rejects(resolveHolder(ctx, {}, '0x1234', { name: 'ADDRESS' }), /ADDRESS must be a 0x-prefixed 20-byte address/)
  })
})
