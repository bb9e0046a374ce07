import { Command } from 'commander'
import { withExamples } from '../cli/help.js'
import { addOptionGroups, deploymentOptions, rpcOptions, signerOptions } from '../cli/options.js'

/** `imo claimable [ADDRESS]`: what an address can claim, per live snapshot, and until when. */
export function claimableCommand(): Command {
  const command = new Command('claimable')
    .summary('revenue an address can claim, per snapshot, and until when')
    .description(
      'revenue ADDRESS (default: the signer) can claim now, per snapshot and in every revenue currency of the token ' +
        '(ether and the ERC-20s it was deployed with, each in its own units), with when each expires (its unclaimed ' +
        "remainder then rolls into a later snapshot's pool), and the total; and its credits (payouts an ERC-20 refused, " +
        'withdrawn with `imo claim --credits`). Reads only; sends nothing.',
    )
    .argument('[ADDRESS]', 'holder address (default: the configured signer)')
  addOptionGroups(command, rpcOptions, signerOptions, deploymentOptions)
  command.action(async (address: string | undefined, _options, cmd: Command) => {
    const values = cmd.opts()
    // Loaded together: one after another, each import waits for the one before (start-up time).
    const [
      { connectChain },
      { loadDeployment },
      { resolveHolder },
      { readClaimableByCurrency },
      { currencyJson, formatCurrency },
      { formatWhen },
      { renderTable },
      { printResult },
      { UsageError },
    ] = await Promise.all([
      import('../chain/connect.js'),
      import('../deployment/deploymentFile.js'),
      import('../revenue/resolveHolder.js'),
      import('../revenue/readClaimable.js'),
      import('../revenue/resolveCurrency.js'),
      import('../cli/time.js'),
      import('../cli/table.js'),
      import('../cli/ui.js'),
      import('../errors.js'),
    ])
    const ctx = await connectChain(values, { signer: false })
    const holder = await resolveHolder(ctx, values, address, { name: 'ADDRESS', sources: (key) => cmd.getOptionValueSource(key) })
    if (!holder)
      throw new UsageError(
        'no address: pass ADDRESS, or configure a signer (IMO_PRIVATE_KEY, --private-key-file, --keystore, --account)',
      )
    const deployment = await loadDeployment(ctx, values.deployment)
    const reports = await readClaimableByCurrency(ctx, deployment.imoToken.address, holder)
    const report = reports[0]!.report // the native currency's: snapshots, times, and the fields kept from before
    const data = {
      holder,
      token: report.token,
      chainId: ctx.chainId,
      symbol: ctx.nativeSymbol,
      currentSnapshotId: report.currentSnapshotId,
      claimWindow: report.claimWindow,
      snapshots: report.claimable.map((s) => ({
        id: s.id,
        amountWei: s.claimableWei ?? 0n,
        takenAt: s.takenAt,
        expiresWithSnapshot: s.expiresWithSnapshot,
        expiresNotBefore: s.expiresNotBefore,
      })),
      totalWei: report.totalWei,
      /** Every revenue currency (native first): amounts in its smallest unit, with its address, symbol and decimals. */
      currencies: reports.map(({ currency, report: r }) => ({
        currency: currencyJson(currency),
        snapshots: r.claimable.map((s) => ({ id: s.id, amount: s.claimableWei ?? 0n })),
        total: r.totalWei,
      })),
      /** Payouts an ERC-20 refused (e.g. a blacklisted USDC holder), credited on the token: `imo claim --credits` withdraws them. */
      credits: reports
        .filter(({ credit }) => credit > 0n)
        .map(({ currency, credit }) => ({ currency: currencyJson(currency), amountWei: credit })),
      /** Snapshots where the holder has a share that claims cannot take before `opensAt` (unix seconds). */
      opening: [
        ...new Map(
          reports.flatMap(({ report: r }) =>
            r.live.filter((s) => s.opensAt !== undefined).map((s) => [s.id, s.opensAt!] as const),
          ),
        ),
      ].map(([id, opensAt]) => ({ id, opensAt })),
    }
    /** Each currency's amount for one snapshot (or the total), the non-zero ones: '0.5 ETH, 2.5 USDC'. */
    const amountsOf = (pick: (r: (typeof reports)[number]['report']) => bigint) =>
      reports
        .map(({ currency, report: r }) => ({ currency, amount: pick(r) }))
        .filter(({ amount }) => amount > 0n)
        .map(({ currency, amount }) => formatCurrency(amount, currency))
        .join(', ')
    const ids = [...new Set(reports.flatMap(({ report: r }) => r.claimable.map((s) => s.id)))].sort((a, b) => a - b)
    printResult(data, (d) => {
      const opening = d.opening.map(
        (s) => `snapshot ${s.id}: ${d.holder} has a share there; claims on it open at ${formatWhen(s.opensAt, report.now)}`,
      )
      const credits =
        d.credits.length === 0
          ? []
          : [
              `Credited to ${d.holder} (payouts the currency refused; \`imo claim --credits\` withdraws them): ${reports
                .filter(({ credit }) => credit > 0n)
                .map(({ currency, credit }) => formatCurrency(credit, currency))
                .join(', ')}`,
            ]
      if (ids.length === 0)
        return [
          ...opening,
          ...(opening.length > 0
            ? []
            : [`Nothing to claim for ${d.holder} (${report.live.length} live snapshot(s) of ${d.currentSnapshotId})`]),
          ...credits,
        ].join('\n')
      const rows = ids.map((id) => {
        const live = report.live.find((s) => s.id === id)!
        return [
          String(id),
          amountsOf((r) => r.claimable.find((s) => s.id === id)?.claimableWei ?? 0n),
          `with snapshot ${live.expiresWithSnapshot}, not before ${formatWhen(live.expiresNotBefore, report.now)}`,
        ]
      })
      return [
        ...opening,
        `Claimable by ${d.holder}`,
        renderTable([...rows, ['total', amountsOf((r) => r.totalWei), '']], {
          header: ['snapshot', 'amount', 'expires (rolls over)'],
          align: ['right', 'right', 'left'],
        }),
        ...credits,
      ].join('\n')
    })
  })
  return withExamples(command, [
    'imo claimable',
    'imo claimable 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --json',
    'imo claimable --rpc-url https://sepolia.example --account holder',
  ])
}
