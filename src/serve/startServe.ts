/**
 * The opening of `imo serve` (and of the demo's in-process serve): checks that the signer is an
 * attester (else exit 2) and that the model is the collection's (with `queue` too: serve checks the
 * workers' results against it; and that the Redis is usable), warns when the request fee does not
 * cover a fulfilment's gas at the current price, starts the metrics server when asked, and runs the
 * loop with one log line per event on stderr (JSON lines with --json).
 */
import type { Address, Hex } from 'viem'
import type { ChainContext } from '../chain/connect.js'
import type { Deployment } from '../deployment/deploymentFile.js'
import type { AigcDataMode } from '../inference/erc7007.js'
import type { InferenceSource } from './inferenceSource.js'
import type { ServeEvent, ServeSummary } from './serveEvent.js'
import type { ServeMetrics } from './serveMetrics.js'
import type { ServeStages } from './serveStages.js'

export interface StartServeOptions {
  modelPath?: string
  fromBlock?: bigint
  metricsPort?: number
  /** Output folder for each inference's files (default `out`, as infer-and-mint --prompts). */
  out?: string
  aigcDataMode?: AigcDataMode
  untilIdle?: boolean
  /** Default: one line per event on stderr. */
  log?: (event: ServeEvent) => void
  pollMs?: number
  stateRoot?: string
  /** `redis://HOST:PORT/DB`: dispatch inference to `imo worker` processes through this queue. */
  queue?: string
  /** With `queue`: the folder shared with the workers' --artifact-dir. */
  artifactDir?: string
  /** With `queue`: how often the queue's completed and failed sets are swept (default 5000 ms). */
  queueSweepMs?: number
  /** How many fulfilments keep their whole output folder (default 1000; `all`: never pruned). */
  keepOutputs?: number | 'all'
  /** With `queue`: the share of worker results serve re-executes before signing (default 0.1). */
  auditRate?: number
  /** `--http`: the paid HTTP API (src/api/startHttpApi.ts), beside the follow loop or alone. */
  http?: Omit<import('../api/startHttpApi.js').HttpApiOptions, 'modelPath' | 'stages' | 'claimsQueue' | 'log'>
  /** false (`--no-follow`): only the HTTP API runs; on-chain requests are not followed. */
  follow?: boolean
}

export interface Serving {
  /** Resolves when the loop ends (untilIdle, or after stop()). */
  done: Promise<ServeSummary>
  /** The metrics port, when serving metrics. */
  metricsPort?: number
  /** The stages an off-chain front end uses (valid until `done` settles: the source is closed then); none with --no-follow without --http. */
  stages?: ServeStages
  /** The paid API's URL, with `http`. */
  apiUrl?: string
  /** Stops the loop (what is in flight is journalled already), saves the cursor, closes the metrics server. */
  stop(): Promise<ServeSummary>
}

/**
 * Checks and starts serving.
 * @throws UsageError (2) for a zk deployment (no paid requests), a signer that is not an attester, a model that is
 *   not the collection's, no model.
 * @example
 * import { startServe } from './serve/startServe.js'
 * const serving = await startServe(ctx, deployment, { metricsPort: 9464 })
 * process.on('SIGTERM', () => serving.stop())
 */
export async function startServe(ctx: ChainContext, deployment: Deployment, options: StartServeOptions = {}): Promise<Serving> {
  const { UsageError, ImoError } = await import('../errors.js')
  const { aigcCollectionAbi } = await import('../../contracts-abi/index.js')
  const { getAddress } = await import('viem')
  const { toImoError } = await import('../chain/toImoError.js')
  const account = ctx.account
  if (!account)
    throw new ImoError('startServe needs a signer')
    // A zk collection has no requests to follow, no attesters and no request fee: refuse in plain words.
  ;(await import('../requests/refuseZkRequests.js')).refuseZkRequests(deployment)
  const collection = getAddress(deployment.aigcCollection.address) as Address
  const log = options.log ?? (await consoleLog())
  const read = (functionName: string, args: readonly unknown[] = []) =>
    ctx.publicClient
      .readContract({ address: collection, abi: aigcCollectionAbi, functionName: functionName as never, args: args as never })
      .catch((error: unknown) => {
        throw toImoError(error, { rpcUrl: ctx.rpcUrl, action: `reading ${functionName} of the collection` })
      })
  const [isAttester, feeWei] = (await Promise.all([read('isAttester', [account.address]), read('requestFee')])) as [
    boolean,
    bigint,
  ]
  if (!isAttester)
    throw new UsageError(
      `${account.address} is not an attester of the collection ${collection}: serve cannot fulfil requests with its key`,
      {
        hint: `sign with an attester key, or have the collection's owner call addAttester(${account.address})`,
      },
    )
  const { createServeMetrics, startMetricsServer } = await import('./serveMetrics.js')
  const { version } = await import('../version.js')
  const metrics = await createServeMetrics({ queue: Boolean(options.queue), build: { version, node: process.version } })
  const follow = options.follow ?? true
  // The API's calls run on the same source as chain requests (the queue's workers with --queue).
  const source = follow || options.http ? await inferenceSourceOf(deployment, options, { follow, log, metrics }) : undefined
  // One dispatcher per collection on a queue (serveLease.ts).
  const { resolve } = await import('node:path')
  const folder = resolve(options.stateRoot ?? '.imo')
  const lease =
    options.queue && follow
      ? await (await import('./serveLease.js'))
          .takeServeLease(options.queue, { chainId: ctx.chainId, collection, folder }, log)
          .catch(async (error: unknown) => {
            await source?.close()
            throw error
          })
      : undefined
  await warnIfFeeBelowGas(ctx, feeWei, log)
  // What started so far is stopped again when a later part fails (a busy port, a bad API setting).
  const release = async () => {
    await source?.close()
    await lease?.release()
  }
  const server =
    options.metricsPort !== undefined
      ? await startMetricsServer(metrics, options.metricsPort).catch(async (error: unknown) => {
          await release()
          throw error
        })
      : undefined
  const stopFacts = server
    ? (await import('./nodeFacts.js')).watchNodeFacts(ctx, {
        signer: account.address,
        collection,
        source,
        facts: metrics.facts,
        onRpcError: () => metrics.rpcErrors.inc(),
      })
    : undefined
  if (server)
    log({
      event: 'start',
      message: `metrics on http://127.0.0.1:${server.port}/metrics, health on /healthz`,
      metricsPort: server.port,
    })
  const { checkResult } = await import('./checkResult.js')
  const aigcDataMode = options.aigcDataMode ?? 'digest'
  const stages: ServeStages | undefined = source && {
    source,
    check: (item, prompt) => checkResult(item, { modelHash: deployment.modelHash as Hex, prompt, aigcDataMode }),
    ctx,
    metrics,
    log,
  }
  const api =
    options.http && stages
      ? await (await import('../api/startHttpApi.js'))
          .startHttpApi(ctx, deployment, {
            ...options.http,
            modelPath: await modelPathOf(deployment, options),
            stages,
            ...(options.queue ? { claimsQueue: options.queue } : {}),
            log: (event) => log(event),
          })
          .catch(async (error: unknown) => {
            stopFacts?.()
            await server?.close()
            await release()
            throw error
          })
      : undefined
  const { runServe } = await import('./runServe.js')
  const controller = new AbortController()
  const loop: Promise<ServeSummary> =
    source && follow
      ? runServe(ctx, deployment, {
          source,
          confirmations: ctx.tx.confirmations,
          ...(options.fromBlock !== undefined ? { fromBlock: options.fromBlock } : {}),
          ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
          ...(options.stateRoot !== undefined ? { stateRoot: options.stateRoot } : {}),
          ...(options.aigcDataMode ? { aigcDataMode: options.aigcDataMode } : {}),
          ...(options.keepOutputs !== undefined ? { keepOutputs: options.keepOutputs } : {}),
          log,
          metrics,
          untilIdle: Boolean(options.untilIdle),
          signal: controller.signal,
        })
      : apiOnly(controller.signal)
  const done = loop.finally(async () => {
    stopFacts?.()
    await api?.close()
    await server?.close()
    await release()
  })
  return {
    done,
    ...(server ? { metricsPort: server.port } : {}),
    ...(api ? { apiUrl: api.url } : {}),
    ...(stages ? { stages } : {}),
    stop: () => {
      controller.abort()
      return done
    },
  }
}

/** Where serve's inference runs: the queue's workers with --queue, else this process (the API's calls too). */
async function inferenceSourceOf(
  deployment: Deployment,
  options: StartServeOptions,
  { follow, log, metrics }: { follow: boolean; log: (event: ServeEvent) => void; metrics: ServeMetrics },
): Promise<InferenceSource> {
  return options.queue
    ? await (await import('./queueInference.js')).createQueueInference({
        url: options.queue,
        modelHash: deployment.modelHash as Hex,
        modelPath: await modelPathOf(deployment, options),
        outRoot: options.out ?? 'out',
        ...(options.aigcDataMode ? { aigcDataMode: options.aigcDataMode } : {}),
        ...(options.artifactDir ? { artifactDir: options.artifactDir } : {}),
        ...(options.auditRate !== undefined ? { auditRate: options.auditRate } : {}),
        ...(options.queueSweepMs ? { sweepIntervalMs: options.queueSweepMs } : {}),
        ...(follow ? {} : { ownJobsOnly: true }),
        log,
        metrics,
      })
    : await localSource(deployment, options)
}

/** Warns (a log line, not an error) when the request fee does not pay for a fulfilment's gas at today's price. */
async function warnIfFeeBelowGas(ctx: ChainContext, feeWei: bigint, log: (event: ServeEvent) => void): Promise<void> {
  const { FULFIL_GAS_ESTIMATE } = await import('./serveHealth.js')
  const { formatNative } = await import('../chain/format.js')
  const gasPrice = await ctx.publicClient.getGasPrice().catch(() => undefined)
  if (gasPrice !== undefined && feeWei < gasPrice * FULFIL_GAS_ESTIMATE)
    log({
      event: 'warning',
      message: `the request fee (${formatNative(feeWei, ctx.nativeSymbol)}) does not cover a fulfilment's gas at the current price (about ${formatNative(gasPrice * FULFIL_GAS_ESTIMATE, ctx.nativeSymbol)}): serving costs more than it earns`,
    })
}

/** `--no-follow`: nothing to follow; the API runs until stop(). */
function apiOnly(signal: AbortSignal): Promise<ServeSummary> {
  const summary: ServeSummary = { seen: 0, fulfilled: 0, skipped: 0, failed: 0, parked: [], nextBlock: 0n }
  return new Promise((resolve) => {
    if (signal.aborted) resolve(summary)
    signal.addEventListener('abort', () => resolve(summary), { once: true })
  })
}

/** The model serve runs (and, with --queue, checks the workers' results against): --model, else the deployment's. */
async function modelPathOf(deployment: Deployment, options: StartServeOptions): Promise<string> {
  const { UsageError } = await import('../errors.js')
  const modelPath = options.modelPath ?? deployment.model?.path
  if (!modelPath) throw new UsageError('no model to serve: pass --model PATH (the deployment records none)')
  return modelPath
}

/** The in-process source: the model at --model (or the deployment's), which must hash to the deployment's. */
async function localSource(deployment: Deployment, options: StartServeOptions) {
  const { UsageError } = await import('../errors.js')
  const modelPath = await modelPathOf(deployment, options)
  const { createLocalInference } = await import('./inferenceSource.js')
  const source = await createLocalInference({
    modelPath,
    outRoot: options.out ?? 'out',
    ...(options.aigcDataMode ? { aigcDataMode: options.aigcDataMode } : {}),
  })
  if (source.modelHash.toLowerCase() !== deployment.modelHash.toLowerCase())
    throw new UsageError(
      `the model ${modelPath} hashes to ${source.modelHash}, but the collection is bound to ${deployment.modelHash}`,
      {
        hint: "pass the deployment's model with --model PATH",
      },
    )
  return source
}

/** One line per event on stderr: JSON lines with --json, else `time  text`. */
async function consoleLog(): Promise<(event: ServeEvent) => void> {
  const { uiSettings, color } = await import('../cli/ui.js')
  const { escapeControl } = await import('../cli/escapeControl.js')
  const { redact } = await import('../util/redact.js')
  const { toJson } = await import('../cli/ui.js')
  return (event) => {
    const time = new Date().toISOString()
    if (uiSettings().json) {
      process.stderr.write(`${redact(JSON.stringify(JSON.parse(toJson({ time, ...event }))))}\n`)
      return
    }
    const loud = ['failed', 'warning', 'refused', 'rejected', 'quarantined']
    if (uiSettings().quiet && !loud.includes(event.event) && !(event.event === 'audit' && event.result === 'mismatch')) return
    const tint =
      event.event === 'failed' || event.event === 'rpc-error' || event.event === 'quarantined'
        ? color.red
        : ['skipped', 'warning', 'reorg', 'refused', 'rejected'].includes(event.event) || event.result === 'mismatch'
          ? color.yellow
          : (s: string) => s
    // A message quotes prompts, worker ids and failure texts from Redis: one escaped line, then colour.
    process.stderr.write(`${color.dim(time)} ${tint(escapeControl(redact(event.message)))}\n`)
  }
}
