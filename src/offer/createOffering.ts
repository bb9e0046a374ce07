/**
 * `imo offer create`: checks the terms, then deploys the sale, approves it and moves the tokens in
 * (`fund`), three journalled steps in one run, and records the offering beside the deployment.
 * Every check that can fail on the inputs runs before anything is signed (exit 2, nothing sent).
 */
import { resolve } from 'node:path'
import type { Address, Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import type { StepOutcome } from '../chain/sendStep.js'
import type { Deployment } from '../deployment/deploymentFile.js'
import { ImoError, UsageError } from '../errors.js'
import type { AllowlistEntry } from './buildAllowlist.js'
import type { OfferingParameters, OfferingRecord } from './offerFile.js'

export interface CreateOfferingParams {
  /** Tokens for sale, base units. */
  amount: bigint
  startPriceWei: bigint
  floorPriceWei: bigint
  /** The flags as typed, unresolved (`+2h`): times resolve against the chain's clock once. */
  startText: string
  endText?: string
  durationSeconds?: number
  softCapWei: bigint
  maxPerAddress: bigint
  allowlist?: AllowlistEntry[]
  /** --deployment FILE, if given. */
  deploymentFile?: string
  /** Skip the confirmation (required without a terminal). */
  yes?: boolean
}

export interface CreateOfferingResult {
  status: 'created' | 'existing' | 'dry-run' | 'cancelled'
  recordPath: string
  record: OfferingRecord
  allowlistPath?: string
  /** A finalized sale's record (and proofs file), kept under a name of its own when this one replaced it. */
  archived?: { sale: Address; recordPath: string; allowlistPath?: string }
  outcomes: StepOutcome[]
}

/**
 * Creates the offering (or simulates its deployment with --dry-run).
 * @param ctx - chain context with the seller as signer.
 * @param deployment - the deployment whose token is sold.
 * @param params - the terms.
 * @returns the record and the step outcomes.
 * @throws UsageError (2) for bad terms, a seller holding too few tokens, or another live offering recorded;
 *   chain errors from sendStep.
 * @example
 * import { createOffering } from './createOffering.js'
 * const { record } = await createOffering(ctx, deployment, { amount: 10n ** 21n, startPriceWei: 10n ** 16n,
 *   floorPriceWei: 10n ** 16n, startText: '+1m', durationSeconds: 3600, softCapWei: 0n, maxPerAddress: 0n })
 * record.sale // '0x…'
 */
export async function createOffering(
  ctx: ChainContext,
  deployment: Deployment,
  params: CreateOfferingParams,
): Promise<CreateOfferingResult> {
  const account = ctx.account
  if (!account) throw new ImoError('createOffering needs a signer')
  const { encodeDeployData, encodeFunctionData, getAddress, keccak256, toHex } = await import('viem')
  const { imoOfferingAbi, imoOfferingBytecode, imoTokenAbi } = await import('../../contracts-abi/index.js')
  const { formatNative } = await import('../chain/format.js')
  const { deploymentPath } = await import('../deployment/deploymentFile.js')
  const { archiveOfferingFile, offeringPaths, readOfferingFile, writeAllowlistFile, writeOfferingFile } = await import(
    './offerFile.js'
  )
  const paths = offeringPaths(params.deploymentFile ? resolve(params.deploymentFile) : deploymentPath(ctx.chainId))
  const token = deployment.imoToken.address
  const request = JSON.stringify({
    amount: String(params.amount),
    start: params.startText,
    end: params.endText,
    duration: params.durationSeconds,
    startPrice: String(params.startPriceWei),
    floor: String(params.floorPriceWei),
    softCap: String(params.softCapWei),
    max: String(params.maxPerAddress),
    allowlist: params.allowlist?.map((e) => [e.address, String(e.cap)]),
  })

  let existing = readOfferingFile(paths.record)
  let finalized: (OfferingRecord & { sale: Address }) | undefined
  if (existing && existing.chainId === ctx.chainId && existing.sale) {
    const { readOffering } = await import('./readOffering.js')
    const state = await readOffering(ctx, existing.sale).catch((error: unknown) => {
      if (error instanceof UsageError) return undefined // no sale there any more (e.g. a restarted devnet)
      throw error
    })
    // A finalized (or vanished) sale is history: the same flags open a new one; a finalized one's
    // record is kept beside it (archiveOfferingFile), never overwritten.
    if (!state || state.phase === 'finalized') {
      if (state) finalized = { ...existing, sale: existing.sale }
      existing = undefined
    } else if (existing.request !== request)
      throw new UsageError(`an offering that is not finalized is already recorded in ${paths.record} (sale ${existing.sale})`, {
        hint: 'finalize it first (imo offer finalize), or pass --deployment FILE for another deployment',
      })
  }
  const resume = existing && existing.chainId === ctx.chainId && existing.request === request ? existing : undefined
  if (resume?.status === 'created' && resume.sale)
    return { status: 'existing', recordPath: paths.record, record: resume, outcomes: [] }

  // Terms, resolved once (a resumed run reuses the recorded times).
  let parameters: OfferingParameters
  const { chainNow } = await import('../revenue/chainNow.js')
  const now = await chainNow(ctx)
  let allowlist: Awaited<ReturnType<typeof import('./buildAllowlist.js').buildAllowlist>> | undefined
  if (params.allowlist) {
    const { buildAllowlist } = await import('./buildAllowlist.js')
    allowlist = await buildAllowlist(params.allowlist)
  }
  if (resume) parameters = resume.parameters
  else {
    const { parseTime, formatWhen } = await import('../cli/time.js')
    const startTime = await parseTime(params.startText, now, '--start')
    const endTime =
      params.endText !== undefined ? await parseTime(params.endText, now, '--end') : startTime + (params.durationSeconds ?? 0)
    if (endTime <= startTime)
      throw new UsageError(
        `the sale must end after it starts: --start is ${formatWhen(startTime, now)}, the end is ${formatWhen(endTime, now)}`,
      )
    if (endTime <= now) throw new UsageError(`the sale would end ${formatWhen(endTime, now)}, in the past`)
    parameters = {
      amount: String(params.amount),
      startPriceWei: String(params.startPriceWei),
      floorPriceWei: String(params.floorPriceWei),
      startTime,
      endTime,
      softCapWei: String(params.softCapWei),
      maxPerAddress: String(params.maxPerAddress),
      merkleRoot: allowlist?.root ?? toHex(0n, { size: 32 }),
    }
  }
  if (params.amount <= 0n) throw new UsageError('--amount must be greater than zero')
  if (params.floorPriceWei > params.startPriceWei)
    throw new UsageError(
      `--floor-price ${formatNative(params.floorPriceWei, ctx.nativeSymbol)} is above --start-price ${formatNative(params.startPriceWei, ctx.nativeSymbol)}`,
    )
  const maxRaise = (params.amount * params.startPriceWei + 10n ** 18n - 1n) / 10n ** 18n
  if (params.softCapWei > maxRaise)
    throw new UsageError(
      `--soft-cap ${formatNative(params.softCapWei, ctx.nativeSymbol)} is more than selling everything raises (${formatNative(maxRaise, ctx.nativeSymbol)})`,
    )
  const [balance, symbol] = await Promise.all([
    ctx.publicClient.readContract({ address: token, abi: imoTokenAbi, functionName: 'balanceOf', args: [account.address] }),
    ctx.publicClient.readContract({ address: token, abi: imoTokenAbi, functionName: 'symbol' }),
  ])
  if (params.amount > balance)
    throw new UsageError(
      `--amount ${formatNative(params.amount, symbol)} is more than the ${formatNative(balance, symbol)} that the seller ${account.address} holds`,
    )

  const init = encodeDeployData({
    abi: imoOfferingAbi,
    bytecode: imoOfferingBytecode,
    args: [
      token,
      account.address,
      params.amount,
      params.startPriceWei,
      params.floorPriceWei,
      BigInt(parameters.startTime),
      BigInt(parameters.endTime),
      params.softCapWei,
      params.maxPerAddress,
      parameters.merkleRoot as Hex,
    ],
  })
  const base = `offer:${deployment.name}:${keccak256(init)}`
  const deployStep = { id: `${base}:deploy`, label: 'deploy ImoOffering', data: init, abi: imoOfferingAbi }
  const { sendStep, simulateStep } = await import('../chain/sendStep.js')
  const record: OfferingRecord = {
    format: 'imo-offering-v1',
    status: 'pending',
    chainId: ctx.chainId,
    token,
    seller: account.address,
    parameters,
    request,
    createdAt: new Date().toISOString(),
    imoVersion: (await import('../version.js')).version,
  }
  if (ctx.tx.dryRun) {
    const { gas, costWei } = await simulateStep(ctx, deployStep)
    const outcome: StepOutcome = { id: deployStep.id, label: deployStep.label, status: 'dry-run', gas, costWei }
    return { status: 'dry-run', recordPath: paths.record, record, outcomes: [outcome] }
  }
  if (!resume) {
    const { confirmAction } = await import('../revenue/confirmAction.js')
    const { formatWhen } = await import('../cli/time.js')
    const price =
      params.startPriceWei === params.floorPriceWei
        ? formatNative(params.startPriceWei, ctx.nativeSymbol)
        : `${formatNative(params.startPriceWei, ctx.nativeSymbol)} falling to ${formatNative(params.floorPriceWei, ctx.nativeSymbol)}`
    const what = `a sale of ${formatNative(params.amount, symbol)} at ${price} per token, ${formatWhen(parameters.startTime, now)} to ${formatWhen(parameters.endTime, now)}`
    if (!(await confirmAction(`Open ${what} and move the tokens into it?`, { skip: Boolean(params.yes), flag: '--yes', what })))
      return { status: 'cancelled', recordPath: paths.record, record, outcomes: [] }
  }
  const archived = finalized ? archiveOfferingFile(paths, finalized) : undefined
  if (archived) {
    const { note } = await import('../cli/ui.js')
    note(`the finalized sale ${archived.sale} stays recorded in ${archived.recordPath}`)
  }
  writeOfferingFile(paths.record, record)
  const deployed = await sendStep(ctx, deployStep)
  if (!deployed.contractAddress) throw new ImoError('the ImoOffering deployment has no contract address')
  const sale = getAddress(deployed.contractAddress)
  const approve = await sendStep(ctx, {
    id: `${base}:approve`,
    label: `approve the sale for ${formatNative(params.amount, symbol)}`,
    to: token,
    data: encodeFunctionData({ abi: imoTokenAbi, functionName: 'approve', args: [sale, params.amount] }),
    abi: imoTokenAbi,
  })
  const fund = await sendStep(ctx, {
    id: `${base}:fund`,
    label: `move ${formatNative(params.amount, symbol)} into the sale`,
    to: sale,
    data: encodeFunctionData({ abi: imoOfferingAbi, functionName: 'fund' }),
    abi: imoOfferingAbi,
  })
  const created: OfferingRecord = {
    ...record,
    status: 'created',
    sale,
    ...(deployed.hash ? { txHash: deployed.hash } : {}),
    ...(deployed.blockNumber !== undefined ? { blockNumber: deployed.blockNumber.toString() } : {}),
  }
  if (allowlist) {
    writeAllowlistFile(paths.allowlist, allowlist)
    created.allowlistFile = paths.allowlist
  }
  writeOfferingFile(paths.record, created)
  return {
    status: 'created',
    recordPath: paths.record,
    record: created,
    ...(allowlist ? { allowlistPath: paths.allowlist } : {}),
    ...(archived ? { archived } : {}),
    outcomes: [deployed, approve, fund],
  }
}
