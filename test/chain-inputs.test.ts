/**
 * Bad input to the transaction engine is a one-line error with exit 2, never exit 1 (issue 21 item 18):
 * a damaged journal line (named by file and line, saying what to do), a FIFO where the journal is, and
 * a ws:// URL whose server is no WebSocket endpoint; a ws:// URL of a real node works.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { client, deployArgs, tempWorkdir } from './helpers/deployFixture.js'
import { type CliResult, runCli } from './helpers/runCli.js'

function oneLine(result: CliResult, code: number, message: RegExp): void {
  assert.equal(result.code, code, result.stderr)
  const lines = result.stderr.trimEnd().split('\n')
  assert.match(lines[0]!, message)
  assert.ok(lines.length === 1 || (lines.length === 2 && lines[1]!.startsWith('hint: ')), result.stderr)
}

describe('bad input to the engine', () => {
  let anvil: Anvil
  before(async () => {
    anvil = await startAnvil()
  })
  after(async () => {
    await anvil.stop()
  })

  it('a damaged journal line: exit 2 naming the file and the line, nothing sent; a FIFO as the journal: exit 2 at once', async () => {
    const work = tempWorkdir()
    const account = anvil.accounts[1]!
    const env = { IMO_PRIVATE_KEY: account.privateKey }
    try {
      assert.equal((await runCli(deployArgs(anvil.rpcUrl), { cwd: work.dir, env })).code, 0)
      const folder = join(work.dir, '.imo', 'journal', '31337')
      const path = join(folder, readdirSync(folder).find((name) => name.endsWith('.jsonl'))!)
      const lines = readFileSync(path, 'utf8').split('\n')
      lines[2] = 'this line was edited by hand'
      writeFileSync(path, lines.join('\n'))
      rmSync(join(work.dir, '.imo', 'deployments'), { recursive: true })
      const damaged = await runCli(deployArgs(anvil.rpcUrl), { cwd: work.dir, env })
      oneLine(
        damaged,
        2,
        new RegExp(`^error: the journal ${path} is damaged at line 3: it is not a journal record; nothing was sent$`),
      )
      assert.match(
        damaged.stderr,
        /\nhint: restore the file from a backup, or delete line 3 if you know which transaction it recorded/,
      )
      assert.equal(await client(anvil.rpcUrl).getTransactionCount({ address: account.address }), 2)
      rmSync(path)
      execFileSync('mkfifo', [path])
      const fifo = await runCli(deployArgs(anvil.rpcUrl), { cwd: work.dir, env, timeoutMs: 30_000 })
      oneLine(fifo, 2, /^error: cannot read the journal .*\.jsonl: it is a FIFO \(named pipe\), not a regular file$/)
    } finally {
      work.cleanup()
    }
  })

  it('--rpc-url ws://HOST:PORT/x of a server that is no WebSocket endpoint: exit 2; of a real node: it works', async () => {
    const server = createServer((_req, res) => res.writeHead(404).end('not found'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const work = tempWorkdir()
    try {
      const port = (server.address() as AddressInfo).port
      const refused = await runCli(deployArgs(`ws://127.0.0.1:${port}/x`, ['--dry-run']), {
        cwd: work.dir,
        env: { IMO_PRIVATE_KEY: anvil.accounts[2]!.privateKey },
      })
      oneLine(
        refused,
        2,
        new RegExp(
          `^error: the RPC URL ws://127\\.0\\.0\\.1:${port} \\(path left out\\) is not a WebSocket endpoint: the server answered HTTP 404 to the upgrade$`,
        ),
      )
      const ws = await runCli(deployArgs(anvil.rpcUrl.replace(/^http/, 'ws'), ['--json']), {
        cwd: work.dir,
        env: { IMO_PRIVATE_KEY: anvil.accounts[2]!.privateKey },
      })
      assert.equal(ws.code, 0, ws.stderr)
      assert.ok(JSON.parse(ws.stdout).imoToken.address)
    } finally {
      server.close()
      work.cleanup()
    }
  })
})
