/**
 * The journal step of `imo claim`, in ONE place for both kinds of claim: EIP-7641's native
 * `claim(uint256)`/`claimBatch(uint256[])` (claimRevenue.ts) and the per-currency
 * `claim(uint256,address)`/`claimBatch(uint256[],address[])` (claimCurrencies.ts).
 *
 * Step id: `claim:<token>:<holder>:<ids, comma-separated>[#<currencies, '+'-separated>][@key:<KEY>]`
 * (lowercase addresses; the zero address for the native currency). No `#` part: the native claim.
 * Both kinds share the prefix, so a re-run finds the interrupted claim whichever kind it was, and
 * resumes THAT step (the journalled transaction) before anything else, whatever `--currency` says.
 */
import type { Address } from 'viem'
import type { Journal } from '../chain/journal.js'
import { findKeyedStep, findOpenStep, type JournalStepSummary, keySuffix } from './journalSteps.js'

export interface ClaimStep {
  step: JournalStepSummary
  /** True when it is the step done under the idempotency key (`--key`), false for an open step. */
  keyed: boolean
  /** The snapshot ids it claims. */
  ids: number[]
  /** The currencies of a per-currency claim (lowercase); undefined for the native (EIP-7641) claim. */
  currencies?: string[]
}

/**
 * The id prefix shared by every claim step of a holder on a token.
 * @example
 * claimStepPrefix('0x5FbD…', '0xf39F…') // 'claim:0x5fbd…:0xf39f…:'
 */
export function claimStepPrefix(token: Address, holder: Address): string {
  return `claim:${token.toLowerCase()}:${holder.toLowerCase()}:`
}

/**
 * A claim step id.
 * @param currencies - the per-currency claim's currencies; undefined for the native claim.
 * @param key - the idempotency key, if any.
 * @example
 * claimStepId(prefix, [2, 3], ['0x0000…0000', '0x5193…']) // `${prefix}2,3#0x0000…0000+0x5193…`
 * claimStepId(prefix, [2]) // `${prefix}2`
 */
export function claimStepId(prefix: string, ids: number[], currencies?: readonly string[], key?: string): string {
  const currencyPart = currencies ? `#${currencies.map((c) => c.toLowerCase()).join('+')}` : ''
  return `${prefix}${ids.join(',')}${currencyPart}${key ? keySuffix(key) : ''}`
}

/**
 * Reads a claim step id back.
 * @example
 * parseClaimStepId(prefix, `${prefix}2,3#0x0000…0000+0x5193…@key:k`) // { ids: [2, 3], currencies: ['0x0000…0000', '0x5193…'] }
 * parseClaimStepId(prefix, `${prefix}2`) // { ids: [2] }
 */
export function parseClaimStepId(prefix: string, id: string): Pick<ClaimStep, 'ids' | 'currencies'> {
  const [idsPart = '', currencyPart] = id.slice(prefix.length).split('@')[0]!.split('#')
  const ids = idsPart.split(',').map(Number)
  return currencyPart === undefined ? { ids } : { ids, currencies: currencyPart.split('+') }
}

/**
 * The claim step a run must report (the one done under `key`) or resume (the first open one), if any.
 * @param journal - the signer's journal; undefined (no journal) finds nothing.
 * @example
 * const found = findClaimStep(ctx.journal, claimStepPrefix(token, holder), ctx.tx.key)
 * found?.currencies // ['0x0000…0000', '0x5193…'] after an interrupted `imo claim` over ETH and USDC
 */
export function findClaimStep(
  journal: Pick<Journal, 'reload' | 'idsWithPrefix' | 'state'> | undefined,
  prefix: string,
  key: string | undefined,
): ClaimStep | undefined {
  if (!journal) return undefined
  const keyed = key ? findKeyedStep(journal, prefix, key) : undefined
  const step = keyed ?? findOpenStep(journal, prefix)
  return step ? { step, keyed: keyed !== undefined, ...parseClaimStepId(prefix, step.id) } : undefined
}

/**
 * Tells the user (stderr) that a run reports or resumes a journalled claim instead of claiming anew.
 * @param symbols - the symbols of the step's currencies, for the message.
 * @example
 * await noteClaimStep(found, ctx.tx.key, ['ETH', 'USDC'])
 * // note: resuming the interrupted claim of snapshot(s) 2, 3 in ETH, USDC recorded in the journal (0x…)
 */
export async function noteClaimStep(found: ClaimStep, key: string | undefined, symbols: string[]): Promise<void> {
  const { note } = await import('../cli/ui.js')
  const what = `the claim of snapshot(s) ${found.ids.join(', ')} in ${symbols.join(', ')}`
  note(
    found.keyed
      ? `--key ${key}: ${what} made under this key is reported; nothing new is sent`
      : `resuming ${what.replace(/^the/, 'the interrupted')} recorded in the journal${found.step.hash ? ` (${found.step.hash})` : ''}`,
  )
}
