/**
 * mintRecords' last stage: one outcome per item, in order (minted, resumed, existing or dry-run, with its
 * transaction, fee, gas and owner), and mint.json updated to `minted` with its transaction for every
 * mint sent.
 */
import { join, resolve } from 'node:path'
import type { ChainContext } from '../chain/connect.js'
import { journalledSuccess } from '../chain/journalledSuccess.js'
import type { StepOutcome } from '../chain/sendStep.js'
import { MINT_FILE, writeMintFile } from './mintFile.js'
import type { MintOutcome } from './mintTypes.js'
import type { PreparedMint } from './prepareMints.js'
import type { TokenState } from './readTokenState.js'

/**
 * @param ctx - chain context.
 * @param prepared - the prepared mints.
 * @param existing - per mint, its token when it existed before this run.
 * @param outcomes - sendMints' outcomes of the mints sent.
 * @returns one outcome per item, in order.
 * @example
 * const results = await reportMints(ctx, prepared, existing, await sendMints(ctx, prepared, existing))
 */
export async function reportMints(
  ctx: ChainContext,
  prepared: PreparedMint[],
  existing: Array<TokenState | undefined>,
  outcomes: StepOutcome[],
): Promise<MintOutcome[]> {
  const journal = ctx.journal
  const byId = new Map(outcomes.map((o) => [o.id, o]))
  const results: MintOutcome[] = []
  for (const [index, b] of prepared.entries()) {
    const base = {
      prompt: b.item.record.prompt,
      tokenId: b.tokenId,
      tokenIdHex: b.tokenIdHex,
      tokenUri: b.tokenUri,
      ...(b.metadataCid ? { metadataCid: b.metadataCid } : {}),
      ...(b.artifactCid ? { artifactCid: b.artifactCid } : {}),
      commitment: b.item.record.commitment,
      proof: b.proof,
      ...(b.item.outDir !== undefined && !ctx.tx.dryRun ? { outDir: resolve(b.item.outDir) } : {}),
    }
    const state = existing[index]
    if (state) {
      // Ours when the journalled transaction succeeded; the hash is only reported, so a failed lookup omits it.
      const txHash = journal
        ? await journalledSuccess(ctx.publicClient, journal.state(b.step.id)).catch(() => undefined)
        : undefined
      results.push({ ...base, status: 'existing', feeWei: 0n, owner: state.owner, ...(txHash ? { txHash } : {}) })
      continue
    }
    const outcome = byId.get(b.step.id)!
    const status = outcome.status === 'already-confirmed' ? 'existing' : outcome.status === 'sent' ? 'minted' : outcome.status
    results.push({
      ...base,
      status,
      feeWei: outcome.status === 'dry-run' || outcome.status === 'already-confirmed' ? 0n : b.itemFeeWei,
      gas: outcome.gas,
      ...(outcome.costWei !== undefined ? { costWei: outcome.costWei } : {}),
      ...(outcome.hash ? { txHash: outcome.hash } : {}),
      ...(outcome.blockNumber !== undefined ? { blockNumber: outcome.blockNumber } : {}),
      ...(outcome.status !== 'dry-run' ? { owner: b.itemTo } : {}),
    })
    if (b.item.outDir !== undefined && outcome.status !== 'dry-run')
      writeMintFile(join(b.item.outDir, MINT_FILE), {
        ...b.mintFile,
        status: 'minted',
        ...(outcome.hash ? { txHash: outcome.hash } : {}),
        ...(outcome.blockNumber !== undefined ? { blockNumber: outcome.blockNumber.toString() } : {}),
      })
  }
  return results
}
