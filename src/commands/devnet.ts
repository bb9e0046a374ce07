import { Command, Option } from 'commander'
import { withExamples } from '../cli/help.js'

/** `imo devnet`: a local anvil chain, the default chain of other commands while it runs. */
export function devnetCommand(): Command {
  const command = new Command('devnet')
    .summary('run a local anvil chain with a test USDC until Ctrl-C; other commands use it when no RPC URL is configured')
    .description(
      'run a local anvil chain until Ctrl-C; other commands use it when no RPC URL is configured. It deploys a test ' +
        'USDC (6 decimals, permit, transferWithAuthorization; the same address on every fresh devnet) and gives each ' +
        'development account 1,000,000 of it, for `imo deploy --revenue-currency`.',
    )
    .addOption(new Option('--port <PORT>', 'TCP port on 127.0.0.1 (default: a free one)'))
    .addOption(new Option('--block-time <SECONDS>', 'mine a block every SECONDS seconds (default: one block per transaction)'))
  command.action(async (_args, cmd: Command) => {
    const { runDevnet } = await import('../devnet/runDevnet.js')
    const { printResult, note } = await import('../cli/ui.js')
    await runDevnet(cmd.opts(), (data) => {
      printResult({ ...data, devnetFile: '.imo/devnet.json' }, (d) =>
        [
          `Devnet (anvil) listening at ${d.rpcUrl}, chain id ${d.chainId}`,
          "Funded development accounts (anvil's public test keys: DEVELOPMENT ONLY, never send real funds to them):",
          ...d.accounts.map((a, i) => `  (${i}) ${a.address}  ${a.privateKey}`),
          `Test USDC (6 decimals, EIP-2612, EIP-3009): ${d.testUsdc.address}; each account above holds 1,000,000 USDC`,
          'Other imo commands in this folder use this chain by default (recorded in .imo/devnet.json).',
        ].join('\n'),
      )
      note('press Ctrl-C to stop')
    })
  })
  return withExamples(command, ['imo devnet', 'imo devnet --port 8545 --block-time 2', 'imo devnet --json'])
}
