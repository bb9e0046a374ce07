import { relative } from 'node:path'
import { formatNative } from '../chain/format.js'
import { quoteText } from '../cli/escapeControl.js'
import { note, printResult } from '../cli/ui.js'
import type { MintResult } from './mintRecords.js'

/**
 * The end of `imo mint` and `imo infer-and-mint`: the result's notes on stderr, then the result
 * (JSON with --json, else {@link renderMint}) on stdout.
 * @param result - from mintRecords / inferAndMint.
 * @param nativeSymbol - the chain's currency symbol, for fees.
 * @example
 * printMint(result, ctx.nativeSymbol)
 */
export function printMint(result: MintResult, nativeSymbol: string): void {
  for (const text of result.notes) note(text)
  printResult(result, (r) => renderMint(r, (wei) => formatNative(wei, nativeSymbol)))
}

/**
 * Human rendering of a mint result: one line per token, then the fee and where the files are.
 * @param result - from mintRecords / inferAndMint.
 * @param formatNative - wei -> '0.01 ETH'.
 * @example
 * renderMint(result, (wei) => formatNative(wei, 'ETH'))
 * // 'minted   0x5f3a…  "a red spiral"  tx 0xab…\n…'
 */
export function renderMint(result: MintResult, formatNative: (wei: bigint) => string): string {
  const lines = result.outcomes.map((o) => {
    const what = o.prompt === null ? `input ${o.commitment.slice(0, 10)}` : quoteText(o.prompt, 40)
    const tail =
      o.status === 'dry-run'
        ? `gas ${o.gas ?? 0n}, up to ${formatNative(o.costWei ?? 0n)}`
        : `${o.txHash ? `tx ${o.txHash}` : 'already on chain'}${o.outDir ? `  ${relative(process.cwd(), o.outDir) || '.'}` : ''}`
    return `${o.status.padEnd(8)} ${o.tokenIdHex.slice(0, 12)}…  ${what}  ${tail}`
  })
  const paid = result.outcomes.reduce((sum, o) => sum + o.feeWei, 0n)
  lines.push(
    result.proofScheme === 'plonk'
      ? `collection ${result.collection} (chain ${result.chainId}), zk: the PLONK proof was checked on chain`
      : `collection ${result.collection} (chain ${result.chainId}), attester ${result.attester} (${result.proofScheme})`,
  )
  if (result.mintFeeWei > 0n)
    lines.push(`mint fee ${formatNative(result.mintFeeWei)} each, ${formatNative(paid)} paid to the IMO token ${result.imoToken}`)
  const first = result.outcomes[0]
  if (first?.tokenUri.startsWith('ipfs://'))
    lines.push("pin each folder's metadata.json and artifact with `ipfs add --cid-version=1` so the ipfs:// URIs resolve")
  return lines.join('\n')
}
