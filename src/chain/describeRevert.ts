/**
 * Plain words for a revert: the custom error a contract raised, decoded with its ABI, and whether an
 * error from the node is a revert at all.
 */
import type { Abi, Hex } from 'viem'

/**
 * Plain words for a revert: the custom error's name and arguments from the step's ABI
 * (plus Error(string) and Panic(uint256)), or 'no reason given'.
 * @param error - the error thrown by eth_call / estimateGas.
 * @param abi - the contract ABI.
 * @returns e.g. 'InvalidPercent(150)'.
 * @example
 * describeRevert(error, imoTokenAbi) // 'SnapshotTooEarly(1700000000, 1700086400)'
 */
export async function describeRevert(error: unknown, abi: Abi | undefined): Promise<string | undefined> {
  const { decodeErrorResult } = await import('viem')
  let data: Hex | undefined
  let reason: string | undefined
  let current: unknown = error
  for (let i = 0; current && i < 20; i++) {
    const e = current as { data?: unknown; reason?: unknown; name?: string }
    if (typeof e.data === 'string' && /^0x[0-9a-fA-F]*$/.test(e.data) && e.data.length >= 10) data = e.data as Hex
    else if (e.data && typeof e.data === 'object' && typeof (e.data as { data?: unknown }).data === 'string')
      data = (e.data as { data: Hex }).data
    if (typeof e.reason === 'string') reason = e.reason
    current = (current as { cause?: unknown }).cause
  }
  if (data) {
    try {
      const decoded = decodeErrorResult({ abi: abi ?? [], data })
      const args = (decoded.args ?? []).map((arg) => (typeof arg === 'string' ? arg : String(arg)))
      if (decoded.errorName === 'Error') return `reverted: ${args[0] ?? ''}`
      if (decoded.errorName === 'Panic') return `panic ${args[0] ?? ''} (assertion, overflow or division by zero)`
      return `${decoded.errorName}(${args.join(', ')})`
    } catch {
      return `unknown custom error ${data.slice(0, 10)}`
    }
  }
  if (reason) return `reverted: ${reason}`
  const text = String((error as Error)?.message ?? '')
  if (/revert/i.test(text)) return 'reverted without a reason'
  return undefined
}

/**
 * Whether an error from eth_call / eth_estimateGas is a revert (not an RPC failure).
 * @example
 * isRevert(error) // true for 'execution reverted: ...'
 */
export function isRevert(error: unknown): boolean {
  let current: unknown = error
  for (let i = 0; current && i < 20; i++) {
    const e = current as { name?: string; message?: string; data?: unknown; code?: number }
    if (e.name === 'ContractFunctionRevertedError' || e.name === 'ExecutionRevertedError') return true
    if (typeof e.message === 'string' && /execution reverted|revert/i.test(e.message)) return true
    if (e.code === 3) return true
    current = (current as { cause?: unknown }).cause
  }
  return false
}
