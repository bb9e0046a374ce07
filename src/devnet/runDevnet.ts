/**
 * `imo devnet` behind its command file: starts anvil, deploys the test USDC (src/devnet/deployTestUsdc.ts)
 * and funds the dev accounts with it, records `.imo/devnet.json` while it runs, and
 * stops cleanly on Ctrl-C (exit 0), removing the file.
 */
import { parseWhole } from '../chain/format.js'
import { ImoError, UsageError } from '../errors.js'
import { isInterrupting, onInterrupt, setInterruptExitCode } from '../util/interrupt.js'
import type { TestUsdcInfo } from './deployTestUsdc.js'
import { readDevnetFile, removeDevnetFile, writeDevnetFile } from './devnetFile.js'
import { startAnvil } from './startAnvil.js'

export interface DevnetOptionValues {
  port?: string
  blockTime?: string
}

/**
 * Starts the devnet and calls `ready` with the data to print; resolves only if anvil dies (as an error).
 * @param values - port and block time flags.
 * @param ready - receives the printable data once the node listens.
 * @example
 * await runDevnet({ port: '8545' }, (data) => printResult(data, render))
 */
export async function runDevnet(
  values: DevnetOptionValues,
  ready: (data: {
    rpcUrl: string
    chainId: number
    pid: number
    accounts: ReadonlyArray<{ address: string; privateKey: string }>
    testUsdc: TestUsdcInfo
  }) => void,
): Promise<never> {
  const port = values.port === undefined ? undefined : Number(parseWhole(values.port, '--port', { min: 1n, max: 65_535n }))
  const blockTime =
    values.blockTime === undefined ? undefined : Number(parseWhole(values.blockTime, '--block-time', { min: 1n, max: 86_400n }))
  // One devnet per folder: a second one would take over .imo/devnet.json and strand the first (whose
  // anvil outlives an imo that was killed with SIGKILL, state and all).
  const running = readDevnetFile()
  if (running)
    throw new UsageError(`a devnet already runs for this folder at ${running.rpcUrl} (pid ${running.pid})`, {
      hint: `other commands use it as it is; to start afresh, stop it with \`kill ${running.pid}\``,
    })
  // dieWithParent: an imo killed with SIGKILL (no handler runs) must not leave its anvil running.
  const anvil = await startAnvil({
    ...(port !== undefined ? { port } : {}),
    ...(blockTime !== undefined ? { blockTime } : {}),
    dieWithParent: true,
  })
  setInterruptExitCode(0)
  onInterrupt(async () => {
    removeDevnetFile(anvil.pid)
    await anvil.stop()
  })
  const { deployTestUsdc } = await import('./deployTestUsdc.js')
  const testUsdc = await deployTestUsdc(
    anvil.rpcUrl,
    anvil.accounts.map((a) => a.address as `0x${string}`),
  )
  writeDevnetFile({
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
    pid: anvil.pid,
    startedAt: new Date().toISOString(),
    testUsdc: testUsdc.address,
  })
  ready({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, pid: anvil.pid, accounts: anvil.accounts, testUsdc })
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    anvil.process.once('exit', (code, signal) => resolve({ code, signal })),
  )
  // Ctrl-C reaches anvil and imo together (one process group), and imo's own handler stops anvil on
  // SIGTERM: either way this is the normal end, which src/cli.ts completes (exit 0), not an error.
  for (let waited = 0; waited < 1000 && !isInterrupting(); waited += 50) await new Promise((r) => setTimeout(r, 50))
  if (isInterrupting()) await new Promise(() => {})
  removeDevnetFile(anvil.pid)
  throw new ImoError(`anvil stopped unexpectedly (${exit.signal ?? `exit code ${exit.code}`})`)
}
