/**
 * Chains and serve processes for the `imo serve` tests: a real anvil with a deployment of the bundled
 * model in its own working folder, paid requests sent straight from dev accounts (viem, no CLI),
 * `imo serve --json` spawned with its log lines collected, and what the chain and the journal say.
 * Everything a test asserts is counted on chain (Fulfilled events, request status), never from
 * serve's own words. Anvils and serve processes started here are stopped after the test file.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import {
  type Address,
  createPublicClient,
  createWalletClient,
  type Hex,
  http,
  type PublicClient,
  parseAbiItem,
  toHex,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { aigcCollectionAbi } from '../../contracts-abi/index.js'
import { type Anvil, startAnvil } from '../../src/devnet/startAnvil.js'
import { cleanEnv, imoBin, repoRoot, runCli } from './runCli.js'

export const CPPN = join(repoRoot, 'models', 'cppn')
export const STATUS = { none: 0, open: 1, fulfilled: 2, refunded: 3 } as const
export const fulfilledEvent = parseAbiItem('event Fulfilled(uint256 indexed requestId, uint256 indexed tokenId)')
export const requestedEvent = parseAbiItem(
  'event Requested(uint256 indexed requestId, address indexed requester, address indexed recipient, bytes32 promptHash, bytes prompt, uint256 fee, uint256 expiresAt)',
)
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export type Line = Record<string, unknown> & { event?: string; requestId?: string; message?: string }

/** One anvil, one working folder, one deployment of the bundled model. */
export interface Chain {
  anvil: Anvil
  dir: string
  client: PublicClient
  collection: Address
  fee: bigint
  rpc(method: string, params?: unknown[]): Promise<unknown>
  /** A paid request straight from dev account `index` (viem, no CLI): its id and block. */
  request(index: number, prompt: string): Promise<{ id: bigint; block: bigint; hash: Hex }>
  /** Sends the request without waiting for a receipt (automine off). */
  requestPending(index: number, prompt: string): Promise<Hex>
  status(id: bigint): Promise<number>
  /** Fulfilled events per request id, from the whole chain. */
  fulfilments(): Promise<Map<bigint, number>>
  /** Requested events (id, block) on the canonical chain. */
  requested(): Promise<Array<{ id: bigint; block: bigint }>>
  imo(args: string[], signer?: number): ReturnType<typeof runCli>
  cursor(): { nextBlock: bigint } | undefined
  cleanup(): Promise<void>
}

const chains: Chain[] = []
const children = new Set<ChildProcess>()
after(async () => {
  // A failed test leaves its serve running (maybe stopped): end it, or the runner waits for it.
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT')
      child.kill('SIGKILL')
    }
  for (const chain of chains) await chain.cleanup()
})

export async function startChain(deployExtra: string[] = [], options: { port?: number; dir?: string } = {}): Promise<Chain> {
  const anvil = await startAnvil({ dieWithParent: true, ...(options.port ? { port: options.port } : {}) })
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'imo-serve-'))
  const client = createPublicClient({ transport: http(anvil.rpcUrl), pollingInterval: 50 }) as PublicClient
  const imo = (args: string[], signer = 0) =>
    runCli([...args, '--rpc-url', anvil.rpcUrl], { cwd: dir, env: { IMO_PRIVATE_KEY: anvil.accounts[signer]!.privateKey } })
  const deployed = await imo([
    'deploy',
    '--model',
    CPPN,
    '--name',
    'R',
    '--symbol',
    'R',
    '--supply',
    '1000',
    '--request-timeout',
    '3600',
    '--json',
    ...deployExtra,
  ])
  assert.equal(deployed.code, 0, deployed.stderr)
  const deployment = JSON.parse(readFileSync(join(dir, '.imo', 'deployments', '31337', 'default.json'), 'utf8'))
  const collection = deployment.aigcCollection.address as Address
  const read = (functionName: string, args: unknown[] = []) =>
    client.readContract({ address: collection, abi: aigcCollectionAbi, functionName: functionName as never, args: args as never })
  const fee = (await read('requestFee')) as bigint
  const chainDef = {
    id: 31337,
    name: 'anvil',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [anvil.rpcUrl] } },
  } as const
  const wallets = anvil.accounts.map((account) =>
    createWalletClient({ account: privateKeyToAccount(account.privateKey), chain: chainDef, transport: http(anvil.rpcUrl) }),
  )
  const requestPending = (index: number, prompt: string) =>
    wallets[index]!.writeContract({
      address: collection,
      abi: aigcCollectionAbi,
      functionName: 'request',
      args: [toHex(new TextEncoder().encode(prompt)), anvil.accounts[index]!.address],
      value: fee,
      // A fixed limit, as serve-queue's requests use: an estimate made on the state before a concurrent
      // fulfilment or reorg can be short on the state the request is mined on (a request reverted once
      // in block 5 under a full-suite load, and its replay could not say why).
      gas: 500_000n,
    } as never)
  const cursorFile = join(dir, '.imo', 'serve', '31337', `${collection.toLowerCase()}.json`)
  const chain: Chain = {
    anvil,
    dir,
    client,
    collection,
    fee,
    rpc: (method, params = []) => client.request({ method, params } as never),
    requestPending,
    async request(index, prompt) {
      const hash = await requestPending(index, prompt)
      const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 50 })
      if (receipt.status !== 'success') {
        // Say why: the same call replayed on the state before its block.
        const tx = await client.getTransaction({ hash })
        const why = await client
          .call({
            account: tx.from,
            to: tx.to!,
            data: tx.input,
            value: tx.value,
            gas: tx.gas,
            blockNumber: receipt.blockNumber - 1n,
          })
          .then(
            () => `replays fine before its block (gas limit ${tx.gas}, used ${receipt.gasUsed})`,
            (error: Error) => error.message.split('\n').slice(0, 3).join(' '),
          )
        assert.fail(`request ${JSON.stringify(prompt)} from account ${index} reverted in block ${receipt.blockNumber}: ${why}`)
      }
      const log = receipt.logs.find((l) => l.address.toLowerCase() === collection.toLowerCase())!
      return { id: BigInt(log.topics[1]!), block: receipt.blockNumber, hash }
    },
    status: async (id) => Number(((await read('getRequest', [id])) as { status: number }).status),
    async fulfilments() {
      const logs = await client.getLogs({ address: collection, event: fulfilledEvent, fromBlock: 0n, toBlock: 'latest' })
      const counts = new Map<bigint, number>()
      for (const log of logs) counts.set(log.args.requestId!, (counts.get(log.args.requestId!) ?? 0) + 1)
      return counts
    },
    async requested() {
      const logs = await client.getLogs({ address: collection, event: requestedEvent, fromBlock: 0n, toBlock: 'latest' })
      return logs.map((log) => ({ id: log.args.requestId!, block: log.blockNumber! }))
    },
    imo,
    cursor() {
      if (!existsSync(cursorFile)) return undefined
      return { nextBlock: BigInt(JSON.parse(readFileSync(cursorFile, 'utf8')).nextBlock) }
    },
    async cleanup() {
      await anvil.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  chains.push(chain)
  return chain
}

export interface Serving {
  child: ChildProcess
  lines: Line[]
  stdout(): string
  stderr(): string
  exited: Promise<number | null>
  /** Resolves with the first log line that matches. */
  line(what: string, match: (line: Line) => boolean, timeoutMs?: number): Promise<Line>
}

/** `imo serve --json` as a child process; its JSON log lines collected (a line cut by SIGKILL is ignored). */
export function spawnServe(
  chain: Chain,
  extra: string[] = [],
  rpcUrl = chain.anvil.rpcUrl,
  env: Record<string, string | undefined> = {},
): Serving {
  const child = spawn(process.execPath, [imoBin, 'serve', '--json', '--rpc-url', rpcUrl, ...extra], {
    cwd: chain.dir,
    env: cleanEnv({ IMO_PRIVATE_KEY: chain.anvil.accounts[0]!.privateKey, ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  const lines: Line[] = []
  const waiters = new Set<() => void>()
  let out = ''
  let err = ''
  let buffer = ''
  child.stdout!.on('data', (chunk) => {
    out += chunk
  })
  child.stderr!.on('data', (chunk) => {
    err += chunk
    buffer += chunk
    const parts = buffer.split('\n')
    buffer = parts.pop()!
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part))
      } catch {
        lines.push({ raw: part })
      }
    }
    for (const waiter of waiters) waiter()
  })
  let exitCode: number | null | undefined
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      exitCode = code
      resolve(code)
      for (const waiter of waiters) waiter()
    }),
  )
  return {
    child,
    lines,
    stdout: () => out,
    stderr: () => err,
    exited,
    // Resolved from the data handler itself, so the test can act (SIGSTOP) within milliseconds of the line.
    line: (what, match, timeoutMs = 60_000) =>
      new Promise<Line>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(look)
          reject(new Error(`timed out waiting for ${what}:\n${err.slice(-3000)}`))
        }, timeoutMs)
        const look = () => {
          const found = lines.find(match)
          if (!found && exitCode === undefined) return
          clearTimeout(timer)
          waiters.delete(look)
          if (found) resolve(found)
          else reject(new Error(`serve exited (${exitCode}) before ${what}:\n${err.slice(-3000)}`))
        }
        waiters.add(look)
        look()
      }),
  }
}

export async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value !== undefined && value !== false) return value as T
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

/** Every request id 1..count fulfilled exactly once on chain, and its status Fulfilled. */
export async function assertFulfilledOnce(chain: Chain, ids: bigint[]): Promise<void> {
  const counts = await chain.fulfilments()
  for (const id of ids) {
    assert.equal(counts.get(id) ?? 0, 1, `request ${id}: Fulfilled events on chain`)
    assert.equal(await chain.status(id), STATUS.fulfilled, `request ${id}: status`)
  }
  for (const [id, count] of counts) assert.ok(ids.includes(id), `request ${id} fulfilled (${count}) but not expected`)
}

/** Whether a journal record is of the fulfilment of request `id` (step `fulfill:<collection>@<chain>:<id>:<prompt hash>:<recipient>`). */
export const fulfils = (record: Record<string, unknown>, id: bigint) =>
  new RegExp(`^fulfill:0x[0-9a-f]{40}@[0-9a-f]{16}:${id}:`).test(String(record.id))

/** The signer's journal records (serve's signer, dev account 0); a line torn by a SIGKILL is left out. */
export function journalRecords(chain: Chain): Array<Record<string, unknown>> {
  const path = join(chain.dir, '.imo', 'journal', '31337', `${chain.anvil.accounts[0]!.address.toLowerCase()}.jsonl`)
  if (!existsSync(path)) return []
  return readFileSync(path, 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        return line.trim() ? [JSON.parse(line)] : []
      } catch {
        return []
      }
    })
}
