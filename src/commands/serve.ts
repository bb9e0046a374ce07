import { Command, Option } from 'commander'
import type { ChainOptionValues } from '../chain/connect.js'
import { withExamples } from '../cli/help.js'
import {
  addOptionGroups,
  deploymentOptions,
  dispatcherOptions,
  queueOptions,
  rpcOptions,
  signerOptions,
  txOptions,
} from '../cli/options.js'
import { mintOptions } from '../mint/options.js'

/** `imo serve`: the operator's node, fulfilling paid requests until Ctrl-C / SIGTERM. */
export function serveCommand(): Command {
  const command = new Command('serve')
    .summary("the operator's node: follow paid requests, run the model, fulfil them (until Ctrl-C)")
    .description(
      "follow the collection's Requested events (from the deployment's block, or the saved cursor, or --from-block), wait " +
        "--confirmations, run the deployment's model on each prompt and fulfil the request with a proof bound to its " +
        'recipient (pipelined, through the journal). Resumes after a crash with nothing fulfilled twice or skipped; skips ' +
        'expired or unservable requests and says why; waits out RPC failures; survives reorgs. One log line per event on ' +
        'stderr (JSON lines with --json; the summary is the one JSON document on stdout at the end). Ctrl-C / SIGTERM stop ' +
        'it cleanly (exit 0). The signer must be an attester of the collection (exit 2 otherwise); serve holds its key ' +
        'while it runs, so give it a key of its own with the IMO_SERVE_* signer variables (IMO_SERVE_KEYSTORE and ' +
        'IMO_SERVE_PASSWORD_FILE, IMO_SERVE_ACCOUNT, IMO_SERVE_PRIVATE_KEY_FILE, ...) and other commands can send ' +
        'meanwhile. With --queue it is ' +
        'the dispatcher: each request becomes a job (job id = request id) on a BullMQ queue in Redis, `imo worker` ' +
        'processes on any machine run the model, and serve (which alone holds the key) signs only what it re-derives ' +
        "itself from a worker's outputs with the same model, re-executing a share of the results (--audit-rate); a " +
        'result found wrong is refused, its worker quarantined, and the request run by serve. One dispatcher per ' +
        'collection and Redis: a second one from another folder is refused. Jobs that used up their attempts wait in ' +
        'the failed set: `imo requests --open --queue URL` lists them, `imo requests retry [ID] --queue URL` runs them ' +
        'again (--until-idle then exits 5). State under .imo/serve belongs to its chain: a cursor written on another ' +
        'chain (a re-created devnet) is set aside, and says so.',
    )
    .addOption(new Option('--from-block <N>', 'first block to scan (default: the saved cursor, else the deployment block)'))
    .addOption(
      new Option(
        '--metrics-port <PORT>',
        "serve /metrics (Prometheus; the README lists them) and /healthz (200 when the RPC, the signer's funds and, with --queue, Redis and a worker are fine) on 127.0.0.1:PORT",
      ),
    )
    .addOption(
      new Option(
        '--model <PATH>',
        "the model (default: the deployment's recorded model path); its hash must equal the deployment's (with --queue too: serve checks the workers' results against it and re-runs some)",
      ),
    )
    .addOption(
      new Option(
        '--until-idle',
        'exit 0 once every open request is served or skipped (for scripts and cron); exit 5 when a queued job waits in the failed set',
      ),
    )
    .addOption(
      new Option(
        '--keep-outputs <N|all>',
        'the newest N fulfilments keep their whole --out folder (tensors, artifact); older ones keep record.json, mint.json and metadata.json, enough to re-verify (default 1000)',
      ).env('IMO_KEEP_OUTPUTS'),
    )
    .addOption(mintOptions.out)
    .addOption(mintOptions.aigcData)
    .addOption(
      new Option(
        '--http <PORT>',
        'also serve a paid, OpenAI-compatible HTTP API on PORT (x402: each call pays --price into the IMO token; see README "Paid API")',
      ),
    )
    .addOption(new Option('--http-host <HOST>', 'address the HTTP API listens on (default 127.0.0.1)'))
    .addOption(
      new Option(
        '--price <AMOUNT>',
        'with --http: the price of one call in --currency units, e.g. 0.01 (for text: up to max_tokens)',
      ),
    )
    .addOption(
      new Option(
        '--currency <ADDRESS|SYMBOL>',
        "with --http: the EIP-3009 stablecoin calls are paid in, by address or by symbol among the token's revenue currencies (e.g. USDC)",
      ),
    )
    .addOption(
      new Option(
        '--facilitator <URL>',
        "with --http: an external x402 facilitator (default: serve settles payments itself, with serve's key)",
      ),
    )
    .addOption(new Option('--no-follow', 'with --http: serve the HTTP API only; do not follow on-chain requests'))
  addOptionGroups(command, queueOptions, dispatcherOptions, rpcOptions, signerOptions, txOptions, deploymentOptions)
  command.action(async (_options: unknown, cmd: Command) => {
    const values = cmd.opts() as ChainOptionValues & {
      fromBlock?: string
      metricsPort?: string
      model?: string
      untilIdle?: boolean
      out?: string
      aigcData?: 'digest' | 'inline'
      artifactDir?: string
      keepOutputs?: string
      auditRate?: string
      http?: string
      httpHost?: string
      price?: string
      currency?: string
      facilitator?: string
      follow?: boolean
    }
    const { parseWhole } = await import('../chain/format.js')
    const fromBlock = values.fromBlock !== undefined ? parseWhole(values.fromBlock, '--from-block') : undefined
    const metricsPort =
      values.metricsPort !== undefined
        ? Number(parseWhole(values.metricsPort, '--metrics-port', { min: 0n, max: 65_535n }))
        : undefined
    const keepOutputs =
      values.keepOutputs === undefined || values.keepOutputs === 'all'
        ? values.keepOutputs
        : Number(parseWhole(values.keepOutputs, '--keep-outputs', { min: 0n, max: 1_000_000_000n }))
    const { queueUrlFromFlags } = await import('../cli/queueUrlFromFlags.js')
    const queue = await queueUrlFromFlags(cmd) // a bad URL fails before the chain is read
    const auditRate =
      values.auditRate !== undefined ? (await import('../queue/auditSampler.js')).parseAuditRate(values.auditRate) : undefined
    const http = await httpFlags(values)
    const { connectDeployment } = await import('../cli/connectDeployment.js')
    const { startServe } = await import('../serve/startServe.js')
    const { printResult } = await import('../cli/ui.js')
    const { onInterrupt, setInterruptExitCode } = await import('../util/interrupt.js')
    const { serveSignerValues } = await import('../cli/serveSigner.js')
    const { setJournalLockHolder } = await import('../chain/journal.js')
    setJournalLockHolder('imo serve') // another command with this key is told to give serve its own
    const { ctx, deployment } = await connectDeployment(cmd, { signer: true }, serveSignerValues(cmd))
    const serving = await startServe(ctx, deployment, {
      ...(values.model ? { modelPath: values.model } : {}),
      ...(fromBlock !== undefined ? { fromBlock } : {}),
      ...(metricsPort !== undefined ? { metricsPort } : {}),
      ...(values.out ? { out: values.out } : {}),
      ...(values.aigcData ? { aigcDataMode: values.aigcData } : {}),
      ...(queue ? { queue } : {}),
      ...(values.artifactDir ? { artifactDir: values.artifactDir } : {}),
      ...(keepOutputs !== undefined ? { keepOutputs: keepOutputs as number | 'all' } : {}),
      ...(auditRate !== undefined ? { auditRate } : {}),
      untilIdle: Boolean(values.untilIdle),
      ...(http ? { http, follow: values.follow !== false } : {}),
    })
    let printed = false
    const finish = async () => {
      const summary = await serving.stop()
      if (printed) return
      printed = true
      if (values.untilIdle && summary.parked.length > 0) {
        // Idle, but not done: a request is open with its job in the failed set. Exit 0 would tell a
        // script that every request was served.
        const { NotConfirmedError } = await import('../errors.js')
        const ids = summary.parked.join(', ')
        throw new NotConfirmedError(
          `stopped with ${summary.parked.length} request${summary.parked.length === 1 ? '' : 's'} open (${ids}): ${summary.parked.length === 1 ? 'its job' : 'their jobs'} failed every attempt and ${summary.parked.length === 1 ? 'waits' : 'wait'} in the queue's failed set`,
          { hint: `imo requests retry ${summary.parked[0]} --queue URL runs a job again; then run serve again`, data: summary },
        )
      }
      printResult(
        summary,
        (s) => `served: ${s.fulfilled} fulfilled, ${s.skipped} skipped, ${s.failed} failed; cursor at block ${s.nextBlock}`,
      )
    }
    setInterruptExitCode(0)
    onInterrupt(finish)
    await serving.done
    await finish()
  })
  return withExamples(command, [
    'imo serve',
    'imo serve --confirmations 3 --metrics-port 9464 --json 2>serve.log',
    'imo serve --from-block 1200 --rpc-url https://sepolia.example --account operator',
    'imo serve --until-idle --keep-outputs 100   # cron: serve what is open, keep 100 whole output folders',
    'IMO_QUEUE_PASSWORD_FILE=/run/secrets/redis-password imo serve --queue redis://10.0.0.5:6379/0 --json 2>serve.log',
    'IMO_QUEUE=redis://10.0.0.5:6379/0 imo serve --artifact-dir /mnt/imo-artifacts --metrics-port 9464',
    'IMO_QUEUE=redis://10.0.0.5:6379/0 imo serve --audit-rate 1',
    'imo serve --http 8402 --price 0.01 --currency 0x5FbDB2315678afecb367f032d93F642f64180aa3',
    'imo serve --http 8402 --price 0.01 --currency USDC   # a revenue currency of the token, by symbol',
    'imo serve --http 8402 --http-host 0.0.0.0 --price 0.05 --currency 0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913 --no-follow',
    'IMO_QUEUE=redis://10.0.0.5:6379/0 imo serve --http 8402 --price 0.01 --currency USDC --no-follow   # one of several behind a balancer: calls run on the workers, payments claimed in Redis',
  ])
}

/** The --http flags, checked before the chain is read (a bad port or price fails at once, exit 2). */
async function httpFlags(values: {
  http?: string
  httpHost?: string
  price?: string
  currency?: string
  facilitator?: string
  follow?: boolean
}): Promise<{ port: number; host?: string; price: string; currency: string; facilitatorUrl?: string } | undefined> {
  const { UsageError } = await import('../errors.js')
  if (values.http === undefined) {
    const stray = [
      ['--http-host', values.httpHost],
      ['--price', values.price],
      ['--currency', values.currency],
      ['--facilitator', values.facilitator],
    ].find(([, value]) => value !== undefined)
    if (stray) throw new UsageError(`${stray[0]} applies only with --http PORT`)
    if (values.follow === false) throw new UsageError('--no-follow applies only with --http PORT (serve would do nothing)')
    return undefined
  }
  const { parseWhole } = await import('../chain/format.js')
  const port = Number(parseWhole(values.http, '--http', { min: 0n, max: 65_535n }))
  if (values.price === undefined) throw new UsageError('--http needs --price AMOUNT (the price of one call)')
  if (values.currency === undefined)
    throw new UsageError('--http needs --currency ADDRESS|SYMBOL (the stablecoin calls are paid in)')
  const { parseAmount } = await import('../chain/format.js')
  parseAmount(values.price, { name: '--price', decimals: 18 })
  const { parseAddress } = await import('../util/parseAddress.js')
  // A symbol is resolved against the token's revenue currencies once the chain is read (startHttpApi).
  const currency = values.currency.startsWith('0x') ? await parseAddress(values.currency, '--currency') : values.currency
  // A hosted facilitator's URL may carry an API key: never print it, whatever error quotes it.
  if (values.facilitator !== undefined) (await import('../util/redact.js')).registerUrlSecrets(values.facilitator)
  if (values.facilitator !== undefined && !/^https?:\/\/[^\s]+$/.test(values.facilitator))
    throw new UsageError(`--facilitator must be an http(s) URL, not "${values.facilitator}"`)
  return {
    port,
    ...(values.httpHost ? { host: values.httpHost } : {}),
    price: values.price,
    currency,
    ...(values.facilitator ? { facilitatorUrl: values.facilitator } : {}),
  }
}
