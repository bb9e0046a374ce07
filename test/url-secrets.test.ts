// A URL given to imo ask (--api) may carry an API key in its path or query: whatever error quotes the
// URL, the key never reaches the output (src/util/redact.ts registerUrlSecrets).
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { runCli } from './helpers/runCli.js'

let anvil: Anvil
before(async () => {
  anvil = await startAnvil()
})
after(() => anvil?.stop())

describe('URLs that carry a key', () => {
  it('imo ask --api never prints the key of an unreachable API', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'imo-url-secret-'))
    try {
      const key = 'sk-live-0123456789abcdef'
      // Port 9 (discard) on loopback: nothing listens, the request fails at once.
      const { code, stdout, stderr } = await runCli(
        ['ask', 'hi', '--api', `http://127.0.0.1:9/v1?key=${key}`, '--rpc-url', anvil.rpcUrl, '--verbose'],
        {
          cwd,
          env: { IMO_PRIVATE_KEY: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d' },
        },
      )
      assert.notEqual(code, 0, stderr)
      assert.ok(stderr.length + stdout.length > 0)
      assert.ok(!`${stdout}${stderr}`.includes(key), `the key leaked: ${stdout}${stderr}`)
    } finally {
      rmSync(cwd, { recursive: true, force: true })
    }
  })
})
