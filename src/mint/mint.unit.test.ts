import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { computeCid, IPFS_MAX_RAW_BLOCK, parseIpfsUri } from './computeCid.js'
import { decodeProof, encodeProof } from './encodeProof.js'
import { parsePrompts } from './readPromptsFile.js'
import { attestationDigest, recoverAttester, signAttestation } from './signAttestation.js'

// anvil's first public development key
const account = privateKeyToAccount('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80')
const attestation = {
  chainId: 31337,
  collection: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512' as const,
  modelHash: keccak256(toHex('model')),
  promptHash: keccak256(toHex('a red spiral')),
  aigcDataHash: keccak256(toHex('data')),
  commitment: keccak256(toHex('commitment')),
  // anvil's second development account
  to: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' as const,
}

// docs/formats.md section 5; the digest is cross-checked by test/forge/AigcCollection.t.sol (test_goldenDigest).
const GOLDEN_DIGEST = '0x5a0b9764e8c483192835f1586a40b4aa3f37a3bfc105028bde3b8a1afad2ab3b'
const GOLDEN_SIGNATURE =
  '0xd2aab78dcd82ac03e95828db4f49fde42054157ee4acbe54bd8e224c2447bb882bd305e739c76925d0b823618d35aab78c2a29f94902bae45eaef4193abcd9581b'
const GOLDEN_PROOF_HASH = '0x312747d218b1b9f29652c2abe66b4111b371d110e8b9bd8b264b04fbafa7ec51'

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
    const proof = encodeProof({ commitment: attestation.commitment, to: attestation.to, signature })
    assert.equal((proof.length - 2) / 2, 224)
    assert.deepEqual(decodeProof(proof), { commitment: attestation.commitment, to: attestation.to, scheme: 'ecdsa', signature })
    const wallet = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
    const wrapped = encodeProof({ commitment: attestation.commitment, to: attestation.to, signature, contractSigner: wallet })
    assert.deepEqual(decodeProof(wrapped), {
      commitment: attestation.commitment,
      to: attestation.to,
      scheme: 'erc1271',
      signature,
      contractSigner: wallet,
    })
    assert.equal(decodeProof(`${proof}00`), undefined)
    assert.equal(decodeProof(proof.slice(0, 100) as `0x${string}`), undefined)
  })
  it('rejects non-canonical proofs the contract rejects: dirty padding, dirty address words', async () => {
    const signature = await signAttestation(account, attestation)
    const proof = encodeProof({ commitment: attestation.commitment, to: attestation.to, signature })
    const flip = (hex: string, byte: number) => `${hex.slice(0, 2 + byte * 2)}01${hex.slice(4 + byte * 2)}` as `0x${string}`
    assert.equal(decodeProof(flip(proof, 223)), undefined, 'padding after the 65-byte signature')
    assert.equal(decodeProof(flip(proof, 32)), undefined, 'upper byte of the recipient word')
    const wrapped = encodeProof({
      commitment: attestation.commitment,
      to: attestation.to,
      signature,
      contractSigner: attestation.to,
    })
    assert.equal(decodeProof(flip(wrapped, 319)), undefined, 'padding inside the ERC-1271 wrapper')
  })
  it('matches the golden vector of docs/formats.md section 5', async () => {
    assert.equal(attestationDigest(attestation), GOLDEN_DIGEST)
    const signature = await signAttestation(account, attestation)
    assert.equal(signature, GOLDEN_SIGNATURE)
    assert.equal(keccak256(encodeProof({ commitment: attestation.commitment, to: attestation.to, signature })), GOLDEN_PROOF_HASH)
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
  it('keeps what was given and rejects a malformed or mis-checksummed address naming its flag', async () => {
    const { mintSettingsFrom } = await import('./options.js')
    const to = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
    assert.deepEqual(await mintSettingsFrom({ tokenUriMode: 'data', to }), { tokenUriMode: 'data', to })
    assert.deepEqual(await mintSettingsFrom({ tokenUriMode: 'data', to: to.toLowerCase() }), { tokenUriMode: 'data', to })
    assert.deepEqual(await mintSettingsFrom({ tokenUriMode: 'ipfs' }), { tokenUriMode: 'ipfs' })
    await assert.rejects(
      mintSettingsFrom({ tokenUriMode: 'ipfs', to: '0x1234' }),
      /^UsageError: --to must be a 0x-prefixed 20-byte address/,
    )
    await assert.rejects(
      mintSettingsFrom({ tokenUriMode: 'ipfs', to: '0x70997970c51812dc3A010C7d01b50e0d17dc79C8' }),
      /^UsageError: --to 0x70997970c51812dc3A010C7d01b50e0d17dc79C8 has mixed case that does not match its EIP-55 checksum/,
    )
    await assert.rejects(mintSettingsFrom({ tokenUriMode: 'ipfs', attesterContract: 'wallet' }), (error: Error) =>
      error.message.startsWith('--attester-contract must be a 0x-prefixed 20-byte address'),
    )
  })
})
