import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { computeCid, IPFS_MAX_RAW_BLOCK, parseIpfsUri } from './computeCid.js'
import { decodeProof, encodeProof } from './encodeProof.js'
import { PROOF_KIND_TAGS, proofTypeString } from './proofKinds.js'
import { parsePrompts } from './readPromptsFile.js'
import { attestationDigest, recoverAttester, signAttestation } from './signAttestation.js'

// anvil's first public development key
const account = privateKeyToAccount('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80')
const base = {
  chainId: 31337,
  collection: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512' as const,
  modelHash: keccak256(toHex('model')),
  promptHash: keccak256(toHex('a red spiral')),
  aigcDataHash: keccak256(toHex('data')),
  commitment: keccak256(toHex('commitment')),
  // anvil's second development account
  to: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' as const,
}
const attestation = { ...base, kind: 'mint' as const }
const fulfilment = { ...base, kind: 'fulfilment' as const, requestId: 7n }

// docs/formats.md section 5; the digests are cross-checked by test/forge/AigcCollection.t.sol (test_goldenDigest)
// and were computed a third time with Foundry's cast (keccak and abi-encode of the EIP-712 formula).
const GOLDEN = {
  mint: {
    tag: '0xfe9656807b7752faa0ef909a0b78fc2323bf8e3140486dde52a2518bb1ab29c9',
    digest: '0xa8a7c2ad72f6e73466bd5ebe3d5aad9b3ffdee8b3d53a84802d86631469192b8',
    signature:
      '0xd1d2d6ccb9f6377b939e051cdb4f4f5656333d6d527c6fd5a5a4b31b878a37f97f8fc1c0819fa9b3d1cb031fe9da4690d4bedd91f5947ed5478687e7edc6e1c41c',
    proofHash: '0x10cc0f4d14975d69c6ffa18ed6e746780939b86eb0d34e95397974235faad203',
  },
  fulfilment: {
    tag: '0x689497fbdfa9f70e9d45047a384c6e6e1281c1e790e1f4790a590666d8a2cc40',
    digest: '0x7de16d6f435d2f9a1ccbd56d5d7a3863c2c72fac3e0e126a287a4efe7c7a5219',
    signature:
      '0x523c455f8151a9da7e889c4773cc18729f120701adf2eae966d932f1f114d430615c0a3074f8bf775cac70c1ff149bb089767b9b33e29a33b8e5cf717afa2ec31b',
    proofHash: '0x11291584b3f9bfaa42f2783cad1a16ec6d9dc9683d51e815622866e8d3fa1156',
  },
} as const

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
  it('signs an EIP-712 attestation that recovers to the signer, and only for its own domain and kind', async () => {
    const signature = await signAttestation(account, attestation)
    assert.equal(await recoverAttester(attestation, signature), account.address)
    const other = { ...attestation, collection: '0x5FbDB2315678afecb367f032d93F642f64180aa3' as const }
    assert.notEqual(await recoverAttester(other, signature), account.address)
    // The same hashes signed as a mint do not make a fulfilment (nor another request's fulfilment).
    assert.notEqual(await recoverAttester({ ...base, kind: 'fulfilment', requestId: 0n }, signature), account.address)
    const forSeven = await signAttestation(account, fulfilment)
    assert.notEqual(await recoverAttester({ ...fulfilment, requestId: 8n }, forSeven), account.address)
  })
  it('encodes and decodes ECDSA and ERC-1271 proofs canonically, with their kind first', async () => {
    const signature = await signAttestation(account, attestation)
    const proof = encodeProof({ kind: 'mint', commitment: base.commitment, to: base.to, signature })
    assert.equal((proof.length - 2) / 2, 256)
    assert.equal(proof.slice(0, 66), PROOF_KIND_TAGS.mint)
    assert.deepEqual(decodeProof(proof), { kind: 'mint', commitment: base.commitment, to: base.to, scheme: 'ecdsa', signature })
    const wallet = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
    const wrapped = encodeProof({ kind: 'mint', commitment: base.commitment, to: base.to, signature, contractSigner: wallet })
    assert.deepEqual(decodeProof(wrapped), {
      kind: 'mint',
      commitment: base.commitment,
      to: base.to,
      scheme: 'erc1271',
      signature,
      contractSigner: wallet,
    })
    const fulfilProof = encodeProof({ kind: 'fulfilment', requestId: 7n, commitment: base.commitment, to: base.to, signature })
    assert.equal((fulfilProof.length - 2) / 2, 288)
    assert.deepEqual(decodeProof(fulfilProof), {
      kind: 'fulfilment',
      requestId: 7n,
      commitment: base.commitment,
      to: base.to,
      scheme: 'ecdsa',
      signature,
    })
    assert.equal(decodeProof(`${proof}00`), undefined)
    assert.equal(decodeProof(proof.slice(0, 100) as `0x${string}`), undefined)
  })
  it('rejects what the contract rejects: unknown kinds, a kind word on the other layout, dirty padding and address words', async () => {
    const signature = await signAttestation(account, attestation)
    const proof = encodeProof({ kind: 'mint', commitment: base.commitment, to: base.to, signature })
    const flip = (hex: string, byte: number) => `${hex.slice(0, 2 + byte * 2)}01${hex.slice(4 + byte * 2)}` as `0x${string}`
    assert.equal(decodeProof(flip(proof, 255)), undefined, 'padding after the 65-byte signature')
    assert.equal(decodeProof(flip(proof, 64)), undefined, 'upper byte of the recipient word')
    assert.equal(decodeProof(flip(proof, 0)), undefined, 'an unknown kind')
    const relabelled = `${PROOF_KIND_TAGS.fulfilment}${proof.slice(66)}` as `0x${string}`
    assert.equal(decodeProof(relabelled), undefined, 'a fulfilment tag on a mint layout')
    const wrapped = encodeProof({
      kind: 'mint',
      commitment: base.commitment,
      to: base.to,
      signature,
      contractSigner: base.to,
    })
    assert.equal(decodeProof(flip(wrapped, 351)), undefined, 'padding inside the ERC-1271 wrapper')
  })
  it('matches the golden vectors of docs/formats.md section 5', async () => {
    for (const a of [attestation, fulfilment]) {
      const golden = GOLDEN[a.kind]
      assert.equal(PROOF_KIND_TAGS[a.kind], golden.tag)
      assert.equal(keccak256(toHex(proofTypeString(a.kind))), golden.tag)
      assert.equal(attestationDigest(a), golden.digest)
      const signature = await signAttestation(account, a)
      assert.equal(signature, golden.signature)
      assert.equal(keccak256(encodeProof({ ...a, signature })), golden.proofHash)
    }
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
