/**
 * Sending through the journal (DESIGN section 6). Each step is simulated (eth_estimateGas at 'pending',
 * a revert explained by eth_call and decoded into the contract's custom errors), signed with a journal-allocated nonce,
 * journalled (raw transaction and hash, flushed) BEFORE broadcast, broadcast, and waited for; the
 * receipt is journalled too. A re-run resumes from the journal instead of sending twice.
 *
 * Test-only fault points: IMO_TEST_CRASH_AT=<point>:<step-id-prefix>[,...] with point
 * `after-journal` (signed tx journalled, not broadcast) or `after-broadcast` (broadcast, receipt
 * not yet journalled) kills the process with SIGKILL there, to prove crash safety.
 */
import type { Abi, Address, Hex, TransactionReceipt } from 'viem'
import {
  ImoError,
  InsufficientFundsError,
  NonceConflictError,
  NotConfirmedError,
  SimulationRevertedError,
  TransactionRevertedError,
  UsageError,
} from '../errors.js'
import { mapConcurrent } from '../util/mapConcurrent.js'
import type { ChainContext } from './connect.js'
import type { SignedRecord } from './journal.js'

export interface TxStep {
  /** Stable id derived from the step's inputs (never its position), e.g. `deploy:ImoToken:<hash of args>`. */
  id: string
  /** For people: 'deploy ImoToken', 'mint "a red spiral"'. */
  label: string
  /** Target contract; undefined for a contract deployment (data = bytecode + constructor args). */
  to?: Address
  data: Hex
  value?: bigint
  /** ABI used to decode custom errors when the call reverts. */
  abi?: Abi
  /**
   * Whether the step's effect is on chain already (token minted, claim done, snapshot taken), asked
   * when its journalled transaction was replaced by another one with the same nonce: true settles
   * the step without sending; false (or absent) sends it once more with a fresh nonce.
   */
  effect?: () => Promise<boolean>
}

/**
 * One step's outcome as a NonceConflictError from sendSteps reports it (`error.data.outcomes`):
 * 'replaced' when another transaction took its nonce (a re-run recovers), else as StepOutcome.
 */
export type ReportedOutcome = Omit<StepOutcome, 'status' | 'receipt'> & { status: StepOutcome['status'] | 'replaced' }

export interface StepOutcome {
  id: string
  label: string
  status: 'sent' | 'resumed' | 'already-confirmed' | 'dry-run'
  hash?: Hex
  receipt?: TransactionReceipt
  contractAddress?: Address
  /** Gas limit used (or estimated, for dry runs). */
  gas: bigint
  /** Upper bound of the fee (gas * max fee per gas); for confirmed steps, the fee actually paid. */
  costWei?: bigint
  blockNumber?: bigint
}

interface Fees {
  type: 'eip1559' | 'legacy'
  maxFeePerGas?: bigint
  maxPriorityFeePerGas?: bigint
  gasPrice?: bigint
  /** The per-gas price used for cost bounds. */
  perGas: bigint
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function crashPoint(point: 'after-journal' | 'after-broadcast', id: string): void {
  const spec = process.env.IMO_TEST_CRASH_AT
  if (!spec) return
  for (const entry of spec.split(',')) {
    const [at, prefix = ''] = entry.split(/:(.*)/s)
    if (at === point && id.startsWith(prefix)) process.kill(process.pid, 'SIGKILL')
  }
}

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

function isRevert(error: unknown): boolean {
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

async function resolveFees(ctx: ChainContext): Promise<Fees> {
  const { toImoError } = await import('./toImoError.js')
  const client = ctx.sendClient
  try {
    if (ctx.tx.gasPrice !== undefined) return { type: 'legacy', gasPrice: ctx.tx.gasPrice, perGas: ctx.tx.gasPrice }
    const block = await client.getBlock({ blockTag: 'latest' })
    if (block.baseFeePerGas === null || block.baseFeePerGas === undefined) {
      if (ctx.tx.maxFeePerGas !== undefined || ctx.tx.maxPriorityFeePerGas !== undefined)
        throw new UsageError(`chain ${ctx.chainId} has no EIP-1559 base fee: use --gas-price instead of --max-fee-per-gas`)
      const gasPrice = await client.getGasPrice()
      return { type: 'legacy', gasPrice, perGas: gasPrice }
    }
    let priority = ctx.tx.maxPriorityFeePerGas
    if (priority === undefined) {
      try {
        priority = await client.estimateMaxPriorityFeePerGas()
      } catch {
        priority = 1_000_000_000n
      }
    }
    const maxFee = ctx.tx.maxFeePerGas ?? block.baseFeePerGas * 2n + priority
    if (priority > maxFee) priority = maxFee
    return { type: 'eip1559', maxFeePerGas: maxFee, maxPriorityFeePerGas: priority, perGas: maxFee }
  } catch (error) {
    throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: 'reading fees' })
  }
}

/**
 * The intrinsic gas of a transaction (EIP-2028 calldata, EIP-3860 init code): no node accepts a gas
 * limit below it, whatever --force says.
 * @example
 * intrinsicGas({ to: '0x…', data: '0x' }) // 21000n
 */
export function intrinsicGas(step: Pick<TxStep, 'to' | 'data'>): bigint {
  const bytes = (step.data.length - 2) / 2
  let zeros = 0
  for (let i = 2; i < step.data.length; i += 2) if (step.data.slice(i, i + 2) === '00') zeros++
  let gas = 21_000n + BigInt(zeros) * 4n + BigInt(bytes - zeros) * 16n
  if (!step.to) gas += 32_000n + 2n * BigInt(Math.ceil(bytes / 32))
  return gas
}

/**
 * The gas limit to sign with: --gas-limit, else the estimate + 20 %. A --gas-limit below the
 * estimate would run out of gas on chain (a reverted transaction that still costs its fee), so it is
 * refused unless --force; below the intrinsic gas it is refused even then (no node would mine it).
 * @param ctx - chain context (its tx settings).
 * @param step - the step (label for the message, to and data for the intrinsic gas).
 * @param estimate - the node's gas estimate.
 * @returns the gas limit.
 * @throws UsageError (2) for a --gas-limit below the estimate without --force, or below the intrinsic gas.
 * @example
 * gasLimitFor(ctx, step, 52_000n) // 62400n (no --gas-limit)
 */
export function gasLimitFor(
  ctx: Pick<ChainContext, 'tx'>,
  step: Pick<TxStep, 'label' | 'to' | 'data'>,
  estimate: bigint,
): bigint {
  const limit = ctx.tx.gasLimit
  if (limit === undefined) return (estimate * 120n) / 100n
  const hint = 'raise --gas-limit or leave it out (the estimate + 20% is used); --force sends with it anyway'
  const floor = intrinsicGas(step)
  if (limit < floor)
    throw new UsageError(
      `--gas-limit ${limit} is below the intrinsic gas of "${step.label}" (${floor}): no node would mine it; nothing was sent`,
      { hint: 'raise --gas-limit or leave it out (the estimate + 20% is used)' },
    )
  if (limit < estimate && !ctx.tx.force)
    throw new UsageError(
      `--gas-limit ${limit} is below the ${estimate} gas the simulation of "${step.label}" needs: it would run out of gas and revert; nothing was sent`,
      { hint },
    )
  return limit
}

type EstimateGasArgs = Parameters<ChainContext['publicClient']['estimateGas']>[0]

/**
 * Simulates a step (eth_estimateGas at 'pending'; eth_call for the reason when it fails) without sending anything.
 * @param ctx - chain context (needs an account for `from`, else the zero address).
 * @param step - the step.
 * @returns the gas limit to use (estimate + 20 %, or --gas-limit) and the cost bound in wei.
 * @throws SimulationRevertedError (exit 3) with the decoded custom error.
 * @example
 * const { gas, costWei } = await simulateStep(ctx, step)
 */
export async function simulateStep(
  ctx: ChainContext,
  step: TxStep,
  fees?: Fees,
): Promise<{ gas: bigint; costWei: bigint; perGas: bigint }> {
  const { toImoError } = await import('./toImoError.js')
  const from = ctx.account?.address
  const request = {
    ...(from ? { account: from } : {}),
    ...(step.to ? { to: step.to } : {}),
    data: step.data,
    ...(step.value ? { value: step.value } : {}),
  }
  // eth_estimateGas executes the transaction: it is the simulation (a revert fails it). At 'pending',
  // not 'latest': on an idle chain the latest block can be minutes old, so a call guarded by
  // block.timestamp (snapshot(), a request's expiry) would be judged at the wrong time.
  const estimate = await ctx.publicClient
    .estimateGas({ ...request, blockTag: 'pending' } as EstimateGasArgs)
    .catch(explainOrRetry)
  /**
   * A failed estimate: eth_call at 'pending' says why (some nodes' estimate errors carry no revert
   * data). Both calls were sent for every transaction before; the call now runs only on a failure. When
   * the call passes, the node refused the estimate itself (some take no block tag there): estimated
   * again without one, as before.
   */
  async function explainOrRetry(estimateError: unknown): Promise<bigint> {
    let error = estimateError
    const action = `simulating "${step.label}"`
    let converted = toImoError(error, { rpcUrl: ctx.rpcUrl, action })
    if (converted.exitCode !== 6 && converted.exitCode !== 8) {
      try {
        await ctx.publicClient.call({ ...request, blockTag: 'pending' })
        return await ctx.publicClient.estimateGas(request as EstimateGasArgs)
      } catch (retryError) {
        error = retryError
      }
      converted = toImoError(error, { rpcUrl: ctx.rpcUrl, action })
    }
    if (converted.exitCode === 6 || converted.exitCode === 8) throw converted
    if (isRevert(error) || converted.exitCode === 1) {
      const reason = (await describeRevert(error, step.abi)) ?? converted.shortMessage
      throw new SimulationRevertedError(`"${step.label}" would fail: ${reason}; nothing was sent`, {
        cause: error,
        details: (error as Error)?.message,
      })
    }
    throw converted
  }
  const gas = gasLimitFor(ctx, step, estimate)
  const resolved = fees ?? (await resolveFees(ctx))
  return { gas, costWei: gas * resolved.perGas + (step.value ?? 0n), perGas: resolved.perGas }
}

/**
 * Sends one step through the journal (or only simulates it with --dry-run).
 * @param ctx - chain context with a signer.
 * @param step - the step.
 * @returns its outcome.
 * @throws SimulationRevertedError (3), TransactionRevertedError (4), NotConfirmedError (5), RpcError (6),
 *   NonceConflictError (7), InsufficientFundsError (8).
 * @example
 * const outcome = await sendStep(ctx, { id: 'snapshot:42', label: 'snapshot', to: token, data, abi: imoTokenAbi })
 * outcome.receipt?.blockNumber
 */
export async function sendStep(ctx: ChainContext, step: TxStep): Promise<StepOutcome> {
  if (ctx.tx.dryRun) return (await sendSteps(ctx, [step]))[0]!
  // Waiting for a receipt takes seconds on a real chain: say so on stderr (silent inside a command's own spinner).
  const { spinner } = await import('../cli/ui.js')
  const progress = await spinner(`sending ${step.label} and waiting for its receipt`)
  try {
    const [outcome] = await sendSteps(ctx, [step])
    progress.succeed(`${step.label}: confirmed${outcome!.blockNumber !== undefined ? ` in block ${outcome!.blockNumber}` : ''}`)
    return outcome!
  } finally {
    progress.stop()
  }
}

/** How long a transaction must stay absent, with its nonce used, before it counts as replaced. */
const ABSENT_CONFIRM_MS = 1000

interface Pending {
  step: TxStep
  signed: SignedRecord
  status: 'sent' | 'resumed'
  receipt?: TransactionReceipt
  /** Set once the tx was (re)broadcast successfully or seen by the node. */
  known: boolean
  lastBroadcast: number
  codeOnly?: boolean
  /** Another transaction took its nonce. */
  replaced?: boolean
  /** When the node first said it had neither this transaction nor its receipt while its nonce was used. */
  absentSince?: number
}

/**
 * Sends several steps pipelined: signs and journals each with consecutive nonces, broadcasts them
 * all, then waits for all receipts. Steps already confirmed in the journal are skipped; journalled
 * ones are resumed (re-broadcast identically if the node does not know them).
 * @param ctx - chain context with a signer (and journal unless dry-run).
 * @param steps - the steps, in nonce order.
 * @param options - onProgress(done, total) as receipts arrive.
 * @returns one outcome per step, in order.
 * @example
 * const outcomes = await sendSteps(ctx, prompts.map(toMintStep), { onProgress: (d, t) => spin.update(`${d}/${t}`) })
 */
export async function sendSteps(
  ctx: ChainContext,
  steps: TxStep[],
  options: { onProgress?(done: number, total: number): void } = {},
): Promise<StepOutcome[]> {
  const ids = new Set<string>()
  for (const step of steps) {
    if (ids.has(step.id)) throw new ImoError(`two steps share the id ${step.id}`)
    ids.add(step.id)
  }
  if (!ctx.account) throw new ImoError('sendSteps needs a chain context with a signer (connectChain(..., { signer: true }))')
  const fees = await resolveFees(ctx)
  if (ctx.tx.dryRun) {
    return mapConcurrent(steps, 8, async (step): Promise<StepOutcome> => {
      const { gas, costWei } = await simulateStep(ctx, step, fees)
      return { id: step.id, label: step.label, status: 'dry-run', gas, costWei }
    })
  }
  const journal = ctx.journal
  if (!journal) throw new ImoError('sendSteps needs the signer journal (connectChain without --dry-run)')
  const { toImoError } = await import('./toImoError.js')
  const rpc = (action: string) => (error: unknown) => {
    throw toImoError(error, { rpcUrl: ctx.rpcUrl, action })
  }
  const client = ctx.sendClient
  const account = ctx.account
  const { getContractAddress, keccak256 } = await import('viem')
  // A caller that holds the lock already (`imo serve`, for its whole run) keeps it: released here only
  // when taken here.
  const lockedHere = !journal.isLocked()
  journal.lock()
  try {
    journal.reload()
    const outcomes = new Map<string, StepOutcome>()
    const pending: Pending[] = []
    let latestNonce: number | undefined
    const getLatestNonce = async () =>
      client.getTransactionCount({ address: account.address, blockTag: 'latest' }).catch(rpc('reading the nonce'))
    const { isTransactionAbsent } = await import('./isTransactionAbsent.js')
    const isAbsent = (hash: Hex) => isTransactionAbsent(client, hash)

    // 0. A torn last line may be a record this journal lost: sign nothing while the chain is ahead of it.
    const torn = journal.tornLine()
    if (torn !== undefined) {
      const chainNonce = await client
        .getTransactionCount({ address: account.address, blockTag: 'pending' })
        .catch(rpc('reading the nonce'))
      const last = journal.lastSigned()
      const expected = last ? last.nonce + 1 : undefined
      if (expected === undefined ? /"type":"signed"/.test(torn) : chainNonce !== expected)
        throw new NonceConflictError(
          `the journal ${journal.path} ends in a torn line, and ${account.address} has sent ${chainNonce} transaction(s) on chain while the journal's last signed nonce is ${last ? last.nonce : 'none'}: a transaction it does not fully record may have been sent; nothing was signed`,
          {
            hint: "check the signer's recent transactions (an explorer, or `cast nonce`); if none of them is an unfinished imo step, remove the torn last line of the journal and re-run",
          },
        )
    }

    // 1. What the journal already knows.
    const fresh: TxStep[] = []
    for (const step of steps) {
      const state = journal.state(step.id)
      const dataHash = keccak256(step.data)
      const sameInputs =
        !state.intent ||
        (state.intent.dataHash === dataHash &&
          state.intent.value === String(step.value ?? 0n) &&
          (state.intent.to ?? '').toLowerCase() === (step.to ?? '').toLowerCase())
      if (!sameInputs && state.signed)
        throw new ImoError(`journal step ${step.id} was recorded with other inputs; the step id must derive from all inputs`)
      if (state.receipt && state.signed) {
        const block = await client.getBlock({ blockNumber: BigInt(state.receipt.blockNumber) }).catch(() => undefined)
        if (block && block.hash === state.receipt.blockHash && state.receipt.status === 'success') {
          let contractAddress = state.receipt.contractAddress
          if (contractAddress) {
            const code = await client.getCode({ address: contractAddress }).catch(rpc('reading code'))
            if (!code || code === '0x') contractAddress = undefined
          }
          if (!state.receipt.contractAddress || contractAddress) {
            outcomes.set(step.id, {
              id: step.id,
              label: step.label,
              status: 'already-confirmed',
              hash: state.signed.hash,
              gas: BigInt(state.signed.gas),
              costWei: BigInt(state.receipt.gasUsed) * BigInt(state.receipt.effectiveGasPrice ?? '0'),
              blockNumber: BigInt(state.receipt.blockNumber),
              ...(contractAddress ? { contractAddress } : {}),
            })
            continue
          }
        }
        if (state.receipt.status === 'reverted' && block && block.hash === state.receipt.blockHash) {
          // A reverted step is tried afresh (simulation tells whether it still fails).
          journal.append({
            type: 'dropped',
            id: step.id,
            hash: state.signed.hash,
            reason: 'reverted',
            at: new Date().toISOString(),
          })
          fresh.push(step)
          continue
        }
        // Reorged out: the receipt no longer stands; resume the transaction itself below.
      }
      if (state.signed) {
        pending.push({ step, signed: state.signed, status: 'resumed', known: false, lastBroadcast: 0 })
        continue
      }
      fresh.push(step)
    }

    // 2. Resumed transactions: is each known, mined, or was its nonce taken by another one?
    for (const entry of pending) {
      const receipt = await client.getTransactionReceipt({ hash: entry.signed.hash }).catch(() => undefined)
      if (receipt) {
        entry.receipt = receipt
        entry.known = true
        continue
      }
      const known = await client.getTransaction({ hash: entry.signed.hash }).catch(() => undefined)
      if (known) {
        entry.known = true
        continue
      }
      latestNonce ??= await getLatestNonce()
      if (latestNonce > entry.signed.nonce) {
        if (entry.signed.contractAddress) {
          const code = await client.getCode({ address: entry.signed.contractAddress }).catch(rpc('reading code'))
          if (code && code !== '0x') {
            entry.known = true
            entry.codeOnly = true
            continue
          }
        }
        // Before sending anything again, make sure ours is really absent: a failed lookup is not "absent"
        // (it is awaited below like any sent transaction, and judged again there).
        if (!(await isAbsent(entry.signed.hash))) {
          entry.known = true
          continue
        }
        // Replaced: another transaction took the nonce, so ours can never be mined. If the step's
        // effect is on chain anyway it is done; else it is sent once more with a fresh nonce.
        const done = entry.step.effect ? await entry.step.effect() : false
        const { note } = await import('../cli/ui.js')
        journal.append({
          type: 'dropped',
          id: entry.step.id,
          hash: entry.signed.hash,
          reason: `replaced: nonce ${entry.signed.nonce} was taken by another transaction; ${done ? 'the step was done on chain anyway' : 'sent again with a new nonce'}`,
          at: new Date().toISOString(),
        })
        note(
          `"${entry.step.label}" (${entry.signed.hash}) was replaced by another transaction with nonce ${entry.signed.nonce}; ${done ? 'its effect is on chain anyway, nothing to send' : 'sending it again with a new nonce'}`,
        )
        entry.replaced = true
        if (done)
          outcomes.set(entry.step.id, {
            id: entry.step.id,
            label: entry.step.label,
            status: 'already-confirmed',
            gas: BigInt(entry.signed.gas),
          })
        else fresh.push(entry.step)
      }
    }
    for (let index = pending.length - 1; index >= 0; index--) if (pending[index]!.replaced) pending.splice(index, 1)

    // 3. Fresh steps: simulate, check funds, allocate consecutive nonces, sign, journal.
    if (fresh.length > 0) {
      // Independent steps (see README): simulate them side by side rather than one round trip each.
      const simulations = await mapConcurrent(fresh, 8, (step) => simulateStep(ctx, step, fees))
      const needed = simulations.reduce((sum, sim) => sum + sim.costWei, 0n)
      const balance = await client.getBalance({ address: account.address }).catch(rpc('reading the balance'))
      if (balance < needed) {
        const { formatNative } = await import('./format.js')
        throw new InsufficientFundsError(
          `insufficient funds: ${account.address} holds ${formatNative(balance, ctx.nativeSymbol)} but up to ${formatNative(needed, ctx.nativeSymbol)} is needed; nothing was sent`,
          { hint: 'fund the signer, or lower --max-fee-per-gas' },
        )
      }
      let nonce = await client
        .getTransactionCount({ address: account.address, blockTag: 'pending' })
        .catch(rpc('reading the nonce'))
      for (const entry of pending) if (!entry.receipt && !entry.codeOnly) nonce = Math.max(nonce, entry.signed.nonce + 1)
      for (const [index, step] of fresh.entries()) {
        const gas = simulations[index]!.gas
        const base = {
          chainId: ctx.chainId,
          nonce,
          gas,
          data: step.data,
          value: step.value ?? 0n,
          ...(step.to ? { to: step.to } : {}),
        }
        const request =
          fees.type === 'legacy'
            ? { ...base, type: 'legacy' as const, gasPrice: fees.gasPrice! }
            : {
                ...base,
                type: 'eip1559' as const,
                maxFeePerGas: fees.maxFeePerGas!,
                maxPriorityFeePerGas: fees.maxPriorityFeePerGas!,
              }
        const now = new Date().toISOString()
        journal.append({
          type: 'intent',
          id: step.id,
          label: step.label,
          from: account.address,
          ...(step.to ? { to: step.to } : {}),
          value: String(step.value ?? 0n),
          dataHash: keccak256(step.data),
          at: now,
        })
        const raw = await account.signTransaction(request as Parameters<typeof account.signTransaction>[0])
        const signed: SignedRecord = {
          type: 'signed',
          id: step.id,
          nonce,
          hash: keccak256(raw),
          raw,
          gas: String(gas),
          ...(step.to ? {} : { contractAddress: getContractAddress({ from: account.address, nonce: BigInt(nonce) }) }),
          at: new Date().toISOString(),
        }
        journal.append(signed)
        crashPoint('after-journal', step.id)
        pending.push({ step, signed, status: 'sent', known: false, lastBroadcast: 0 })
        nonce++
      }
    }

    // 4. Broadcast everything the node does not know yet, in nonce order.
    pending.sort((a, b) => a.signed.nonce - b.signed.nonce)
    let lastRpcError: unknown
    const broadcast = async (entry: Pending): Promise<void> => {
      entry.lastBroadcast = Date.now()
      try {
        await client.request({ method: 'eth_sendRawTransaction', params: [entry.signed.raw] })
        entry.known = true
      } catch (error) {
        const converted = toImoError(error, { rpcUrl: ctx.rpcUrl, action: `sending "${entry.step.label}"` })
        const message = String((error as Error)?.message ?? '')
        if (/already known|known transaction|already imported|already exists/i.test(message)) {
          entry.known = true
          return
        }
        if (converted.exitCode === 6) {
          lastRpcError = converted // maybe it arrived; receipts and re-broadcasts will tell
          return
        }
        if (converted.exitCode === 7) {
          // Nonce too low: fine if it is ours that was mined.
          const mine = await client.getTransaction({ hash: entry.signed.hash }).catch(() => undefined)
          if (mine) {
            entry.known = true
            return
          }
        }
        throw converted
      }
      crashPoint('after-broadcast', entry.step.id)
    }
    for (const entry of pending) if (!entry.known) await broadcast(entry)

    // 5. Wait for every receipt (and the confirmations asked for).
    const deadline = Date.now() + ctx.tx.timeoutMs
    const total = steps.length
    const doneCount = () => outcomes.size + pending.filter((entry) => entry.replaced).length
    options.onProgress?.(doneCount(), total)
    const reverted: Array<{ entry: Pending; receipt: TransactionReceipt }> = []
    let waiting = pending.filter((entry) => !entry.codeOnly)
    for (const entry of pending.filter((e) => e.codeOnly)) {
      outcomes.set(entry.step.id, {
        id: entry.step.id,
        label: entry.step.label,
        status: 'resumed',
        hash: entry.signed.hash,
        gas: BigInt(entry.signed.gas),
        ...(entry.signed.contractAddress ? { contractAddress: entry.signed.contractAddress } : {}),
      })
    }
    while (waiting.length > 0) {
      // With one confirmation a receipt is enough (its block is the head or below it): the head is read
      // only when more are asked for (a call per round saved: serve fulfils one batch after another).
      const confirmations = BigInt(ctx.tx.confirmations)
      let head: bigint | undefined
      if (confirmations > 1n)
        try {
          head = await client.getBlockNumber({ cacheTime: 0 })
        } catch (error) {
          lastRpcError = toImoError(error, { rpcUrl: ctx.rpcUrl })
        }
      const deepEnough = (receipt: TransactionReceipt) =>
        confirmations <= 1n || (head !== undefined && head - receipt.blockNumber + 1n >= confirmations)
      const still: Pending[] = []
      // The signer's mined nonce, read at most once per round however many steps are still waiting.
      let nonceThisRound: Promise<number | undefined> | undefined
      const latestNonceThisRound = () => (nonceThisRound ??= getLatestNonce().catch(() => undefined))
      // Receipts of a pipelined batch are fetched side by side, and each block once per round.
      // A receipt read in an earlier round may have been reorganised away since: its block is re-read
      // before it counts. One read this round came from the node's canonical chain just now.
      const earlier = new Set(waiting.filter((entry) => entry.receipt))
      const receipts = await mapConcurrent(waiting, 8, async (entry) => {
        if (entry.receipt) return entry.receipt
        try {
          return (await client.getTransactionReceipt({ hash: entry.signed.hash })) ?? undefined
        } catch (error) {
          const name = (error as { name?: string })?.name
          if (name !== 'TransactionReceiptNotFoundError') lastRpcError = toImoError(error, { rpcUrl: ctx.rpcUrl })
          return undefined
        }
      })
      const blocks = new Map<bigint, Promise<{ hash: Hex | null } | undefined>>()
      const blockAt = (number: bigint) => {
        if (!blocks.has(number))
          blocks.set(
            number,
            client.getBlock({ blockNumber: number }).catch(() => undefined),
          )
        return blocks.get(number)!
      }
      for (const [index, entry] of waiting.entries()) {
        const receipt = receipts[index]
        if (receipt && deepEnough(receipt)) {
          // Confirmed deep enough; make sure the block still holds it.
          const block = earlier.has(entry) ? await blockAt(receipt.blockNumber) : undefined
          if (block && block.hash !== receipt.blockHash) {
            entry.receipt = undefined
            still.push(entry)
            continue
          }
          journal.append({
            type: 'receipt',
            id: entry.step.id,
            hash: entry.signed.hash,
            status: receipt.status,
            blockNumber: String(receipt.blockNumber),
            blockHash: receipt.blockHash,
            gasUsed: String(receipt.gasUsed),
            ...(receipt.effectiveGasPrice !== undefined ? { effectiveGasPrice: String(receipt.effectiveGasPrice) } : {}),
            ...(receipt.contractAddress ? { contractAddress: receipt.contractAddress } : {}),
            at: new Date().toISOString(),
          })
          if (receipt.status === 'reverted') reverted.push({ entry, receipt })
          outcomes.set(entry.step.id, {
            id: entry.step.id,
            label: entry.step.label,
            status: entry.status,
            hash: entry.signed.hash,
            receipt,
            gas: BigInt(entry.signed.gas),
            costWei: receipt.gasUsed * (receipt.effectiveGasPrice ?? 0n),
            blockNumber: receipt.blockNumber,
            ...(receipt.contractAddress ? { contractAddress: receipt.contractAddress } : {}),
          })
          options.onProgress?.(doneCount(), total)
          continue
        }
        if (receipt) entry.receipt = receipt
        else {
          // Not mined: was the nonce taken by something else? Else re-broadcast now and then.
          if (entry.known || Date.now() - entry.lastBroadcast > 5000) {
            const nonceNow = await latestNonceThisRound()
            if (nonceNow !== undefined && nonceNow > entry.signed.nonce && (await isAbsent(entry.signed.hash))) {
              // Replaced, if the node still says so a round later: the nonce read came after this round's
              // receipt read, and a node can count a mined nonce before it serves the receipt (a fulfilment
              // misread as replaced was sent again and then found the request fulfilled).
              if (entry.absentSince !== undefined && Date.now() - entry.absentSince >= ABSENT_CONFIRM_MS) {
                // The others are still awaited, so the error reports every step's outcome.
                entry.replaced = true
                options.onProgress?.(doneCount(), total)
                continue
              }
              entry.absentSince ??= Date.now()
            } else entry.absentSince = undefined
          }
          if (Date.now() - entry.lastBroadcast > (entry.known ? 30_000 : 3000)) await broadcast(entry)
        }
        still.push(entry)
      }
      waiting = still
      if (waiting.length === 0) break
      if (Date.now() > deadline) {
        const list = waiting.map((entry) => `${entry.step.label} ${entry.signed.hash}`).join('; ')
        throw new NotConfirmedError(
          `not confirmed after ${Math.round(ctx.tx.timeoutMs / 1000)} s: ${list}${lastRpcError ? ` (the RPC also failed: ${(lastRpcError as ImoError).shortMessage})` : ''}`,
          { hint: 're-run the same command to resume (the journal keeps the signed transactions); --timeout waits longer' },
        )
      }
      await sleep(ctx.tx.pollingIntervalMs)
    }
    const replaced = pending.filter((entry) => entry.replaced)
    if (replaced.length > 0) {
      const list = replaced.map((entry) => `"${entry.step.label}" (${entry.signed.hash})`).join(', ')
      throw new NonceConflictError(
        `${replaced.length === 1 ? 'a transaction was' : `${replaced.length} transactions were`} replaced: another transaction from ${account.address} took the nonce of ${list}`,
        {
          hint: 're-run the same command: it checks whether each replaced step happened anyway and otherwise sends it once more with a new nonce',
          data: {
            outcomes: steps.flatMap((step): ReportedOutcome[] => {
              const outcome = outcomes.get(step.id)
              if (outcome) {
                const { receipt: _receipt, ...rest } = outcome
                return [rest]
              }
              const entry = replaced.find((e) => e.step.id === step.id)
              return entry
                ? [{ id: step.id, label: step.label, status: 'replaced', hash: entry.signed.hash, gas: BigInt(entry.signed.gas) }]
                : []
            }),
          },
        },
      )
    }
    if (reverted.length > 0) {
      const { entry, receipt } = reverted[0]!
      let reason: string | undefined
      try {
        await ctx.publicClient.call({
          account: account.address,
          ...(entry.step.to ? { to: entry.step.to } : {}),
          data: entry.step.data,
          ...(entry.step.value ? { value: entry.step.value } : {}),
          blockNumber: receipt.blockNumber - 1n,
        })
      } catch (error) {
        reason = await describeRevert(error, entry.step.abi)
      }
      throw new TransactionRevertedError(
        `"${entry.step.label}" was mined in block ${receipt.blockNumber} but reverted${reason ? `: ${reason}` : ''} (${entry.signed.hash})`,
      )
    }
    return steps.map((step) => outcomes.get(step.id)!)
  } finally {
    if (lockedHere) journal.unlock()
  }
}

/** What a command reports of a sent (or simulated) step: status, hash, block, gas and cost. */
export type OutcomeSummary = Pick<StepOutcome, 'status' | 'hash' | 'blockNumber' | 'gas' | 'costWei'>

/**
 * The reportable fields of an outcome, without the receipt (and without keys that are undefined,
 * so --json documents stay compact).
 * @example
 * const result = { ...summarizeOutcome(await sendStep(ctx, step)), token }
 */
export function summarizeOutcome(outcome: StepOutcome): OutcomeSummary {
  return {
    status: outcome.status,
    ...(outcome.hash ? { hash: outcome.hash } : {}),
    ...(outcome.blockNumber !== undefined ? { blockNumber: outcome.blockNumber } : {}),
    gas: outcome.gas,
    ...(outcome.costWei !== undefined ? { costWei: outcome.costWei } : {}),
  }
}
