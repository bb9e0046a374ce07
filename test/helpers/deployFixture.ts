/**
 * Shared bits of the chain tests: a temp working folder with a tiny model folder, the deploy
 * arguments, and an independent viem client to check what is on chain.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPublicClient, http, type PublicClient } from 'viem'

export function tempWorkdir(prefix = 'imo-chain-'): { dir: string; model: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const model = join(dir, 'model')
  mkdirSync(model)
  mkdirSync(join(dir, 'secrets'))
  writeFileSync(join(model, 'weights.bin'), Buffer.from('tiny model for chain tests'))
  return { dir, model, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

export const MODEL_HASH = `0x${'ab'.repeat(32)}` as const

export function deployArgs(rpcUrl: string, extra: string[] = []): string[] {
  return [
    'deploy',
    '--model-hash',
    MODEL_HASH,
    '--name',
    'Test Model',
    '--symbol',
    'TM',
    '--supply',
    '1000',
    '--rpc-url',
    rpcUrl,
    ...extra,
  ]
}

export function client(rpcUrl: string): PublicClient {
  return createPublicClient({ transport: http(rpcUrl) }) as PublicClient
}

/** Every file under `dir` except the test's own inputs (`secrets/`, `home/`), concatenated (to prove a secret appears nowhere). */
export function allFileText(dir: string): string {
  let text = ''
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name)
      if (entry.isDirectory()) {
        if (entry.name !== 'secrets' && entry.name !== 'home') walk(path)
      } else text += readFileSync(path, 'latin1')
    }
  }
  walk(dir)
  return text
}

export function journalLines(dir: string): Array<Record<string, unknown>> {
  const root = join(dir, '.imo', 'journal')
  const lines: Array<Record<string, unknown>> = []
  const walk = (folder: string) => {
    let entries: import('node:fs').Dirent[]
    try {
      entries = readdirSync(folder, { withFileTypes: true })
    } catch {
      return
    }
    for (const entry of entries) {
      const path = join(folder, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith('.jsonl'))
        for (const line of readFileSync(path, 'utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line))
    }
  }
  walk(root)
  return lines
}

/**
 * One JSON-RPC call to a test node (anvil's own methods: evm_increaseTime, evm_mine, ...).
 * @example
 * await anvilRpc(anvil.rpcUrl, 'evm_increaseTime', [61])
 */
export async function anvilRpc(rpcUrl: string, method: string, params: unknown[]): Promise<unknown> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  const body = (await response.json()) as { result?: unknown; error?: { message: string } }
  if (body.error) throw new Error(`${method}: ${body.error.message}`)
  return body.result
}
