/**
 * What the `imo serve --queue` test files share: one real anvil per file, deployments in their own
 * folders, requests sent straight from test accounts, spawned `imo worker` / `imo serve --queue`
 * processes, and "exactly once" counted on chain (Fulfilled events per request).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before } from 'node:test'
import { type Address, createPublicClient, createWalletClient, http, type PublicClient, parseAbiItem, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { aigcCollectionAbi, testUsdcAbi, testUsdcBytecode } from '../../contracts-abi/index.js'
import { type Anvil, startAnvil } from '../../src/devnet/startAnvil.js'
import { repoRoot, runCli } from './runCli.js'
import { type SpawnedImo, spawnImo } from './spawnImo.js'
import type { TestRedis } from './startRedis.js'

export const CPPN = join(repoRoot, 'models', 'cppn')
export const FEE = 1_000_000_000_000_000n
export let anvil: Anvil
export let client: PublicClient
export let root: string

export interface Deployed {
  dir: string
  collection: Address
  /** The anvil account that deployed it (owner and attester: serve signs with it). */
  signer: number
}

export const key = (index: number) => anvil.accounts[index]!.privateKey as `0x${string}`
export const imo = (dir: string, args: string[], env: Record<string, string | undefined> = {}) =>
  runCli([...args, '--rpc-url', anvil.rpcUrl], { cwd: dir, env: { IMO_PRIVATE_KEY: key(0), ...env } })

/** The environment of a command signed by the deployment's own account. */
export const signedBy = (d: Deployed) => ({ IMO_PRIVATE_KEY: key(d.signer) })

/**
 * A deployment of `model` in its own working folder (own .imo: journal, cursor, deployment file), by
 * its own account (each folder's journal owns its signer's nonces).
 */
export async function deploy(model: string, signer: number): Promise<Deployed> {
  const dir = mkdtempSync(join(root, 'deploy-'))
  const args = ['deploy', '--model', model, '--name', 'Q', '--symbol', 'Q', '--supply', '1000', '--request-timeout', '3600']
  const result = await imo(dir, [...args, '--json'], { IMO_PRIVATE_KEY: key(signer) })
  assert.equal(result.code, 0, result.stderr)
  const file = JSON.parse(readFileSync(join(dir, '.imo', 'deployments', '31337', 'default.json'), 'utf8'))
  return { dir, collection: file.aigcCollection.address, signer }
}

/** Sends `count` requests from accounts 1..3 (round robin, pipelined per account); their ids. */
export async function request(collection: Address, prompts: string[]): Promise<bigint[]> {
  const senders = [1, 2, 3].map((i) =>
    createWalletClient({ account: privateKeyToAccount(key(i)), transport: http(anvil.rpcUrl) }),
  )
  const nonces = await Promise.all(senders.map((s) => client.getTransactionCount({ address: s.account.address })))
  const hashes = await Promise.all(
    prompts.map((prompt, i) => {
      const sender = senders[i % 3]!
      return sender.writeContract({
        address: collection,
        abi: aigcCollectionAbi,
        functionName: 'request',
        args: [toHex(new TextEncoder().encode(prompt)), anvil.accounts[4]!.address],
        value: FEE,
        nonce: nonces[i % 3]! + Math.floor(i / 3),
        gas: 500_000n,
        chain: null,
      } as never)
    }),
  )
  const ids: bigint[] = []
  for (const hash of hashes) {
    const receipt = await client.waitForTransactionReceipt({ hash })
    assert.equal(receipt.status, 'success')
    const log = receipt.logs.find((l) => l.address.toLowerCase() === collection.toLowerCase())!
    ids.push(BigInt(log.topics[1]!))
  }
  return ids
}

/** Deploys a TestUsdc (an EIP-3009 "USDC") from account 5, minting 1000 USDC to each of `holders`; its address. */
export async function deployTestUsdc(holders: number[] = []): Promise<Address> {
  const owner = createWalletClient({ account: privateKeyToAccount(key(5)), transport: http(anvil.rpcUrl) })
  const hash = await owner.deployContract({ abi: testUsdcAbi, bytecode: testUsdcBytecode, chain: null })
  const usdc = (await client.waitForTransactionReceipt({ hash })).contractAddress!
  for (const holder of holders)
    await client.waitForTransactionReceipt({
      hash: await owner.writeContract({
        address: usdc,
        abi: testUsdcAbi,
        functionName: 'mint',
        args: [anvil.accounts[holder]!.address, 1_000_000_000n],
        chain: null,
      }),
    })
  return usdc
}

export const fulfilledEvent = parseAbiItem('event Fulfilled(uint256 indexed requestId, uint256 indexed tokenId)')
/** Fulfilled events on chain per request id. */
export async function fulfilments(collection: Address): Promise<Map<bigint, number>> {
  const logs = await client.getLogs({ address: collection, event: fulfilledEvent, fromBlock: 0n })
  const counts = new Map<bigint, number>()
  for (const log of logs) counts.set(log.args.requestId!, (counts.get(log.args.requestId!) ?? 0) + 1)
  return counts
}

export async function until<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value !== undefined && value !== false) return value as T
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

export const allFulfilledOnce = async (collection: Address, ids: bigint[]) => {
  const counts = await fulfilments(collection)
  return ids.every((id) => counts.get(id) === 1)
}
/**
 * Waits until every request is fulfilled once on chain; on timeout the error names the requests that
 * are not, with what the dispatcher said of them and of the RPC (a CI run only keeps the message).
 */
export const untilAllFulfilled = async (dispatcher: SpawnedImo, collection: Address, ids: bigint[], timeoutMs: number) => {
  try {
    await until(`all ${ids.length} fulfilled`, () => allFulfilledOnce(collection, ids), timeoutMs)
  } catch (error) {
    const counts = await fulfilments(collection)
    const missing = ids.filter((id) => counts.get(id) !== 1)
    const about = dispatcher.lines
      .filter(
        (l) =>
          missing.some((id) => l.requestId === String(id)) || ['rpc-error', 'retry', 'queue', 'reorg'].includes(String(l.event)),
      )
      .map((l) => `${l.event}: ${l.message}`)
    throw new Error(
      `${(error as Error).message}: ${missing.map((id) => `#${id} x${counts.get(id) ?? 0}`).join(', ')}; the dispatcher said: ${about.slice(-30).join(' | ')}`,
    )
  }
}
export const assertExactlyOnce = async (collection: Address, ids: bigint[]) => {
  const counts = await fulfilments(collection)
  for (const id of ids) assert.equal(counts.get(id), 1, `request ${id} fulfilled ${counts.get(id) ?? 0} times`)
  for (const id of ids) {
    const request = (await client.readContract({
      address: collection,
      abi: aigcCollectionAbi,
      functionName: 'getRequest',
      args: [id],
    })) as { status: number }
    assert.equal(request.status, 2, `request ${id} is fulfilled`)
  }
}

export const worker = (url: string, args: string[] = ['--model', CPPN], env: Record<string, string | undefined> = {}) =>
  spawnImo(['worker', '--queue', url, ...args], { readyEvent: 'ready', env })
export const serve = (d: Deployed, url: string, extra: string[] = []) =>
  spawnImo(['serve', '--queue', url, '--rpc-url', anvil.rpcUrl, ...extra], {
    cwd: d.dir,
    env: { IMO_PRIVATE_KEY: key(d.signer) },
    readyEvent: 'start',
  })
export const database = (redis: TestRedis, db: number) => redis.url.replace(/\/0$/, `/${db}`)
export const said = (s: SpawnedImo, event: string) => s.lines.filter((l) => l.event === event).map((l) => String(l.message))

/** Starts one anvil and a scratch folder for the calling test file (its before/after hooks). */
export function useServeQueueChain(): void {
  before(async () => {
    anvil = await startAnvil()
    client = createPublicClient({ transport: http(anvil.rpcUrl) }) as PublicClient
    root = mkdtempSync(join(tmpdir(), 'imo-serve-queue-'))
  })
  after(async () => {
    await anvil?.stop()
    rmSync(root, { recursive: true, force: true })
  })
}
