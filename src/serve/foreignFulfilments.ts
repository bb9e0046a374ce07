/**
 * Journal steps that serve will not resume, said once at start: fulfilments of this collection signed
 * on another chain (a re-created local chain with the same addresses) or by an imo whose step ids had
 * no chain and no request key, that never got a receipt. They are not broadcast again: on another
 * chain their nonces mean nothing, and a request served now gets a step of its own.
 */
import type { Address } from 'viem'
import type { Journal } from '../chain/journal.js'
import type { ChainKey } from './chainKey.js'

/**
 * A one-line warning about unfinished fulfilments of `collection` from another chain, or undefined.
 * @example
 * describeForeignFulfilments(journal, collection, chain) // 'the journal … holds 2 fulfilments …'
 */
export function describeForeignFulfilments(journal: Journal, collection: Address, chain: ChainKey): string | undefined {
  const prefix = `fulfill:${collection.toLowerCase()}`
  const ours = `${prefix}@${chain.short}:`
  const ids = new Set<string>()
  for (const record of journal.all()) if (record.id.startsWith(prefix) && !record.id.startsWith(ours)) ids.add(record.id)
  const unfinished = [...ids].filter((id) => {
    const state = journal.state(id)
    return state.signed !== undefined && state.receipt === undefined
  })
  if (unfinished.length === 0) return undefined
  const chains = new Set(unfinished.map((id) => /@([0-9a-f]{16}):/.exec(id)?.[1] ?? 'none recorded'))
  return `the journal ${journal.path} holds ${unfinished.length} unfinished fulfilment${unfinished.length === 1 ? '' : 's'} of this collection signed for another chain (chain ${[...chains].join(', ')}; this one is ${chain.short}, the hash of block ${chain.block}): they are not resumed`
}
