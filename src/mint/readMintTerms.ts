/**
 * mintRecords' first stage: who mints what where. Resolves the recipient, the attester and the proof
 * scheme from the options, reads the collection (model hash, mint fee, IMO token, and whether the
 * attester is one) in one eth_call, and refuses, before anything is written or sent, a record of another
 * model, a zk item without its proof (or with another recipient), and a signer the collection does not
 * accept as attester.
 */
import { type Abi, type Address, getAddress, type Hex, type LocalAccount, zeroAddress } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import { UsageError } from '../errors.js'
import type { ProofScheme } from './encodeProof.js'
import type { MintItem, MintOptions } from './mintTypes.js'
import { zkRecipient } from './zkRecipient.js'

/** What every item of one mintRecords run shares. */
export interface MintTerms {
  collection: Address
  /** A zk collection checks a PLONK proof itself: nobody attests, anyone may mint (the signer only pays). */
  zk: boolean
  /** The recipient: --to, else the signer (a zk item goes where its proof says, a request to its recipient). */
  to: Address
  /** --to when given (a zk item's proof must bind it). */
  askedTo: Address | undefined
  /** The address that attests (zero for zk). */
  attester: Address
  proofScheme: ProofScheme
  modelHash: Hex
  mintFeeWei: bigint
  imoToken: Address
}

/**
 * @param ctx - chain context.
 * @param account - the signer (the attester key, or the ERC-1271 contract's signer).
 * @param items - the records to mint.
 * @param options - deployment, --to, --token-uri, --attester-contract.
 * @returns the terms every item is minted with.
 * @throws UsageError (2) for --token-uri with several items, --attester-contract on a zk collection, a bad
 *   address, a record of another model, a zk item without a matching proof, a signer that is not an attester.
 * @example
 * const terms = await readMintTerms(ctx, ctx.account, items, { deployment })
 * terms.mintFeeWei // wei sent with each direct mint
 */
export async function readMintTerms(
  ctx: ChainContext,
  account: LocalAccount,
  items: MintItem[],
  options: MintOptions,
): Promise<MintTerms> {
  const { parseAddress } = await import('../util/parseAddress.js')
  const { aigcCollectionAbi } = await import('../../contracts-abi/index.js')
  const { callsTo, readMany } = await import('../revenue/readMany.js')
  const collection = getAddress(options.deployment.aigcCollection.address)
  if (options.tokenUri !== undefined && items.length !== 1)
    throw new UsageError('--token-uri applies to one mint only, not to --prompts')
  const zk = options.deployment.proofScheme === 'zk'
  if (zk && options.attesterContract) throw new UsageError('--attester-contract does not apply to a zk collection')
  const to = options.to ? await parseAddress(options.to, '--to') : account.address
  const attester = zk
    ? zeroAddress
    : options.attesterContract
      ? await parseAddress(options.attesterContract, '--attester-contract')
      : account.address
  const proofScheme: ProofScheme = zk ? 'plonk' : options.attesterContract ? 'erc1271' : 'ecdsa'

  // One eth_call (serve mints a batch of one per result, so four round trips per fulfilment were a fifth
  // of its RPC traffic).
  options.onProgress?.('reading the collection')
  const read = callsTo(collection, aigcCollectionAbi as Abi)
  const [modelHash, mintFeeWei, imoToken, isAttester] = (await readMany(ctx, [
    read('modelHash'),
    read('mintFee'),
    read('imoToken'),
    ...(zk ? [] : [read('isAttester', [attester])]),
  ])) as [Hex, bigint, Address, boolean | undefined]
  for (const item of items)
    if (item.record.modelHash.toLowerCase() !== modelHash.toLowerCase())
      throw new UsageError(
        `the inference ${item.record.commitment.slice(0, 14)} was made with model ${item.record.modelHash}, but the collection ${collection} is bound to ${modelHash}`,
        { hint: "run the inference with the deployment's model (imo infer-and-mint uses it)" },
      )
  const askedTo = options.to ? to : undefined
  for (const item of items) zkRecipient(zk, item, askedTo)
  if (!zk && !isAttester)
    throw new UsageError(`${attester} is not an attester of the collection ${collection}: its proofs would not verify`, {
      hint: `the collection's owner can add it with addAttester(${attester}); or sign with an attester key`,
    })
  return { collection, zk, to, askedTo, attester, proofScheme, modelHash, mintFeeWei, imoToken }
}
