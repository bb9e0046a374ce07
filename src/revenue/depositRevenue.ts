/**
 * Sends revenue (native currency) to an IMO token, as a model's earnings do: a plain transfer to the
 * token's `receive()`, through the journal.
 *
 * Step ids, and why: `deposit:<token>:<wei>:s<snapshot id>#<n>[@key:<KEY>]`. Depositing the same amount
 * twice is legitimate, so the id cannot be the inputs alone; but a re-run must not send a second
 * deposit. The rules (src/revenue/repeatGuard.ts, the same for every value-moving command):
 * - an open deposit of the same amount to the same token in the signer's journal (intent recorded, no
 *   receipt: crashed, interrupted, timed out) is RESUMED: the identical signed transaction is looked up
 *   and re-broadcast if needed, never a new one;
 * - with `--key K`, one deposit per key: a re-run with K reports the deposit made under K (nothing
 *   sent, exit 0); K with another amount is exit 2;
 * - without a key, a confirmed deposit of the same amount in the current snapshot period makes a new
 *   one ask first (terminal) or stop with exit 2 (no terminal): a new --key makes it deliberate;
 * - otherwise the deposit is new and gets the next number `n` for that amount and period.
 */
import type { Address, Hex } from 'viem'
import { imoTokenAbi } from '../../contracts-abi/index.js'
import type { ChainContext } from '../chain/connect.js'
import { ImoError, InsufficientFundsError, UsageError } from '../errors.js'

export interface DepositResult {
  status: 'sent' | 'resumed' | 'already-confirmed' | 'dry-run' | 'cancelled'
  token: Address
  from: Address
  amountWei: bigint
  /** The journal step id. */
  stepId: string
  txHash?: Hex
  blockNumber?: bigint
  gas: bigint
  /** Fee paid (or, for a dry run, its upper bound including the value). */
  costWei?: bigint
  /** The token's pending revenue after the deposit (to be split at the next snapshot). */
  pendingRevenueWei: bigint
  /** The snapshot period (latest snapshot id) the deposit was made in. */
  snapshotId: number
  /** Earlier confirmed deposits of the same amount in this period (why a repeat needs a new --key). */
  earlierSameAmount: Array<{ id: string; txHash?: Hex }>
}

/**
 * Deposits `amountWei` of native currency as revenue to the token (or resumes an interrupted deposit).
 * @param ctx - chain context with a signer (and its journal unless --dry-run).
 * @param token - the IMO token address.
 * @param amountWei - the amount, > 0.
 * @returns the outcome, with the pending revenue after it.
 * @throws UsageError (2) for a repeat without a new --key and no terminal, or a --key used for another
 *   amount; InsufficientFundsError (8) when the signer holds less than the amount; UsageError (2) when
 *   the supply is zero (the revenue would be locked); SimulationRevertedError (3) e.g. BalanceCapExceeded;
 *   chain errors from sendStep.
 * @example
 * import { depositRevenue } from './depositRevenue.js'
 * const result = await depositRevenue(ctx, deployment.imoToken.address, 1_000_000_000_000_000_000n)
 * result.status // 'sent'
 * result.pendingRevenueWei // 1000000000000000000n
 */
export async function depositRevenue(ctx: ChainContext, token: Address, amountWei: bigint): Promise<DepositResult> {
  if (amountWei <= 0n) throw new UsageError('AMOUNT must be greater than zero')
  const account = ctx.account
  if (!account) throw new ImoError('depositRevenue needs a chain context with a signer')
  const { toImoError } = await import('../chain/toImoError.js')
  const { formatNative } = await import('../chain/format.js')
  const { findKeyedStep, findOpenStep, keySuffix, listSteps } = await import('./journalSteps.js')
  const { guardRepeat, keyedStepId } = await import('./repeatGuard.js')
  const { note } = await import('../cli/ui.js')
  const { sendStep, summarizeOutcome } = await import('../chain/sendStep.js')
  const { callsTo, readMany } = await import('./readMany.js')
  const tokenKey = token.toLowerCase()
  const amountText = formatNative(amountWei, ctx.nativeSymbol)
  const read = callsTo(token, imoTokenAbi)
  const [snapshotIdBig, supply] = (await readMany(ctx, [read('currentSnapshotId'), read('totalSupply')])) as [bigint, bigint]
  // receive() cannot refuse within a 2,300-gas stipend, so the token accepts ether with no holders left;
  // nobody could ever claim or redeem it.
  if (supply === 0n)
    throw new UsageError('the token has no holders left (its whole supply was burned): revenue sent to it would be locked')
  const snapshotId = Number(snapshotIdBig)

  let stepId: string
  let earlierSameAmount: DepositResult['earlierSameAmount'] = []
  const key = ctx.tx.key
  const earlierKeyed = ctx.journal && key ? findKeyedStep(ctx.journal, `deposit:${tokenKey}:`, key) : undefined
  const keyedAmount = earlierKeyed ? BigInt(earlierKeyed.id.split(':')[2]!) : undefined
  const keyed = earlierKeyed
    ? keyedStepId(earlierKeyed, keyedAmount === amountWei, `a deposit of ${formatNative(keyedAmount!, ctx.nativeSymbol)}`, key!)
    : undefined
  const open = ctx.journal ? findOpenStep(ctx.journal, `deposit:${tokenKey}:${amountWei}:`) : undefined
  if (keyed) {
    stepId = keyed
    note(`--key ${key}: the deposit of ${amountText} made under this key is reported; nothing new is sent`)
  } else if (open) {
    stepId = open.id
    note(`resuming the interrupted deposit of ${amountText} recorded in the journal${open.txHash ? ` (${open.txHash})` : ''}`)
  } else {
    const prefix = `deposit:${tokenKey}:${amountWei}:s${snapshotId}#`
    const earlier = ctx.journal ? listSteps(ctx.journal, prefix) : []
    earlierSameAmount = earlier
      .filter((step) => step.state === 'confirmed')
      .map((step) => ({ id: step.id, ...(step.txHash ? { txHash: step.txHash } : {}) }))
    if (!key && !ctx.tx.dryRun) {
      const go = await guardRepeat(
        earlier,
        `${account.address} already deposited ${amountText} in this snapshot period`,
        `Deposit ${amountText} again?`,
      )
      if (!go)
        return {
          status: 'cancelled',
          token,
          from: account.address,
          amountWei,
          stepId: `${prefix}${earlier.length + 1}`,
          gas: 0n,
          pendingRevenueWei: ((await readMany(ctx, [read('pendingRevenue')])) as [bigint])[0],
          snapshotId,
          earlierSameAmount,
        }
    }
    stepId = ctx.tx.dryRun ? `${prefix}dry-run` : `${prefix}${earlier.length + 1}${key ? keySuffix(key) : ''}`
    const balance = await ctx.publicClient.getBalance({ address: account.address }).catch((error: unknown) => {
      throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: 'reading the balance' })
    })
    if (balance < amountWei)
      throw new InsufficientFundsError(
        `${account.address} holds ${formatNative(balance, ctx.nativeSymbol)}, less than the ${amountText} to deposit; nothing was sent`,
      )
  }

  const outcome = await sendStep(ctx, {
    id: stepId,
    label: `deposit ${amountText}`,
    to: token,
    data: '0x',
    value: amountWei,
    abi: imoTokenAbi,
  })
  const [pendingRevenueWei] = (await readMany(ctx, [read('pendingRevenue')])) as [bigint]
  return {
    ...summarizeOutcome(outcome),
    token,
    from: account.address,
    amountWei,
    stepId,
    pendingRevenueWei,
    snapshotId,
    earlierSameAmount,
  }
}
