import { Command, Option } from 'commander'
import { withExamples } from '../cli/help.js'
import { addOptionGroups, rpcOptions, signerOptions } from '../cli/options.js'

/** `imo ask PROMPT --api URL`: one paid call of an `imo serve --http` API, paid with x402. */
export function askCommand(): Command {
  const command = new Command('ask')
    .summary('pay for one call of a paid model API (x402) and save the attested answer')
    .description(
      'ask an `imo serve --http` API: read its price (HTTP 402), refuse it above --max-price before signing anything, ' +
        'pay with an EIP-3009 authorization signed by your signer (the API settles it into the IMO token; you send no ' +
        "transaction), check the answer's attestation (signature, attester of the collection), print the text (or write " +
        'the image) and save the answer as JSON for `imo verify`.',
    )
    .argument('<PROMPT>', 'the prompt')
    .addOption(new Option('--api <URL>', 'the API, e.g. http://127.0.0.1:8402').makeOptionMandatory())
    .addOption(new Option('--max-price <AMOUNT>', "the most you pay for the call, in the API's currency (default 1)"))
    .addOption(new Option('--max-tokens <N>', 'text models: at most N new tokens'))
    .addOption(new Option('--out <DIR>', 'folder for the saved answer (default answers)'))
    .addOption(
      new Option(
        '--reexecute',
        'then re-run the model here on the prompt (as `imo verify ANSWER --model`): exit 9 when the answer is not what it computes',
      ),
    )
    .addOption(new Option('--model <PATH>', 'with --reexecute: the model to re-run (its hash must be the attested one)'))
  addOptionGroups(command, rpcOptions, signerOptions)
  command.action(async (prompt: string, _options: unknown, cmd: Command) => {
    const values = cmd.opts() as {
      api: string
      maxPrice?: string
      maxTokens?: string
      out?: string
      reexecute?: boolean
      model?: string
    }
    const { UsageError } = await import('../errors.js')
    // Checked before paying: a re-execution that cannot run would waste the payment's check.
    if (values.reexecute && !values.model) throw new UsageError('--reexecute re-runs the model: pass --model PATH')
    if (values.model && !values.reexecute) throw new UsageError('--model is for --reexecute (give both, or neither)')
    if (values.model && !(await import('node:fs')).existsSync(values.model))
      throw new UsageError(`model not found: ${values.model} (--model)`)
      // The API's URL may carry a key (a path or query token): never print it, whatever error quotes it.
    ;(await import('../util/redact.js')).registerUrlSecrets(values.api)
    if (!/^https?:\/\/\S+$/.test(values.api)) throw new UsageError(`--api must be an http(s) URL, not "${values.api}"`)
    const { parseWhole } = await import('../chain/format.js')
    const maxTokens =
      values.maxTokens !== undefined
        ? Number(parseWhole(values.maxTokens, '--max-tokens', { min: 1n, max: 1_000_000n }))
        : undefined
    const { connectChain } = await import('../chain/connect.js')
    const ctx = await connectChain(cmd.opts(), { signer: true }, (key) => cmd.getOptionValueSource(key))
    const { askApi } = await import('../api/askApi.js')
    const { withSpinner, printResult } = await import('../cli/ui.js')
    const { formatUnits } = await import('../chain/format.js')
    const paid = (r: { paidWei: bigint; currency: { symbol: string; decimals: number } }) =>
      formatUnits(r.paidWei, r.currency.decimals, r.currency.symbol)
    const result = await withSpinner(
      'asking the API',
      () =>
        askApi(ctx, {
          api: values.api,
          prompt,
          ...(values.maxPrice !== undefined ? { maxPrice: values.maxPrice } : {}),
          ...(maxTokens !== undefined ? { maxTokens } : {}),
          ...(values.out ? { outDir: values.out } : {}),
        }),
      (r) => `paid ${paid(r)}`,
    )
    const { escapeControl } = await import('../cli/escapeControl.js')
    const reexecution = values.reexecute ? await reexecuteAnswer(result.file, values.model!, ctx) : undefined
    printResult({ ...result, ...(reexecution ? { reexecution } : {}) }, (r) =>
      [
        r.text !== undefined ? escapeControl(r.text) : `image: ${r.image}`,
        `paid ${paid(r)} (settlement ${r.txHash}); attested by ${r.attester}; saved ${r.file}`,
        ...(reexecution ? [`re-executed here: ${reexecution.status} (${reexecution.checks.length} checks)`] : []),
      ].join('\n'),
    )
  })
  return withExamples(command, [
    'imo ask "Once upon a time" --api http://127.0.0.1:8402 --max-price 0.01',
    'imo ask "Once" --api http://127.0.0.1:8402 --reexecute --model ./models/tinylm',
    'imo ask "a red spiral" --api https://api.example --max-price 0.05 --out answers --json',
    'imo ask "Once" --api http://127.0.0.1:8402 --max-tokens 16 --account payer',
  ])
}

/**
 * `--reexecute`: the saved answer checked as `imo verify ANSWER --model` checks it (the model re-run
 * here). The answer was paid for and saved before: a failed or unverified check is reported with the
 * same exit codes as imo verify (9, 10), never hidden.
 */
async function reexecuteAnswer(file: string, modelPath: string, ctx: import('../chain/connect.js').ChainContext) {
  const { verifyResponse } = await import('../verify/verifyResponse.js')
  const { ChecksFailedError, UnverifiedError } = await import('../verify/checks.js')
  const report = await verifyResponse(file, { modelPath, connect: async () => ctx })
  if (report.status === 'failed') throw new ChecksFailedError(report)
  if (report.status !== 'verified') throw new UnverifiedError(report)
  return { status: report.status, checks: report.checks }
}
