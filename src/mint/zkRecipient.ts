/**
 * The recipient a zk collection's item is minted to: its PLONK proof binds it, so every item needs its
 * proof.json, and a --to other than the proof's recipient is refused before anything is sent (the chain
 * would revert).
 */
import { type Address, getAddress } from 'viem'
import { UsageError } from '../errors.js'
import { describeRecord } from './describeRecord.js'
import type { MintItem } from './mintTypes.js'

/**
 * @param zk - whether the collection checks zk proofs; false returns undefined (any recipient).
 * @param item - the item to mint.
 * @param to - the recipient asked for with --to, if any.
 * @returns the proof's recipient (zk), else undefined.
 * @throws UsageError (2) for a paid request, a missing proof, or a --to the proof does not bind.
 * @example
 * const itemTo = zkRecipient(true, item, undefined) ?? signer
 */
export function zkRecipient(zk: boolean, item: MintItem, to: Address | undefined): Address | undefined {
  if (!zk) return undefined
  if (item.request) throw new UsageError('a zk collection has no paid requests')
  if (!item.zkProof)
    throw new UsageError(
      `${describeRecord(item.record)} has no zk proof (proof.json): the collection accepts only tokens the chain can check`,
      {
        hint: 'make it with `imo infer --prove --to ADDRESS`, or use `imo infer-and-mint`, which proves',
      },
    )
  const bound = getAddress(item.zkProof.recipient)
  if (to !== undefined && getAddress(to) !== bound)
    throw new UsageError(
      `the zk proof of ${describeRecord(item.record)} is bound to ${bound}, not to --to ${to}: the chain would reject it`,
    )
  return bound
}
