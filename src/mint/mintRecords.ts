/**
 * Mints inference records as ERC-7007 tokens on a deployment's collection (docs/formats.md sections 4-6),
 * in stages, each its own module:
 *
 * 1. readMintTerms: recipient, attester and proof scheme; the collection's model, fee and IMO token; every
 *    record of its model, every zk item with its proof, the signer an attester.
 * 2. findMintedPrompts: token ids; repeated prompts refused; prompts minted already found (same aigcData:
 *    `existing`; other aigcData: MintConflictError, exit 3, nothing sent).
 * 3. prepareMints: metadata, token URI, the signed attestation (AigcMint for a direct mint, AigcFulfilment
 *    of the request for `imo serve`'s fulfilments) or zk proof, calldata and mint.json; folders written.
 * 4. checkMintJournal: an interrupted mint is completed only with the same inputs.
 * 5. sendMints: through `sendSteps`, pipelined (consecutive journal-managed nonces, all broadcast, then all
 *    awaited).
 * 6. reportMints: one outcome per item; mint.json `minted` with its transaction.
 *
 * Everything that can refuse a run (stages 1-4) does so before anything is sent. Idempotence: a token id
 * is `uint256(keccak256(prompt))` and a step id is `mint:<collection>:<tokenId hex>`; an interrupted run
 * resumes from the journal: the calldata is deterministic (metadata has no timestamps, RFC 6979
 * signatures), so the re-run builds the very transaction the journal holds.
 */
import type { ChainContext } from '../chain/connect.js'
import { ImoError } from '../errors.js'
import { checkMintJournal } from './checkMintJournal.js'
import { findMintedPrompts } from './findMintedPrompts.js'
import type { MintItem, MintOptions, MintPhases, MintResult } from './mintTypes.js'
import { prepareMints } from './prepareMints.js'
import { readMintTerms } from './readMintTerms.js'
import { reportMints } from './reportMints.js'
import { sendMints } from './sendMints.js'

export { MintConflictError } from './findMintedPrompts.js'
export type { MintItem, MintOptions, MintOutcome, MintPhases, MintResult, TokenUriMode } from './mintTypes.js'

/**
 * Mints records on the deployment's collection, pipelined.
 * @param ctx - chain context with a signer (the attester key).
 * @param items - records with their bytes (from readCheckedRecord or runInference): the bytes signed and sent.
 * @param options - deployment, recipient, token URI mode, ERC-1271 attester, progress.
 * @returns one outcome per item, in order, plus the fee and the attester.
 * @throws UsageError (2) for a record of another model, a signer that is not an attester, duplicate
 *   prompts; MintConflictError (3) for a prompt minted with other data; chain errors from sendSteps.
 * @example
 * import { mintRecords } from './mint/mintRecords.js'
 * import { readCheckedRecord } from './mint/readCheckedRecord.js'
 * const payload = await readCheckedRecord('out/3fa2b4c1d9e0', deployment.modelHash)
 * const result = await mintRecords(ctx, [{ ...payload, outDir: payload.dir }], { deployment })
 * result.outcomes[0].status // 'minted'
 */
export async function mintRecords(ctx: ChainContext, items: MintItem[], options: MintOptions): Promise<MintResult> {
  const account = ctx.account
  if (!account) throw new ImoError('mintRecords needs a chain context with a signer')
  const progress = options.onProgress ?? (() => {})
  const { phases, lap } = phaseClock()
  const notes: string[] = []

  const terms = await readMintTerms(ctx, account, items, { ...options, onProgress: progress })
  const { tokenIds, existing } = await findMintedPrompts(ctx, terms.collection, items, progress)
  lap('checksMs')
  const prepared = await prepareMints(items, { ctx, account, terms, tokenIds, existing, options, notes, lap })
  checkMintJournal(ctx, prepared)
  lap('checksMs')
  const sent = await sendMints(ctx, prepared, existing, progress)
  lap('sendMs')
  const outcomes = await reportMints(ctx, prepared, existing, sent)
  lap('writeMs')

  const { collection, imoToken, mintFeeWei, attester, proofScheme } = terms
  return {
    chainId: ctx.chainId,
    collection,
    imoToken,
    mintFeeWei,
    signer: account.address,
    attester,
    proofScheme,
    outcomes,
    notes,
    phases,
  }
}

/** Time per phase: each lap books the time since the previous one. */
function phaseClock(): { phases: MintPhases; lap(phase: keyof MintPhases): void } {
  const phases: MintPhases = { checksMs: 0, prepareMs: 0, writeMs: 0, sendMs: 0 }
  let mark = performance.now()
  return {
    phases,
    lap(phase) {
      const now = performance.now()
      phases[phase] += now - mark
      mark = now
    },
  }
}
