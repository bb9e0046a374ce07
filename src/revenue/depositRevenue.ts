/**
 * Sends revenue to an IMO token, as a model's earnings do, through the journal: native currency is a
 * plain transfer to the token's `receive()`; an ERC-20 revenue currency is a plain ERC-20 `transfer` to
 * the token (no approval: the token counts what it holds beyond what it owes).
 *
 * Step ids, and why: `deposit:<token>:<amount>:s<snapshot id>#<n>[@key:<KEY>]`, where `<amount>` is the
 * wei of a native deposit or `<currency>/<smallest units>` of an ERC-20 one. Depositing the same amount
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
import { type Currency, formatCurrency, nativeCurrency } from './resolveCurrency.js'

export interface DepositResult {
  status: 'sent' | 'resumed' | 'already-confirmed' | 'dry-run' | 'cancelled'
  token: Address
  from: Address
  /** In the currency's smallest unit (wei for the native currency). */
  amountWei: bigint
  currency: Currency
  /** The journal step id. */
  stepId: string
  txHash?: Hex
  blockNumber?: bigint
  gas: bigint
  /** Fee paid (or, for a dry run, its upper bound including the value). */
  costWei?: bigint
  /** The token's pending revenue in this currency after the deposit (to be split at the next snapshot). */
  pendingRevenueWei: bigint
  /** The snapshot period (latest snapshot id) the deposit was made in. */
  snapshotId: number
  /** Earlier confirmed deposits of the same amount in this period (why a repeat needs a new --key). */
  earlierSameAmount: Array<{ id: string; txHash?: Hex }>
}

/**
 * Deposits `amountWei` of a revenue currency to the token (or resumes an interrupted deposit).
 * @param ctx - chain context with a signer (and its journal unless --dry-run).
 * @param token - the IMO token address.
 * @param amountWei - the amount in the currency's smallest unit, > 0.
 * @param currency - a currency the token lists (resolveCurrency); default the native currency.
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
export async function depositRevenue(
  ctx: ChainContext,
  token: Address,
  amountWei: bigint,
  currency: Currency = nativeCurrency(ctx),
): Promise<DepositResult> {
  if (amountWei <= 0n) throw new UsageError('AMOUNT must be greater than zero')
  const account = ctx.account
  if (!account) throw new ImoError('depositRevenue needs a chain context with a signer')
  const { findKeyedStep, findOpenStep, keySuffix, listSteps } = await import('./journalSteps.js')
  const { guardRepeat, keyedStepId } = await import('./repeatGuard.js')
  const { note } = await import('../cli/ui.js')
  const { sendStep, summarizeOutcome } = await import('../chain/sendStep.js')
  const { callsTo, readMany } = await import('./readMany.js')
  const tokenKey = token.toLowerCase()
  const amountField = currency.native ? `${amountWei}` : `${currency.address.toLowerCase()}/${amountWei}`
  const amountText = formatCurrency(amountWei, currency)
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
  const keyedField = earlierKeyed?.id.split(':')[2]
  const keyed = earlierKeyed
    ? keyedStepId(earlierKeyed, keyedField === amountField, `a deposit of ${describeAmountField(keyedField!, ctx)}`, key!)
    : undefined
  const open = ctx.journal ? findOpenStep(ctx.journal, `deposit:${tokenKey}:${amountField}:`) : undefined
  if (keyed) {
    stepId = keyed
    note(`--key ${key}: the deposit of ${amountText} made under this key is reported; nothing new is sent`)
  } else if (open) {
    stepId = open.id
    note(`resuming the interrupted deposit of ${amountText} recorded in the journal${open.txHash ? ` (${open.txHash})` : ''}`)
  } else {
    const prefix = `deposit:${tokenKey}:${amountField}:s${snapshotId}#`
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
          currency,
          stepId: `${prefix}${earlier.length + 1}`,
          gas: 0n,
          pendingRevenueWei: await readPending(),
          snapshotId,
          earlierSameAmount,
        }
    }
    stepId = ctx.tx.dryRun ? `${prefix}dry-run` : `${prefix}${earlier.length + 1}${key ? keySuffix(key) : ''}`
    const balance = await readBalance(ctx, currency, account.address)
    if (balance < amountWei)
      throw new InsufficientFundsError(
        `${account.address} holds ${formatCurrency(balance, currency)}, less than the ${amountText} to deposit; nothing was sent`,
      )
  }

  const { encodeFunctionData, erc20Abi } = await import('viem')
  const outcome = await sendStep(ctx, {
    id: stepId,
    label: `deposit ${amountText}`,
    ...(currency.native
      ? { to: token, data: '0x' as const, value: amountWei, abi: imoTokenAbi }
      : {
          to: currency.address,
          data: encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [token, amountWei] }),
          abi: erc20Abi,
        }),
  })
  return {
    ...summarizeOutcome(outcome),
    token,
    from: account.address,
    amountWei,
    currency,
    stepId,
    pendingRevenueWei: await readPending(),
    snapshotId,
    earlierSameAmount,
  }

  async function readPending(): Promise<bigint> {
    const [pending] = (await readMany(ctx, [
      currency.native ? read('pendingRevenue') : read('pendingRevenue', [currency.address]),
    ])) as [bigint]
    return pending
  }
}

/** The signer's balance in the currency (what the deposit takes from). */
async function readBalance(ctx: ChainContext, currency: Currency, holder: Address): Promise<bigint> {
  const { toImoError } = await import('../chain/toImoError.js')
  const { erc20Abi } = await import('viem')
  const read = currency.native
    ? ctx.publicClient.getBalance({ address: holder })
    : ctx.publicClient.readContract({ address: currency.address, abi: erc20Abi, functionName: 'balanceOf', args: [holder] })
  return read.catch((error: unknown) => {
    throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: `reading the ${currency.symbol} balance` })
  })
}

/** A step id's amount field in words: '1.5 ETH', or '2500000 (smallest units) of 0x5193…'. */
function describeAmountField(field: string, ctx: ChainContext): string {
  const [currency, amount] = field.includes('/') ? field.split('/') : [undefined, field]
  return currency ? `${amount} smallest units of ${currency}` : formatCurrency(BigInt(amount!), nativeCurrency(ctx))
}
