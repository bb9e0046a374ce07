import { Command, Option } from 'commander'
import { withExamples } from '../cli/help.js'
import {
  addOptionGroups,
  deploymentOptions,
  queueConnectionOptions,
  rpcOptions,
  signerOptions,
  txOptions,
} from '../cli/options.js'

/** `imo requests set-fee ETH` / `set-timeout SECONDS`: the owner changes the terms of new requests. */
function setTermCommand(term: 'fee' | 'timeout'): Command {
  const command = new Command(`set-${term}`)
    .summary(term === 'fee' ? 'owner: set the request fee of new requests' : 'owner: set how long new requests stay fulfillable')
    .description(
      term === 'fee'
        ? 'owner: set the fee (native currency) that new paid requests must pay; open requests keep theirs'
        : 'owner: set how many seconds new paid requests stay fulfillable before they can be refunded (1 s to a year); open requests keep theirs',
    )
    .argument(
      term === 'fee' ? '<ETH>' : '<SECONDS>',
      term === 'fee' ? 'fee in the native unit, e.g. 0.001 (0 = free)' : 'seconds',
    )
  addOptionGroups(command, rpcOptions, signerOptions, txOptions, deploymentOptions)
  command.action(async (text: string, _options: unknown, cmd: Command) => {
    const { parseAmount, parseWhole, formatNative } = await import('../chain/format.js')
    const value =
      term === 'fee'
        ? parseAmount(text, { name: 'ETH', allowZero: true })
        : parseWhole(text, 'SECONDS', { min: 1n, max: 365n * 24n * 3600n })
    const { connectDeployment } = await import('../cli/connectDeployment.js')
    const { setRequestTerm } = await import('../requests/setRequestTerms.js')
    const { printResult } = await import('../cli/ui.js')
    const { ctx, deployment } = await connectDeployment(cmd, { signer: true })
    ;(await import('../requests/refuseZkRequests.js')).refuseZkRequests(deployment)
    const result = await setRequestTerm(ctx, deployment.aigcCollection.address, term, value)
    const show = (v: bigint) => (term === 'fee' ? formatNative(v, ctx.nativeSymbol) : `${v} s`)
    // The unit in the key, as every --json amount (docs/json.md): previousWei/valueWei, previousSeconds/valueSeconds.
    const { previous, value: set, ...rest } = result
    const unit = term === 'fee' ? 'Wei' : 'Seconds'
    const data = {
      ...rest,
      [`previous${unit}`]: term === 'fee' ? previous : Number(previous),
      [`value${unit}`]: term === 'fee' ? set : Number(set),
    }
    printResult(data, () => {
      if (result.status === 'unchanged') return `The request ${term} is already ${show(set)}; nothing was sent`
      if (result.status === 'dry-run')
        return `Dry run: the request ${term} would change from ${show(previous)} to ${show(set)}; nothing was sent`
      return `Request ${term} set to ${show(set)} (was ${show(previous)}) for new requests\n  transaction  ${result.txHash}`
    })
  })
  return withExamples(
    command,
    term === 'fee' ? ['imo requests set-fee 0.002', 'imo requests set-fee 0 --json'] : ['imo requests set-timeout 7200'],
  )
}

/** `imo requests retry [REQUEST_ID] --queue URL`: failed inference jobs back to the queue. */
function retryCommand(): Command {
  const command = new Command('retry')
    .summary('run failed inference jobs of `imo serve --queue` again')
    .description(
      "move the job of REQUEST_ID (or, without it, every job) from the inference queue's failed set back to the " +
        'queue: a worker runs it again and `imo serve --queue` fulfils the request when it completes. The failed set ' +
        'is listed by `imo requests --open --queue URL` and `imo status --queue URL`. Exit 2 when REQUEST_ID has no failed job.',
    )
    .argument('[REQUEST_ID]', 'the request whose failed job to retry (default: all failed jobs)')
  addOptionGroups(command, queueConnectionOptions)
  command.action(async (id: string | undefined, _options: unknown, cmd: Command) => {
    const { InputNeededError, UsageError } = await import('../errors.js')
    const { parseWhole } = await import('../chain/format.js')
    // `--queue` after `retry` may be parsed by the parent (`imo requests` takes --queue too): queueUrlFromFlags looks there.
    const { queueUrlFromFlags } = await import('../cli/queueUrlFromFlags.js')
    const queue = await queueUrlFromFlags(cmd)
    if (!queue) throw new InputNeededError('--queue', 'queue URL', 'IMO_QUEUE')
    const requestId = id === undefined ? undefined : parseWhole(id, 'REQUEST_ID', { max: 2n ** 256n - 1n })
    const { retryFailedJobs } = await import('../queue/readQueueState.js')
    const { printResult } = await import('../cli/ui.js')
    const result = await retryFailedJobs(queue, requestId)
    if (requestId !== undefined && result.retried === 0)
      throw new UsageError(`request ${requestId} has no job in the failed set of ${result.queue}`, {
        hint: 'imo requests --open --queue URL lists the failed set',
      })
    printResult({ ...result, ...(requestId !== undefined ? { requestId: String(requestId) } : {}) }, (r) =>
      r.retried === 0
        ? `the failed set of ${r.queue} is empty; nothing to retry`
        : `${r.retried} failed job${r.retried === 1 ? '' : 's'} back in the queue of ${r.queue}`,
    )
  })
  return withExamples(command, [
    'imo requests retry 12 --queue redis://10.0.0.5:6379/0',
    'IMO_QUEUE=redis://10.0.0.5:6379/0 imo requests retry --json',
  ])
}

/** `imo requests [--open] [--mine]`: the collection's paid requests, newest first. */
export function requestsCommand(): Command {
  const command = new Command('requests')
    .summary('list paid requests (and, for the owner, set their fee and timeout)')
    .description(
      "list the collection's paid requests, newest first: id, status, fee, requester, recipient, expiry, prompt. " +
        'With --queue (the Redis of `imo serve --queue`), also the inference queue: job counts, the failed set ' +
        '(retry with `imo requests retry`) and workers that refused work. ' +
        'Subcommands set-fee and set-timeout change the terms of new requests (owner only).',
    )
    .addOption(new Option('--open', 'only open requests (not yet fulfilled or refunded)'))
    .addOption(new Option('--mine', 'only requests made by the signer (or --address)'))
    .addOption(new Option('--address <ADDRESS>', 'with --mine: this requester instead of the signer'))
    .addOption(new Option('--limit <N>', 'at most N requests, newest first (default 1000)'))
  addOptionGroups(command, queueConnectionOptions, rpcOptions, signerOptions, deploymentOptions)
  command.action(async (_options: unknown, cmd: Command) => {
    const values = cmd.opts()
    const { queueUrlFromFlags } = await import('../cli/queueUrlFromFlags.js')
    const queueUrl = await queueUrlFromFlags(cmd) // a bad URL fails before the chain is read
    const { parseWhole, formatNative } = await import('../chain/format.js')
    const limit = values.limit !== undefined ? Number(parseWhole(values.limit, '--limit', { min: 1n, max: 100_000n })) : undefined
    const { connectChain } = await import('../chain/connect.js')
    const { loadDeployment } = await import('../deployment/deploymentFile.js')
    const { resolveHolder } = await import('../revenue/resolveHolder.js')
    const { UsageError } = await import('../errors.js')
    const ctx = await connectChain(values, { signer: false }, (key) => cmd.getOptionValueSource(key))
    const requester = values.mine
      ? await resolveHolder(ctx, values, values.address, { name: '--address', sources: (key) => cmd.getOptionValueSource(key) })
      : undefined
    if (values.mine && !requester) throw new UsageError('--mine needs a signer or --address')
    const deployment = await loadDeployment(ctx, values.deployment)
    ;(await import('../requests/refuseZkRequests.js')).refuseZkRequests(deployment)
    const { listRequests } = await import('../requests/listRequests.js')
    const { renderTable } = await import('../cli/table.js')
    const { printResult } = await import('../cli/ui.js')
    const list = await listRequests(ctx, deployment.aigcCollection.address, {
      open: Boolean(values.open),
      ...(requester ? { requester } : {}),
      ...(limit ? { limit } : {}),
    })
    const fmt = (wei: bigint) => formatNative(wei, ctx.nativeSymbol)
    const queueState = queueUrl ? await (await import('../queue/readQueueState.js')).readQueueState(queueUrl) : undefined
    const { renderQueueState } = await import('../queue/readQueueState.js')
    const withQueue = (text: string) => (queueState ? `${text}\n${renderQueueState(queueState)}` : text)
    printResult(queueState ? { ...list, queue: queueState } : list, (l) =>
      withQueue(
        (() => {
          const head = `request fee ${fmt(l.terms.feeWei)}, timeout ${l.terms.timeoutSeconds} s; ${l.terms.requestCount} requests, ${fmt(l.terms.openEscrowWei)} escrowed`
          if (l.requests.length === 0)
            return `${head}\n(no requests${values.open ? ' open' : ''}${requester ? ` by ${requester}` : ''})`
          const rows = l.requests.map((r) => [
            String(r.id),
            r.expired ? 'expired' : r.status,
            fmt(r.feeWei),
            `${r.requester.slice(0, 10)}…`,
            `${r.recipient.slice(0, 10)}…`,
            new Date(r.expiresAt * 1000).toISOString().replace('.000Z', 'Z'),
            r.prompt.length > 40 ? `${r.prompt.slice(0, 39)}…` : r.prompt,
          ])
          return `${head}\n${renderTable(rows, { header: ['id', 'status', 'fee', 'requester', 'recipient', 'expires', 'prompt'], align: ['right'] })}`
        })(),
      ),
    )
  })
  command.addCommand(setTermCommand('fee'))
  command.addCommand(setTermCommand('timeout'))
  command.addCommand(retryCommand())
  return withExamples(command, [
    'imo requests --open',
    'imo requests --mine --json',
    'imo requests set-fee 0.002',
    'imo requests set-timeout 7200',
    'imo requests --open --queue redis://10.0.0.5:6379/0',
    'imo requests retry 12 --queue redis://10.0.0.5:6379/0',
  ])
}
