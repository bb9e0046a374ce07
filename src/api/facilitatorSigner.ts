/**
 * The x402 SDK's FacilitatorEvmSigner over imo's own transaction engine, so that serve's self-hosted
 * facilitator settles payments with serve's key through the same journal and nonce allocation as its
 * fulfilments (docs/x402-notes.md section 5: a bare viem wallet beside serve's sends clashes on nonces).
 *
 * - writes (`transferWithAuthorization`) become journalled steps with a stable id per authorization
 *   (`x402-settle:<asset>:<payer>:<nonce>`), simulated before they are signed; the settlements waiting
 *   at one moment go out as one pipelined batch (one block for all of them, not one each);
 * - a step the journal finds confirmed already (the same authorization settled before) is a failure
 *   here, never a second success;
 * - reads that fail on the transport are counted (`rpcFailures`), so the server answers 503 instead of
 *   the SDK's misdiagnosed 402; `getCode` never rejects (the SDK leaves that promise unobserved: an
 *   unhandled rejection would end the process).
 */
import type { Abi, Address, Hex, TransactionReceipt } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import type { TxStep } from '../chain/txStep.js'

/** What the SDK's exact-EVM facilitator asks of a signer (FacilitatorEvmSigner of @x402/evm 2.27). */
export interface ImoFacilitatorSigner {
  getAddresses(): readonly Hex[]
  readContract(args: { address: Hex; abi: readonly unknown[]; functionName: string; args?: readonly unknown[] }): Promise<unknown>
  verifyTypedData(args: {
    address: Hex
    domain: Record<string, unknown>
    types: Record<string, unknown>
    primaryType: string
    message: Record<string, unknown>
    signature: Hex
  }): Promise<boolean>
  writeContract(args: { address: Hex; abi: readonly unknown[]; functionName: string; args: readonly unknown[] }): Promise<Hex>
  sendTransaction(args: { to: Hex; data: Hex }): Promise<Hex>
  waitForTransactionReceipt(args: { hash: Hex }): Promise<TransactionReceipt>
  getCode(args: { address: Hex }): Promise<Hex | undefined>
  /** Transport failures seen so far (the server compares before and after a verify or settle). */
  readonly rpcFailures: number
}

export interface FacilitatorSignerOptions {
  /** Called with each confirmed settlement's gas used and fee paid (wei), for /metrics. */
  onSettled?(gasUsed: bigint, feeWei: bigint): void
}

/**
 * Builds the signer.
 * @param ctx - chain context with serve's signer and journal.
 * @example
 * const signer = createFacilitatorSigner(ctx, { onSettled: (gas, fee) => metrics.settleGas.inc(Number(gas)) })
 * registerExactEvmScheme(new x402Facilitator(), { signer, networks: `eip155:${ctx.chainId}` })
 */
export function createFacilitatorSigner(ctx: ChainContext, options: FacilitatorSignerOptions = {}): ImoFacilitatorSigner {
  const account = ctx.account
  if (!account) throw new Error('the facilitator signer needs a chain context with a signer')
  let rpcFailures = 0
  const receipts = new Map<Hex, TransactionReceipt>()
  const countTransport = (error: unknown): never => {
    if (isTransportError(error)) rpcFailures++
    throw error
  }
  const batch = settleBatcher(ctx, (receipt) => {
    receipts.set(receipt.transactionHash, receipt)
    options.onSettled?.(receipt.gasUsed, receipt.gasUsed * receipt.effectiveGasPrice)
  })
  const send = async (to: Address, data: Hex, abi: Abi | undefined, id: string): Promise<Hex> =>
    batch({ id, label: 'x402 settlement', to, data, ...(abi ? { abi } : {}) })
  return {
    get rpcFailures() {
      return rpcFailures
    },
    getAddresses: () => [account.address],
    readContract: (args) => ctx.publicClient.readContract(args as never).catch(countTransport),
    verifyTypedData: (args) => ctx.publicClient.verifyTypedData(args as never).catch(countTransport),
    async writeContract(args) {
      const { encodeFunctionData } = await import('viem')
      const data = encodeFunctionData({ abi: args.abi as Abi, functionName: args.functionName, args: args.args } as never)
      return send(args.address, data, args.abi as Abi, settlementId(args.address, args.functionName, args.args, data))
    },
    async sendTransaction(args) {
      const { keccak256 } = await import('viem')
      return send(args.to, args.data, undefined, `x402-tx:${keccak256(args.data)}`)
    },
    async waitForTransactionReceipt({ hash }) {
      return receipts.get(hash) ?? ctx.publicClient.waitForTransactionReceipt({ hash }).catch(countTransport)
    },
    async getCode({ address }) {
      try {
        return await ctx.publicClient.getCode({ address })
      } catch {
        rpcFailures++
        return undefined
      }
    },
  }
}

/**
 * The step id of a settlement: one per authorization (asset, payer, nonce) for EIP-3009 calls, so a
 * crash and re-run resumes it rather than sending it again; other calls by their data.
 */
function settlementId(asset: Address, functionName: string, args: readonly unknown[], data: Hex): string {
  if (/WithAuthorization$/.test(functionName) && typeof args[0] === 'string' && typeof args[5] === 'string')
    return `x402-settle:${asset.toLowerCase()}:${String(args[0]).toLowerCase()}:${String(args[5]).toLowerCase()}`
  return `x402-call:${asset.toLowerCase()}:${data.slice(0, 10)}:${data.length}:${data.slice(-64)}`
}

/**
 * Settlements waiting at one moment go out as one sendSteps batch; when the batch fails as a whole
 * (one bad authorization fails the batch's simulation), each is sent on its own so only the bad one fails.
 * A batch does not wait for the previous one's receipts: overlapping sendSteps calls take turns on the
 * journal until their transactions are broadcast (src/chain/journalTurn.ts), so settlements arriving
 * while a block is pending go into that block too, not one block later.
 */
function settleBatcher(ctx: ChainContext, onReceipt: (receipt: TransactionReceipt) => void): (step: TxStep) => Promise<Hex> {
  type Waiting = { step: TxStep; resolve(hash: Hex): void; reject(error: unknown): void }
  let waiting: Waiting[] = []
  let scheduled = false
  const settleOne = (w: Waiting, outcome: { status: string; txHash?: Hex; receipt?: TransactionReceipt }) => {
    if (!['sent', 'resumed'].includes(outcome.status) || !outcome.txHash || !outcome.receipt) {
      w.reject(new Error(`settlement ${w.step.id} was ${outcome.status} already: not settled again`))
      return
    }
    onReceipt(outcome.receipt)
    w.resolve(outcome.txHash)
  }
  const flush = async (): Promise<void> => {
    scheduled = false
    const taken = waiting
    waiting = []
    const { sendSteps } = await import('../chain/sendSteps.js')
    try {
      const outcomes = await sendSteps(
        ctx,
        taken.map((w) => w.step),
      )
      for (const [index, w] of taken.entries()) settleOne(w, outcomes[index]!)
    } catch (error) {
      if (taken.length === 1) {
        taken[0]!.reject(error)
        return
      }
      for (const w of taken)
        await sendSteps(ctx, [w.step]).then(
          ([outcome]) => settleOne(w, outcome!),
          (single: unknown) => w.reject(single),
        )
    }
  }
  return (step) =>
    new Promise<Hex>((resolve, reject) => {
      if (waiting.some((w) => w.step.id === step.id)) {
        reject(new Error(`settlement ${step.id} is being sent already`))
        return
      }
      waiting.push({ step, resolve, reject })
      // Settlements asked for in the same turn of the event loop share one batch.
      if (!scheduled) {
        scheduled = true
        setImmediate(() => void flush())
      }
    })
}

/** A failure to reach the node (not a revert, not a bad answer). */
function isTransportError(error: unknown): boolean {
  const name = (error as { name?: string })?.name ?? ''
  const text = String((error as Error)?.message ?? '')
  return (
    /HttpRequestError|TimeoutError|WebSocketRequestError|SocketClosedError/.test(name) || /fetch failed|ECONNREFUSED/.test(text)
  )
}
