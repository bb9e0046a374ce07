/**
 * Starts a local anvil node from the `@foundry-rs/anvil` npm package on a free 127.0.0.1 port.
 * Used by `imo devnet`, `imo demo`, and every test that needs a real chain.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { ImoError } from '../errors.js'
import { foundryBinary } from './foundryBinary.js'

/** Anvil's well-known development accounts (public test mnemonic "test test ... junk"); never use them for real funds. */
export const ANVIL_DEV_ACCOUNTS = [
  {
    address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
    privateKey: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  },
  {
    address: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    privateKey: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  },
  {
    address: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
    privateKey: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  },
  {
    address: '0x90F79bf6EB2c4f870365E785982E1f101E93b906',
    privateKey: '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  },
  {
    address: '0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65',
    privateKey: '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
  },
  {
    address: '0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc',
    privateKey: '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
  },
  {
    address: '0x976EA74026E726554dB657fA54763abd0C3a0aa9',
    privateKey: '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e',
  },
  {
    address: '0x14dC79964da2C08b23698B3D3cc7Ca32193d9955',
    privateKey: '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356',
  },
  {
    address: '0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f',
    privateKey: '0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97',
  },
  {
    address: '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720',
    privateKey: '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6',
  },
] as const satisfies ReadonlyArray<{ address: `0x${string}`; privateKey: `0x${string}` }>

export interface StartAnvilOptions {
  /** TCP port; default: a free one chosen by the OS. */
  port?: number
  /** Seconds between blocks; default: a block per transaction (automine). */
  blockTime?: number
  /** Disable mining altogether (transactions stay pending; tests of waits). */
  noMining?: boolean
  /** Chain id (default 31337). */
  chainId?: number
  /** Balance of each dev account in ETH (anvil default 10000). */
  balance?: number
  /** Forward anvil's own log to this process's stderr (default: silent). */
  silent?: boolean
  /** Extra command-line arguments for anvil. */
  args?: string[]
  /**
   * Stop anvil when this process dies, even by SIGKILL (no handler runs then): a watchdog child
   * holds a pipe from this process and kills anvil when the pipe closes.
   */
  dieWithParent?: boolean
}

export interface Anvil {
  rpcUrl: string
  port: number
  pid: number
  chainId: number
  /** The funded development accounts (anvil's public well-known keys: development only). */
  accounts: typeof ANVIL_DEV_ACCOUNTS
  /** Stops the node (SIGTERM, then SIGKILL after 2 s); resolves when the process is gone. */
  stop(): Promise<void>
  /** The child process (for tests that need to watch it). */
  process: ChildProcess
}

/**
 * Path of the native anvil binary (see foundryBinary).
 * @returns the absolute path of an executable anvil.
 * @example
 * import { anvilBinary } from './startAnvil.js'
 * anvilBinary() // '/…/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil'
 */
export function anvilBinary(): string {
  return foundryBinary('anvil')
}

/**
 * Starts anvil on 127.0.0.1 and resolves once it listens.
 * @param options - port, block time, mining, chain id.
 * @returns the RPC URL, port, dev accounts and a stop() function.
 * @example
 * import { startAnvil } from './devnet/startAnvil.js'
 * const anvil = await startAnvil()
 * console.log(anvil.rpcUrl) // 'http://127.0.0.1:40123'
 * await anvil.stop()
 */
export async function startAnvil(options: StartAnvilOptions = {}): Promise<Anvil> {
  const chainId = options.chainId ?? 31337
  const args = ['--host', '127.0.0.1', '--port', String(options.port ?? 0), '--chain-id', String(chainId)]
  if (options.blockTime !== undefined) args.push('--block-time', String(options.blockTime))
  if (options.noMining) args.push('--no-mining')
  if (options.balance !== undefined) args.push('--balance', String(options.balance))
  args.push(...(options.args ?? []))
  const child = spawn(anvilBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new ImoError(`anvil did not start within 20 s: ${output.slice(-500)}`))
    }, 20_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /Listening on [\d.]+:(\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(new ImoError(`could not start anvil: ${error.message}`, { cause: error }))
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new ImoError(`anvil exited with code ${code} before listening: ${output.trim().split('\n').slice(-3).join(' ')}`))
    })
  })
  child.removeAllListeners('exit')
  child.stdout?.removeAllListeners('data')
  child.stderr?.removeAllListeners('data')
  if (options.silent === false) {
    child.stdout?.pipe(process.stderr)
    child.stderr?.pipe(process.stderr)
  } else {
    child.stdout?.resume()
    child.stderr?.resume()
  }
  const watchdog = options.dieWithParent && child.pid ? startWatchdog(child.pid) : undefined
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
  // anvil gone (stopped or crashed): the watchdog must not outlive it (nor kill a reused pid).
  void exited.then(() => watchdog?.kill('SIGKILL'))
  let stopping: Promise<void> | undefined
  return {
    rpcUrl: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? 0,
    chainId,
    accounts: ANVIL_DEV_ACCOUNTS,
    process: child,
    stop() {
      stopping ??= (async () => {
        watchdog?.kill('SIGKILL')
        if (child.exitCode !== null || child.signalCode !== null) return
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000)
        await exited
        clearTimeout(timer)
      })()
      return stopping
    },
  }
}

/**
 * A small process that reads a pipe from this one and, when the pipe closes (this process exited or
 * was killed, even by SIGKILL), terminates `pid`. It is unref'd so it never keeps this process alive.
 */
function startWatchdog(pid: number): ChildProcess {
  const script =
    "process.stdin.on('data', () => {}); process.stdin.on('close', () => { try { process.kill(Number(process.argv[1]), 'SIGTERM') } catch {} process.exit(0) })"
  const watchdog =
    process.platform === 'win32'
      ? spawn(process.execPath, ['-e', script, String(pid)], { stdio: ['pipe', 'ignore', 'ignore'] })
      : spawn('/bin/sh', ['-c', 'cat >/dev/null; kill -TERM "$0" 2>/dev/null', String(pid)], {
          stdio: ['pipe', 'ignore', 'ignore'],
        })
  watchdog.on('error', () => {}) // no watchdog (no /bin/sh): the node still stops on Ctrl-C
  watchdog.unref()
  ;(watchdog.stdin as unknown as { unref?(): void } | null)?.unref?.()
  return watchdog
}
