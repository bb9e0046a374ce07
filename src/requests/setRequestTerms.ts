/**
 * Owner commands `imo requests set-fee ETH` and `imo requests set-timeout SECONDS`: change the
 * collection's request fee or timeout for new requests (open ones keep theirs). A value equal to the
 * current one sends nothing. Step ids: `set-request-fee:<collection>:<old>-><new>` (and
 * `set-request-timeout:…`), so a re-run resumes the same change and a later change back gets its own id.
 */
import type { Address, Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import { ImoError, UsageError } from '../errors.js'

export type RequestTerm = 'fee' | 'timeout'

export interface SetRequestTermResult {
  status: 'sent' | 'resumed' | 'already-confirmed' | 'dry-run' | 'unchanged'
  term: RequestTerm
  /** Wei for the fee, seconds for the timeout. */
  previous: bigint
  value: bigint
  txHash?: Hex
  blockNumber?: bigint
  gas?: bigint
  costWei?: bigint
}

/** The collection's bounds: the fee fits a uint96, the timeout is 1 s to a year. */
const MAX_FEE = (1n << 96n) - 1n
const MAX_TIMEOUT = 365n * 24n * 3600n

/**
 * Sets the request fee (wei) or timeout (seconds) on the collection.
 * @throws UsageError (2) for a value out of the contract's bounds, or a signer that is not the owner;
 *   chain errors from sendStep.
 * @example
 * import { setRequestTerm } from './requests/setRequestTerms.js'
 * (await setRequestTerm(ctx, collection, 'fee', 2_000_000_000_000_000n)).status // 'sent'
 */
export async function setRequestTerm(
  ctx: ChainContext,
  collection: Address,
  term: RequestTerm,
  value: bigint,
): Promise<SetRequestTermResult> {
  if (!ctx.account) throw new ImoError('setRequestTerm needs a chain context with a signer')
  if (term === 'fee' && value > MAX_FEE) throw new UsageError(`the request fee must be below 2^96 wei, not ${value} wei`)
  if (term === 'timeout' && (value < 1n || value > MAX_TIMEOUT))
    throw new UsageError(`the request timeout must be 1 to ${MAX_TIMEOUT} seconds (a year), not ${value}`)
  const { encodeFunctionData } = await import('viem')
  const { aigcCollectionAbi } = await import('../../contracts-abi/index.js')
  const { readRequestTerms } = await import('./readRequest.js')
  const { sendStep, summarizeOutcome } = await import('../chain/sendStep.js')
  const { toImoError } = await import('../chain/toImoError.js')
  const terms = await readRequestTerms(ctx, collection)
  const previous = term === 'fee' ? terms.feeWei : BigInt(terms.timeoutSeconds)
  const stepId = `set-request-${term}:${collection.toLowerCase()}:${previous}->${value}`
  if (previous === value && !ctx.journal?.state(stepId).signed) return { status: 'unchanged', term, previous, value }
  const owner = (await ctx.publicClient
    .readContract({ address: collection, abi: aigcCollectionAbi, functionName: 'owner' })
    .catch((error: unknown) => {
      throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: 'reading the owner' })
    })) as Address
  if (owner.toLowerCase() !== ctx.account.address.toLowerCase() && previous !== value)
    throw new UsageError(
      `${ctx.account.address} is not the owner of the collection ${collection} (${owner} is); nothing was sent`,
      {
        hint: "sign with the owner's key",
      },
    )
  const functionName = term === 'fee' ? 'setRequestFee' : 'setRequestTimeout'
  const outcome = await sendStep(ctx, {
    id: stepId,
    label: `set the request ${term} to ${value}${term === 'fee' ? ' wei' : ' s'}`,
    to: collection,
    data: encodeFunctionData({ abi: aigcCollectionAbi, functionName, args: [value] }),
    abi: aigcCollectionAbi as never,
  })
  return { ...summarizeOutcome(outcome), term, previous, value }
}
