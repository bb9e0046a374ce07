import { Command } from 'commander'
import { withExamples } from '../cli/help.js'

const FLAGS =
  '--rpc-url, --keystore | --account | --private-key-file | --mnemonic-file, --model, --name, --symbol, --supply, ' +
  '--percent-claimable, --snapshot-interval, --claim-window, --royalty-bps, --mint-fee, --request-fee, --request-timeout, ' +
  "--attester; serve's own key: IMO_SERVE_KEYSTORE and the other IMO_SERVE_* signer variables"

/** `imo init`: an interactive set-up writing `.env` (secrets by reference, 0600) and imo.config.json. */
export function initCommand(): Command {
  const command = new Command('init').description(
    "interactive set-up: chain, signer (or a new encrypted keystore), imo serve's own key, model, token and request parameters, saved to .env and imo.config.json",
  )
  command.action(async () => {
    const { isInteractive, printResult } = await import('../cli/ui.js')
    const { UsageError } = await import('../errors.js')
    if (!isInteractive())
      throw new UsageError(
        'imo init needs a terminal; without one, pass settings as flags or IMO_* variables, e.g. IMO_RPC_URL=URL IMO_KEYSTORE=FILE imo deploy --model models/cppn --name "Pattern Model" --symbol PAT --supply 1000000',
        { hint: `every setting imo init saves is also a flag: ${FLAGS}` },
      )
    const { createInquirerPrompter } = await import('../init/prompter.js')
    const { runInit } = await import('../init/runInit.js')
    const { bundledModelPath } = await import('../demo/bundledModel.js')
    const result = await runInit(await createInquirerPrompter(), { cwd: process.cwd(), bundledModel: bundledModelPath() })
    printResult(result, (r) =>
      r.status === 'cancelled'
        ? 'Nothing was written.'
        : [
            ...(r.keystore ? [`Keystore  ${r.keystore.path} (0600) for ${r.keystore.address}`] : []),
            ...(r.serveKeystore ? [`Keystore  ${r.serveKeystore.path} (0600) for imo serve, ${r.serveKeystore.address}`] : []),
            ...(r.envFile ? [`Wrote     ${r.envFile} (0600)${r.envBackup ? `; previous copy in ${r.envBackup}` : ''}`] : []),
            ...(r.configFile ? [`Wrote     ${r.configFile}`] : []),
            ...(r.keystore
              ? [
                  'Its password is asked when needed (or set IMO_KEYSTORE_PASSWORD / IMO_PASSWORD_FILE); back up the file and the password.',
                ]
              : []),
            ...(r.serveKeystore
              ? ["serve's password: IMO_SERVE_PASSWORD_FILE (a file holding it), or asked on serve's terminal; back it up too."]
              : []),
            'Next:',
            ...r.next.map((line) => `  ${line}`),
          ].join('\n'),
    )
  })
  return withExamples(command, ['imo init', 'imo init --json   # the answers and files written, as JSON (prompts on stderr)'])
}
