/**
 * The chain step of `imo init`: a local devnet (`imo devnet`, nothing saved: commands find it in
 * .imo/devnet.json) or an RPC URL, tested before it is accepted.
 */
import type { InitPrompter } from './prompter.js'

export type RpcPlan = { kind: 'devnet' } | { kind: 'url'; url: string; chainId?: number; chainName?: string; local?: boolean }

/**
 * Asks which chain to use and tests a typed URL (chain id and name shown; an unreachable URL can be kept anyway).
 * @param ask - the prompter.
 * @returns the devnet, or the URL with the chain it serves.
 * @example
 * import { askRpc } from './askRpc.js'
 * const rpc = await askRpc(ask) // { kind: 'url', url: 'https://…', chainId: 11155111, chainName: 'Sepolia' }
 */
export async function askRpc(ask: InitPrompter): Promise<RpcPlan> {
  const { color, note, spinner, warn } = await import('../cli/ui.js')
  const { checkRpcUrl } = await import('./checkRpcUrl.js')
  const { displayUrl } = await import('../chain/toImoError.js')
  const kind = await ask.select('Chain', [
    { name: 'a local devnet (imo devnet): free, instant, nothing to fund', value: 'devnet' as const },
    { name: 'an RPC URL (a testnet, mainnet, or your own node)', value: 'url' as const },
  ])
  if (kind === 'devnet') {
    note('Start it with `imo devnet` in another terminal; commands in this folder then use it by default.')
    return { kind }
  }
  for (;;) {
    const url = await ask.input('RPC URL (saved in .env: URLs often hold an API key)', {
      validate: (value) => {
        try {
          return /^(https?|wss?):$/.test(new URL(value.trim()).protocol) ? true : 'an http(s) or ws(s) URL'
        } catch {
          return 'an http(s) or ws(s) URL'
        }
      },
    })
    const spin = await spinner(`connecting to ${displayUrl(url)}`)
    try {
      const found = await checkRpcUrl(url)
      spin.stop() // results as notes: a spinner's last line is hidden with --json
      note(`${color.green('✔')} connected: ${found.chainName} (chain id ${found.chainId})`)
      return { kind: 'url', url, ...found }
    } catch (error) {
      spin.stop()
      warn((error as Error).message)
      const next = await ask.select('What now?', [
        { name: 'enter another URL', value: 'retry' as const },
        { name: 'keep this URL anyway (no chain id check)', value: 'keep' as const },
      ])
      if (next === 'keep') return { kind: 'url', url }
    }
  }
}
