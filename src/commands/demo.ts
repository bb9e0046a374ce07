import { Command, Option } from 'commander'
import { withExamples } from '../cli/help.js'

/** `imo demo`: the whole loop on a local chain with the bundled model, in under a minute. */
export function demoCommand(): Command {
  const command = new Command('demo')
    .description(
      'the whole loop on a local chain with the bundled model, in seconds: deploy, mint 3 images, sell 30 % of the tokens in a short sale, ' +
        'a model user pays for a prompt on chain and for a call of the paid HTTP API in test USDC (x402), imo serve serves both, ' +
        'share revenue (the fees and the API payment included), claim, verify',
    )
    .addOption(
      new Option(
        '--out <DIR>',
        'folder for the images, records and demo.json (a previous demo folder is replaced; another non-empty folder is refused)',
      ).default('imo-demo'),
    )
    .addOption(
      new Option(
        '--model <NAME>',
        'the bundled model: cppn (prompt -> image), tinylm (a tiny language model, prompt -> text) or zk (zkcppn: an image with a PLONK proof the chain checks)',
      )
        .choices(['cppn', 'tinylm', 'zk'])
        .default('cppn'),
    )
    .addOption(
      new Option('--keep', 'leave the devnet running with the demo state, recorded in .imo/ here, so other commands act on it'),
    )
  command.action(async (_args, cmd: Command) => {
    const { runDemo } = await import('../demo/runDemo.js')
    const { renderDemo } = await import('../demo/renderDemo.js')
    const { printResult, spinner } = await import('../cli/ui.js')
    const options = cmd.opts() as { out: string; keep?: boolean; model: 'cppn' | 'tinylm' | 'zk' }
    const report = await runDemo({ out: options.out, keep: Boolean(options.keep), model: options.model }, spinner)
    printResult(report, renderDemo)
    if (!report.ok) {
      const { VerificationFailedError } = await import('../errors.js')
      throw new VerificationFailedError('the demo finished, but a check failed (see the report above)')
    }
  })
  return withExamples(command, [
    'imo demo',
    'imo demo --keep   # then: imo status, imo claimable',
    'imo demo --model tinylm   # the same loop with a tiny language model: text instead of images',
    'imo demo --model zk   # one image whose PLONK proof the chain checks (no attester; an INSECURE demo setup)',
    'imo demo --out /tmp/demo --json',
  ])
}
