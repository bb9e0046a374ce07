/**
 * The offering's allowlist: a CSV of `address[,cap]` lines becomes a Merkle tree over
 * `keccak256(abi.encode(address, cap))` leaves (cap in token base units, 0 = only --max-per-address),
 * hashed in sorted pairs as OpenZeppelin's MerkleProof expects, with one proof per address.
 */
import type { Address, Hex } from 'viem'
import { UsageError } from '../errors.js'

export interface AllowlistEntry {
  address: Address
  /** Cap in token base units; 0 = no own cap. */
  cap: bigint
}

export interface Allowlist {
  root: Hex
  /** Per checksummed address: its cap and proof. */
  entries: Record<string, { cap: string; proof: Hex[] }>
}

/**
 * Parses an allowlist CSV: one `address` or `address,cap` per line (cap in tokens, e.g. 500 or 0.5); an optional
 * `address,cap` header, blank lines and `#` comments are skipped.
 * @param text - the file's text.
 * @param file - the file name, for errors.
 * @returns the entries, in file order.
 * @throws UsageError (exit 2) naming the file and line of the first bad line, or a repeated address.
 * @example
 * await parseAllowlistCsv('0x70997970C51812dc3A010C7d01b50e0d17dc79C8,500\n', 'list.csv')
 * // [{ address: '0x7099…79C8', cap: 500000000000000000000n }]
 */
export async function parseAllowlistCsv(text: string, file: string): Promise<AllowlistEntry[]> {
  const { checkAddress, CHECKSUM_MISMATCH } = await import('../util/parseAddress.js')
  const { parseAmount } = await import('../chain/format.js')
  const entries: AllowlistEntry[] = []
  const seen = new Map<string, number>()
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    const where = `${file} line ${i + 1}`
    if (line === '' || line.startsWith('#')) continue
    const cells = line.split(',').map((cell) => cell.trim())
    if (i === 0 && /^address$/i.test(cells[0] ?? '')) continue
    if (cells.length > 2) throw new UsageError(`${where}: expected "address" or "address,cap", found ${cells.length} columns`)
    const [addressText = '', capText = ''] = cells
    const checked = await checkAddress(addressText)
    if ('problem' in checked)
      throw new UsageError(
        checked.problem === 'malformed'
          ? `${where}: "${addressText}" is not an address`
          : `${where}: ${addressText} ${CHECKSUM_MISMATCH}`,
      )
    let cap = 0n
    if (capText !== '') {
      try {
        cap = parseAmount(capText, { name: 'the cap', allowZero: true })
      } catch (error) {
        throw new UsageError(`${where}: ${(error as Error).message}`)
      }
    }
    const { address } = checked
    const earlier = seen.get(address)
    if (earlier !== undefined) throw new UsageError(`${where}: ${address} is already on line ${earlier}`)
    seen.set(address, i + 1)
    entries.push({ address, cap })
  }
  if (entries.length === 0) throw new UsageError(`${file} lists no addresses`)
  return entries
}

/**
 * Builds the Merkle root and every entry's proof (sorted-pair keccak256, an odd node moves up unpaired).
 * @param entries - the allowlist.
 * @returns root and proofs.
 * @example
 * const { root, entries } = await buildAllowlist([{ address: bob, cap: 0n }, { address: carol, cap: 10n ** 20n }])
 * entries[bob].proof // ['0x…']
 */
export async function buildAllowlist(entries: AllowlistEntry[]): Promise<Allowlist> {
  const { encodeAbiParameters, keccak256, concat } = await import('viem')
  const leafOf = (e: AllowlistEntry) =>
    keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [e.address, e.cap]))
  const pair = (a: Hex, b: Hex) => keccak256(BigInt(a) < BigInt(b) ? concat([a, b]) : concat([b, a]))
  const leaves = entries.map(leafOf)
  const layers: Hex[][] = [leaves]
  while (layers[layers.length - 1]!.length > 1) {
    const layer = layers[layers.length - 1]!
    const next: Hex[] = []
    for (let i = 0; i < layer.length; i += 2) next.push(i + 1 < layer.length ? pair(layer[i]!, layer[i + 1]!) : layer[i]!)
    layers.push(next)
  }
  const result: Allowlist = { root: layers[layers.length - 1]![0]!, entries: {} }
  entries.forEach((entry, index) => {
    const proof: Hex[] = []
    let i = index
    for (const layer of layers.slice(0, -1)) {
      const sibling = i % 2 === 0 ? i + 1 : i - 1
      if (sibling < layer.length) proof.push(layer[sibling]!)
      i = Math.floor(i / 2)
    }
    result.entries[entry.address] = { cap: entry.cap.toString(), proof }
  })
  return result
}
