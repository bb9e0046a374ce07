import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { concat, encodeAbiParameters, type Hex, keccak256 } from 'viem'
import { buildAllowlist, parseAllowlistCsv } from './buildAllowlist.js'

const A = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const B = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'
const C = '0x90F79bf6EB2c4f870365E785982E1f101E93b906'
const leaf = (address: string, cap: bigint) =>
  keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [address as Hex, cap]))
const pair = (a: Hex, b: Hex) => keccak256(BigInt(a) < BigInt(b) ? concat([a, b]) : concat([b, a]))
/** OpenZeppelin MerkleProof.processProof. */
const fold = (start: Hex, proof: Hex[]) => proof.reduce(pair, start)

describe('allowlist', () => {
  it('parses address[,cap] lines with an optional header, comments and blank lines', async () => {
    const entries = await parseAllowlistCsv(`address,cap\n# investors\n${A.toLowerCase()},500\n\n${B}\n${C}, 0.5\n`, 'l.csv')
    assert.deepEqual(entries, [
      { address: A, cap: 500n * 10n ** 18n },
      { address: B, cap: 0n },
      { address: C, cap: 5n * 10n ** 17n },
    ])
  })

  it('names the file and line of a bad line, and a repeated address', async () => {
    await assert.rejects(parseAllowlistCsv(`${A}\nnope\n`, 'l.csv'), { message: 'l.csv line 2: "nope" is not an address' })
    const at = A.search(/[a-f]/) // one letter's case changed: the checksum fails
    const typo = `${A.slice(0, at)}${A[at]!.toUpperCase()}${A.slice(at + 1)}`
    await assert.rejects(parseAllowlistCsv(`${A}\n${typo},5\n`, 'l.csv'), {
      message: `l.csv line 2: ${typo} has mixed case that does not match its EIP-55 checksum: it may be mistyped (copy it again; all lower case skips the check)`,
    })
    assert.deepEqual(await parseAllowlistCsv(`${B.toUpperCase().replace('0X', '0x')}\n`, 'l.csv'), [{ address: B, cap: 0n }])
    await assert.rejects(parseAllowlistCsv(`${A},-3\n`, 'l.csv'), { message: 'l.csv line 1: the cap must be positive, not "-3"' })
    await assert.rejects(parseAllowlistCsv(`${A}\n${A.toLowerCase()},1\n`, 'l.csv'), {
      message: `l.csv line 2: ${A} is already on line 1`,
    })
    await assert.rejects(parseAllowlistCsv('address,cap\n', 'l.csv'), { message: 'l.csv lists no addresses' })
  })

  it('builds the sorted-pair tree OpenZeppelin verifies (golden root)', async () => {
    const entries = [
      { address: A, cap: 500n * 10n ** 18n },
      { address: B, cap: 0n },
      { address: C, cap: 5n * 10n ** 17n },
    ] as const
    const list = await buildAllowlist([...entries])
    const expected = pair(pair(leaf(A, entries[0].cap), leaf(B, 0n)), leaf(C, entries[2].cap))
    assert.equal(list.root, expected)
    for (const e of entries) assert.equal(fold(leaf(e.address, e.cap), list.entries[e.address]!.proof), list.root)
    assert.equal(list.root, '0xb3edfb44302f2b14aad2ad2add5260e0fd72258acc6628720dc316ab66476ee1')
    const single = await buildAllowlist([{ address: A, cap: 0n }])
    assert.equal(single.root, leaf(A, 0n))
    assert.deepEqual(single.entries[A]!.proof, [])
  })
})
