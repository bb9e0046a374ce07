import { Command, Option } from 'commander'
import { withExamples } from '../cli/help.js'
import { addOptionGroups, deploymentOptions, rpcOptions } from '../cli/options.js'

interface VerifyOptions {
  token?: string
  collection?: string
  model?: string
  metadataDir?: string
  mint?: string
  trustPipeline?: boolean
  offline?: boolean
  deployment?: string
  rpcUrl?: string
  chainId?: string
}

/** `imo verify RECORD | --token ID`: re-checks a record or a minted token (signature, hashes, re-execution). */
export function verifyCommand(): Command {
  const command = new Command('verify')
    .description(
      're-check an inference record or a minted token: every hash, the attestation signer and attester, and a bit-exact re-run of the model (exit 9 when a check fails, 10 when a deciding check could not run)',
    )
    .argument(
      '[RECORD]',
      'record.json or its folder (its mint.json, when present, is checked too), or an answer of a paid API saved as JSON (imo ask; needs --model)',
    )
    .addOption(new Option('--token <ID>', "verify a minted token of the deployment's collection (decimal or 0x-hex id)"))
    .addOption(new Option('--collection <ADDRESS>', "the collection holding --token (default: the deployment's)"))
    .addOption(new Option('--model <PATH>', "the model to re-run (default: the record's model, or the deployment's for --token)"))
    .addOption(
      new Option(
        '--metadata-dir <DIR>',
        'where to find files named by ipfs:// token URIs (default: out); a text token is re-generated with the settings its metadata there records',
      ),
    )
    .addOption(new Option('--mint <FILE>', 'the mint record to check with RECORD (default: mint.json beside it)'))
    .addOption(
      new Option(
        '--trust-pipeline',
        "run the model's imo.pipeline.mjs even when it is not imo's bundled one (it is its author's code)",
      ),
    )
    .addOption(
      new Option(
        '--offline',
        'accept a record checked without the chain (exit 0 instead of 10): the attester, verify() and token checks are then NOT made, and the output says so',
      ),
    )
  addOptionGroups(command, rpcOptions, deploymentOptions)
  command.action(async (recordPath: string | undefined, options: VerifyOptions, cmd: Command) => {
    const { UsageError } = await import('../errors.js')
    const { ChecksFailedError, UnverifiedError, renderChecks } = await import('../verify/checks.js')
    const { printResult, spinner } = await import('../cli/ui.js')
    if ((recordPath === undefined) === (options.token === undefined)) throw new UsageError('give either RECORD or --token ID')
    // A --model that is not there is the operator's typo (exit 2), not a failed check (exit 9).
    if (options.model && !(await import('node:fs')).existsSync(options.model))
      throw new UsageError(`model not found: ${options.model} (--model)`)
    // Malformed --token / --collection fail before any RPC.
    const { parseTokenId } = await import('../verify/parseTokenId.js')
    const { parseAddress } = await import('../util/parseAddress.js')
    const tokenId = options.token === undefined ? undefined : parseTokenId(options.token)
    const collectionGiven = options.collection ? await parseAddress(options.collection, '--collection') : undefined
    const { connectChain } = await import('../chain/connect.js')
    const connect = () => connectChain(options, { signer: false }, (key) => cmd.getOptionValueSource(key))
    const progress = await spinner('verifying')
    let report: Awaited<ReturnType<typeof import('../verify/verifyRecord.js').verifyRecord>>
    try {
      const { readApiResponse, verifyResponse } = await import('../verify/verifyResponse.js')
      if (recordPath !== undefined && readApiResponse(recordPath)) {
        report = await verifyResponse(recordPath, { ...(options.model ? { modelPath: options.model } : {}), connect })
      } else if (recordPath !== undefined) {
        const { verifyRecord } = await import('../verify/verifyRecord.js')
        report = await verifyRecord(recordPath, {
          ...(options.model ? { modelPath: options.model } : {}),
          ...(options.mint ? { mintFile: options.mint } : {}),
          trustPipeline: Boolean(options.trustPipeline),
          connect,
        })
      } else {
        const { verifyToken } = await import('../verify/verifyToken.js')
        const ctx = await connect()
        const deployment =
          collectionGiven && options.model
            ? undefined
            : await (await import('../deployment/deploymentFile.js')).loadDeployment(ctx, options.deployment)
        const collection = collectionGiven ?? deployment!.aigcCollection.address
        const modelPath = options.model ?? deployment?.model?.path
        if (!modelPath) throw new UsageError('no model to re-run: pass --model PATH (the deployment records none)')
        report = await verifyToken(ctx, {
          collection,
          tokenId: tokenId!,
          modelPath,
          ...(options.metadataDir ? { metadataDir: options.metadataDir } : {}),
          trustPipeline: Boolean(options.trustPipeline),
          ...(deployment?.aigcCollection.blockNumber && !collectionGiven
            ? { fromBlock: BigInt(deployment.aigcCollection.blockNumber) }
            : {}),
        })
      }
    } finally {
      progress.stop()
    }
    // A failed (exit 9) or unverified (exit 10) result still shows its whole table (stdout); with
    // --json the table travels as `result` in the error document instead. --offline accepts an
    // unverified result with exit 0, and the summary names every check that was not made.
    if (report.status === 'unverified' && options.offline) {
      report.offline = true
      const skipped = report.checks.filter((check) => check.status === 'skip')
      const { warn } = await import('../cli/ui.js')
      warn(`--offline: NOT checked: ${skipped.map((check) => `${check.name} (${check.detail})`).join('; ')}`)
    } else if (report.status !== 'verified') {
      const { uiSettings } = await import('../cli/ui.js')
      if (!uiSettings().json) process.stdout.write(`${renderChecks(report)}\n`)
      throw report.status === 'failed' ? new ChecksFailedError(report) : new UnverifiedError(report)
    }
    printResult(report, renderChecks)
  })
  return withExamples(command, [
    'imo verify out/3fa2b4c1d9e0',
    'imo verify --token 0x5f3a…  --metadata-dir out',
    'imo verify --token 42 --collection 0x5FbDB2315678afecb367f032d93F642f64180aa3 --model ./models/cppn --rpc-url https://sepolia.example --json',
    'imo verify out/run1 --model ./their-model --trust-pipeline',
    'imo verify out/3fa2b4c1d9e0 --offline   # no chain at hand: says what was not checked',
    'imo verify answers/3fa2b4c1d9e0-response.json --model ./models/tinylm',
  ])
}
