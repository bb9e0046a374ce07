/**
 * The one parser for addresses typed by people (flags, arguments, allowlist lines). A mixed-case
 * address carries an EIP-55 checksum, and one that does not match it is refused: a mistyped
 * character there otherwise sends a paid request, a supply or an attester role to an address
 * nobody holds. All lower case (or all upper case) carries no checksum and is taken as typed.
 */
import type { Address } from 'viem'
import { UsageError } from '../errors.js'

/** What is wrong with an address: not 0x and 40 hex digits, or mixed case that fails its checksum. */
export type AddressProblem = 'malformed' | 'checksum'

/**
 * Checks an address and gives its checksummed form.
 * @param text - the text as typed (surrounding spaces are ignored).
 * @returns the checksummed address, or the problem.
 * @example
 * await checkAddress('0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266') // { address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' }
 * await checkAddress('0xF39fd6e51aad88F6F4ce6aB8827279cffFb92266') // { problem: 'checksum' }
 */
export async function checkAddress(text: string): Promise<{ address: Address } | { problem: AddressProblem }> {
  const value = String(text).trim()
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) return { problem: 'malformed' }
  const { checksumAddress } = await import('viem')
  const address = checksumAddress(value as Address)
  const hex = value.slice(2)
  const mixedCase = hex !== hex.toLowerCase() && hex !== hex.toUpperCase()
  if (mixedCase && address !== value) return { problem: 'checksum' }
  return { address }
}

/** Why a mixed-case address is refused, after the address (shared by every message that refuses one). */
export const CHECKSUM_MISMATCH =
  'has mixed case that does not match its EIP-55 checksum: it may be mistyped (copy it again; all lower case skips the check)'

/**
 * Parses an address typed by the operator.
 * @param text - the text as typed.
 * @param name - the argument or flag, for the error.
 * @returns the checksummed address.
 * @throws UsageError (exit 2) when it is not a 20-byte hex address, or its mixed case fails the EIP-55 checksum.
 * @example
 * import { parseAddress } from './util/parseAddress.js'
 * await parseAddress('0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266', '--to') // '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
 */
export async function parseAddress(text: string, name: string): Promise<Address> {
  const checked = await checkAddress(text)
  if ('address' in checked) return checked.address
  const value = String(text).trim()
  throw new UsageError(
    checked.problem === 'malformed'
      ? `${name} must be a 0x-prefixed 20-byte address, not "${value}"`
      : `${name} ${value} ${CHECKSUM_MISMATCH}`,
  )
}
