import { UsageError } from '../errors.js'

/**
 * Parses `--token ID`: a decimal or 0x-hex uint256.
 * @param text - the flag's value.
 * @returns the id.
 * @throws UsageError when it is not a uint256.
 * @example
 * parseTokenId('0x2a') // 42n
 * parseTokenId('42') // 42n
 */
export function parseTokenId(text: string): bigint {
  const trimmed = text.trim()
  if (!/^(0x[0-9a-fA-F]{1,64}|\d{1,78})$/.test(trimmed))
    throw new UsageError(`--token must be a token id (decimal or 0x-hex), not "${text}"`)
  const id = BigInt(trimmed)
  if (id >= 2n ** 256n) throw new UsageError('--token is larger than a uint256')
  return id
}
