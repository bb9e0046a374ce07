import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { computeCid, IPFS_MAX_RAW_BLOCK, parseIpfsUri } from './computeCid.js'
import { decodeProof, encodeProof } from './encodeProof.js'
import { parsePrompts } from './readPromptsFile.js'
import { recoverAttester, signAttestation } from './signAttestation.js'

// anvil's first public development key
const account = privateKeyToAccount('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80')
const attestation = {
  chainId: 31337,
  collection: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512' as const,
  modelHash: keccak256(toHex('model')),
  promptHash: keccak256(toHex('a red spiral')),
  aigcDataHash: keccak256(toHex('data')),
  commitment: keccak256(toHex('commitment')),
}

describe('computeCid', () => {
  it('matches kubo `ipfs add --cid-version=1` for a single-block file (golden vector)', () => {
    assert.equal(computeCid(new TextEncoder().encode('hello\n')), 'bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am')
    assert.equal(computeCid(new Uint8Array(0)), 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku')
  })
  it('refuses files larger than one 256 KiB block', () => {
    assert.ok(computeCid(new Uint8Array(IPFS_MAX_RAW_BLOCK)))
    assert.equal(computeCid(new Uint8Array(IPFS_MAX_RAW_BLOCK + 1)), undefined)
  })
  it('parses ipfs:// URIs and bare CIDs, CIDv0 upgraded to v1', () => {
    const cid = 'bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am'
    assert.equal(parseIpfsUri(`ipfs://${cid}`), cid)
    assert.equal(parseIpfsUri(cid), cid)
    assert.equal(parseIpfsUri('https://example.com/x.json'), undefined)
    assert.equal(parseIpfsUri('ipfs://QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN')?.startsWith('bafybei'), true)
  })
})

describe('attestation and proof', () => {
  it('signs an EIP-712 attestation that recovers to the signer, and only for its own domain', async () => {
    const signature = await signAttestation(account, attestation)
    assert.equal(await recoverAttester(attestation, signature), account.address)
    const other = { ...attestation, collection: '0x5FbDB2315678afecb367f032d93F642f64180aa3' as const }
    assert.notEqual(await recoverAttester(other, signature), account.address)
  })
  it('encodes and decodes ECDSA and ERC-1271 proofs canonically', async () => {
    const signature = await signAttestation(account, attestation)
    const proof = encodeProof({ commitment: attestation.commitment, signature })
    assert.equal((proof.length - 2) / 2, 192)
    assert.deepEqual(decodeProof(proof), { commitment: attestation.commitment, scheme: 'ecdsa', signature })
    const wallet = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
    const wrapped = encodeProof({ commitment: attestation.commitment, signature, contractSigner: wallet })
    assert.deepEqual(decodeProof(wrapped), {
      commitment: attestation.commitment,
      scheme: 'erc1271',
      signature,
      contractSigner: wallet,
    })
    assert.equal(decodeProof(`${proof}00`), undefined)
    assert.equal(decodeProof(proof.slice(0, 100) as `0x${string}`), undefined)
  })
})

describe('parsePrompts', () => {
  it('skips blank lines and # comments, trims, keeps order', () => {
    assert.deepEqual(parsePrompts('# mine\r\n a red spiral \n\n#x\na blue wave\n', 'p.txt'), ['a red spiral', 'a blue wave'])
  })
  it('rejects duplicates naming both lines, and an empty file', () => {
    assert.throws(() => parsePrompts('a\nb\na\n', 'p.txt'), {
      message: 'p.txt repeats the prompt "a" (lines 1 and 3): each prompt mints one token',
    })
    assert.throws(() => parsePrompts('# only\n\n', 'p.txt'), {
      message: 'p.txt holds no prompt (one per line; blank lines and # comments are skipped)',
    })
  })
})

describe('mintSettingsFrom', () => {
  it('keeps what was given and rejects a malformed address naming its flag', async () => {
    const { mintSettingsFrom } = await import('./options.js')
    const to = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
    assert.deepEqual(mintSettingsFrom({ tokenUriMode: 'data', to }), { tokenUriMode: 'data', to })
    assert.deepEqual(mintSettingsFrom({ tokenUriMode: 'ipfs' }), { tokenUriMode: 'ipfs' })
    assert.throws(() => mintSettingsFrom({ tokenUriMode: 'ipfs', to: '0x1234' }), /^UsageError: --to is not an address/)
    assert.throws(
      () => mintSettingsFrom({ tokenUriMode: 'ipfs', attesterContract: 'wallet' }),
      (error: Error) => error.message.startsWith('--attester-contract is not an address'),
    )
  })
})
