import { Command, Option } from 'commander'
import { withExamples } from '../cli/help.js'
import { addOptionGroups, deploymentOptions, offerOptions, rpcOptions, signerOptions, txOptions } from '../cli/options.js'
import type { OfferingState } from '../offer/readOffering.js'
import { settleCommandName } from '../offer/settleAction.js'

const sending = [offerOptions, rpcOptions, signerOptions, txOptions, deploymentOptions]

/** Connects with the command's flags and finds its sale. */
async function openSale(cmd: Command, signer: boolean) {
  const values = cmd.opts()
  const { connectChain } = await import('../chain/connect.js')
  const { resolveSale } = await import('../offer/readOffering.js')
  const ctx = await connectChain(values, { signer }, (key) => cmd.getOptionValueSource(key))
  return { ctx, values, ...(await resolveSale(ctx, values)) }
}

/** `imo offer create`: deploys a sale, approves it and moves the tokens in, in one journalled run. */
function createCommand(): Command {
  const command = new Command('create')
    .summary('open a sale of the IMO token: deploy it and move the tokens in')
    .description(
      'deploy a sale of --amount IMO tokens for the native currency, approve it and move the tokens in, in one journalled ' +
        'run (a re-run resumes it), and record it beside the deployment (.imo/deployments/<chain>/<name>.offer.json). ' +
        'Price: --price (fixed), or --start-price falling linearly to --floor-price at the end (each buyer pays the price ' +
        'of its block). With --soft-cap, tokens are delivered after the end if the cap is met, else buyers are refunded and ' +
        'the tokens come back. Revenue the tokens earn while in the sale is collected for the seller at finalize. TIME is ' +
        'ISO 8601 (2026-06-01T14:00:00Z), +30m / +2h / +1d from now, or now. Asks to confirm on a terminal; needs --yes otherwise.',
    )
    .requiredOption('--amount <TOKENS>', 'tokens to sell, e.g. 100000')
    .addOption(new Option('--price <ETH>', 'fixed price per token in the native unit').conflicts(['startPrice', 'floorPrice']))
    .addOption(new Option('--start-price <ETH>', 'price per token at the start of a descending sale'))
    .addOption(new Option('--floor-price <ETH>', 'price per token at the end of a descending sale (never lower)'))
    .requiredOption('--start <TIME>', 'when buying opens')
    .addOption(new Option('--end <TIME>', 'when buying closes').conflicts('duration'))
    .addOption(new Option('--duration <SECONDS>', 'how long buying stays open'))
    .option('--soft-cap <ETH>', 'raise at least this much or refund every buyer')
    .option('--max-per-address <TOKENS>', 'most tokens one address may buy')
    .option('--allowlist <FILE.csv>', 'only these addresses may buy: lines "address" or "address,cap" (cap in tokens)')
  addOptionGroups(command, rpcOptions, signerOptions, txOptions, deploymentOptions)
  command.action(async (_options, cmd: Command) => {
    const { parseTerms } = await import('../offer/parseOfferFlags.js')
    const { renderCreated } = await import('../offer/renderOffering.js')
    const terms = await parseTerms(cmd.opts())
    const { connectDeployment } = await import('../cli/connectDeployment.js')
    const { createOffering } = await import('../offer/createOffering.js')
    const { printResult } = await import('../cli/ui.js')
    const { ctx, deployment } = await connectDeployment(cmd, { signer: true })
    const result = await createOffering(ctx, deployment, { ...terms, yes: Boolean(cmd.opts().yes) })
    printResult({ ...result, chainId: ctx.chainId }, (r) => renderCreated(r, ctx.nativeSymbol))
  })
  return withExamples(command, [
    'imo offer create --amount 100000 --price 0.001 --start +10m --duration 86400   # asks to confirm on a terminal',
    'imo offer create --amount 100000 --start-price 0.01 --floor-price 0.002 --start 2026-06-01T14:00:00Z --end 2026-06-08T14:00:00Z --yes',
    'imo offer create --amount 50000 --price 0.001 --start now --end +7d --soft-cap 20 --max-per-address 5000 --yes',
    'imo offer create --amount 10000 --price 0.002 --start +1h --end +1d --allowlist investors.csv --yes --json',
  ])
}

/** `imo offer status`: price now, sold, raised, soft-cap progress, time left. */
function statusCommand(): Command {
  const command = new Command('status')
    .summary('the sale now: price, sold, raised, soft cap, time left')
    .description(
      "the sale now: price, tokens sold, ether raised, soft-cap progress, time left, and the signer's purchase. Reads only.",
    )
    .addOption(new Option('--address <ADDRESS>', 'show this account instead of the signer'))
  addOptionGroups(command, offerOptions, rpcOptions, signerOptions, deploymentOptions)
  command.action(async (_options, cmd: Command) => {
    const { ctx, values, sale } = await openSale(cmd, false)
    const { resolveHolder } = await import('../revenue/resolveHolder.js')
    const { readOffering } = await import('../offer/readOffering.js')
    const { renderOffering } = await import('../offer/renderOffering.js')
    const { printResult } = await import('../cli/ui.js')
    const holder = await resolveHolder(ctx, values, values.address, {
      name: '--address',
      sources: (key) => cmd.getOptionValueSource(key),
    })
    const state = await readOffering(ctx, sale, holder)
    printResult({ ...state, chainId: ctx.chainId }, (s: OfferingState) => renderOffering(s, ctx.nativeSymbol))
  })
  return withExamples(command, ['imo offer status', 'imo offer status --sale 0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512 --json'])
}

/** `imo offer buy`: buys tokens at the price of the block. */
function buyCommand(): Command {
  const command = new Command('buy')
    .summary('buy tokens in the sale')
    .description(
      'buy TOKENS (or as many as --spend pays for) at the price of the block the purchase lands in; with --max-price, ' +
        'refuses before sending when the price is above it. A purchase the sale would refuse (not open yet, ended, over ' +
        'your cap, not on the allowlist) is refused in plain words before anything is sent. An interrupted purchase is ' +
        'resumed on re-run, never sent twice. Asks to confirm on a terminal; needs --yes otherwise.',
    )
    .argument('[TOKENS]', 'tokens to buy, e.g. 100 or 0.5')
    .addOption(new Option('--spend <ETH>', 'spend at most this much instead of naming TOKENS'))
    .option('--max-price <ETH>', 'refuse to pay more than this per token')
    .option('--proof-file <FILE>', 'the allowlist proofs file from the seller (default: the one recorded beside the offering)')
  addOptionGroups(command, ...sending)
  command.action(async (tokensText: string | undefined, _options, cmd: Command) => {
    const { parseBuy } = await import('../offer/parseOfferFlags.js')
    const { renderBought } = await import('../offer/renderOffering.js')
    const params = parseBuy(tokensText, cmd.opts())
    const { ctx, sale, allowlistFile } = await openSale(cmd, true)
    const { buyTokens } = await import('../offer/buyTokens.js')
    const { printResult } = await import('../cli/ui.js')
    const result = await buyTokens(ctx, sale, {
      ...params,
      yes: Boolean(cmd.opts().yes),
      ...((params.proofFile ?? allowlistFile) ? { proofFile: params.proofFile ?? allowlistFile } : {}),
    })
    printResult({ ...result, chainId: ctx.chainId }, (r) => renderBought(r, ctx.nativeSymbol))
  })
  return withExamples(command, [
    'imo offer buy 100   # asks to confirm on a terminal',
    'imo offer buy --spend 0.5 --max-price 0.006 --yes',
    'imo offer buy 250 --proof-file investors.allowlist.json --yes --json',
    'imo offer buy 100 --dry-run',
  ])
}

/** `imo offer finalize|refund|withdraw|claim-revenue`. */
function settleCommand(
  action: 'finalize' | 'refund' | 'withdraw' | 'claimRevenue',
  summary: string,
  description: string,
  examples: string[],
): Command {
  const command = new Command(settleCommandName(action)).summary(summary).description(description)
  addOptionGroups(command, ...sending)
  command.action(async (_options, cmd: Command) => {
    const { ctx, sale } = await openSale(cmd, true)
    const { settleOffering } = await import('../offer/settleOffering.js')
    const { renderSettled } = await import('../offer/renderOffering.js')
    const { printResult } = await import('../cli/ui.js')
    const result = await settleOffering(ctx, sale, action)
    printResult({ ...result, chainId: ctx.chainId }, (r) => renderSettled(r, ctx.nativeSymbol))
  })
  return withExamples(command, examples)
}

/** `imo offer`: the sale of the IMO token to investors. */
export function offerCommand(): Command {
  const command = new Command('offer')
    .summary('sell the IMO token to investors: create, status, buy, finalize, refund, withdraw, claim-revenue')
    .description(
      'the offering: a sale of the IMO token for the native currency at a fixed or falling price, with an optional soft ' +
        'cap, per-address cap and allowlist (README: "The offering: imo offer")',
    )
    .addCommand(createCommand())
    .addCommand(statusCommand())
    .addCommand(buyCommand())
    .addCommand(
      settleCommand(
        'finalize',
        'end the sale: unsold tokens back to the seller, refunds or deliveries open',
        'end the sale after its end time (or once everything is sold): unsold tokens (all of them if the soft cap was ' +
          'missed) go back to the seller, the revenue they earned in the sale is collected, and refunds or deliveries open. ' +
          'Anyone may finalize; run by the seller, it also withdraws what is theirs (proceeds and revenue).',
        ['imo offer finalize', 'imo offer finalize --sale 0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512 --json'],
      ),
    )
    .addCommand(
      settleCommand(
        'refund',
        'get your payment back from a sale that missed its soft cap',
        'get back what you paid, after a sale that missed its soft cap (finalizing it first if nobody has).',
        ['imo offer refund', 'imo offer refund --json'],
      ),
    )
    .addCommand(
      settleCommand(
        'withdraw',
        "take what is yours: the seller's proceeds and revenue, or a buyer's tokens",
        'the seller withdraws the proceeds and the revenue collected, collecting the revenue still waiting in the token ' +
          'first (any time without a soft cap, after finalize with one); a buyer takes delivery of its tokens after a sale ' +
          'that met its soft cap.',
        ['imo offer withdraw', 'imo offer withdraw --dry-run'],
      ),
    )
    .addCommand(
      settleCommand(
        'claimRevenue',
        "collect the revenue the sale's own tokens earned, before it expires",
        'while tokens sit in the sale (unsold, or waiting for delivery), the sale is a holder: its share of each snapshot ' +
          "waits in the token and expires after the token's claim window (then it goes to the other holders). This moves " +
          'it into the sale, for the seller to withdraw. Anyone may run it; with nothing waiting it sends nothing (exit 0), ' +
          'so it can run on a schedule.',
        ['imo offer claim-revenue', 'imo offer claim-revenue --sale 0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512 --json'],
      ),
    )
  return withExamples(command, [
    'imo offer create --amount 100000 --price 0.001 --start +10m --duration 86400 --yes',
    'imo offer status',
    'imo offer buy 100 --max-price 0.001 --yes',
    'imo offer finalize',
  ])
}
