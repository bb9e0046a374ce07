/**
 * Whether a node says, for certain, that it has neither a transaction nor its receipt.
 *
 * "Replaced" (another transaction took the nonce) is decided on this: a lookup that failed (timeout,
 * RPC error) is not "absent", and the receipt and the transaction are both asked because a node can
 * count a mined nonce before it serves the receipt (anvil does, for a few milliseconds).
 */
import type { Hex, PublicClient } from 'viem'

/**
 * @param client - the node to ask (the one the transaction was sent to).
 * @param hash - the transaction hash.
 * @returns true only when both lookups answered "not found".
 * @example
 * if (latestNonce > signed.nonce && (await isTransactionAbsent(client, signed.hash))) markReplaced()
 */
export async function isTransactionAbsent(client: PublicClient, hash: Hex): Promise<boolean> {
  const notFound = (name: string) => (error: unknown) =>
    (error as { name?: string })?.name === name ? ('absent' as const) : ('unknown' as const)
  const receipt = await client.getTransactionReceipt({ hash }).catch(notFound('TransactionReceiptNotFoundError'))
  if (receipt !== 'absent') return false
  const transaction = await client.getTransaction({ hash }).catch(notFound('TransactionNotFoundError'))
  return transaction === 'absent'
}
