import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startAnvil } from '../src/devnet/startAnvil.js'
import { decryptKeystore } from '../src/signer/keystore.js'
import { cleanEnv, imoBin, runCli } from './helpers/runCli.js'

const driver = fileURLToPath(new URL('./helpers/ptyDrive.py', import.meta.url))
const ENTER = '\r'
const DOWN = '\x1b[B'
const PASSWORD = 's3cret-Pass-42'
const SERVE_PASSWORD = 'serve-Pass-43'
const OLD_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'

interface PtyResult {
  code: number
  stdout: string
  terminal: string
  steps_done: number
  error?: string
}

/** Runs `imo init` in a real pseudo-terminal (python3's pty), typing `steps`. */
function driveInit(cwd: string, steps: Array<{ expect: string; send: string }>): PtyResult {
  const env = cleanEnv({ CI: undefined, HOME: cwd, TERM: 'xterm-256color' })
  const run = spawnSync('python3', [driver], {
    input: JSON.stringify({ cmd: [process.execPath, imoBin, 'init', '--json'], cwd, env, steps, timeout: 90 }),
    encoding: 'utf8',
    timeout: 120_000,
  })
  assert.equal(run.status, 0, run.stderr)
  return JSON.parse(run.stdout) as PtyResult
}

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8)

describe('imo init', () => {
  it('refuses to run without a terminal (exit 2, one line naming the flags), writing nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imo-init-'))
    try {
      const result = await runCli(['init'], { cwd: dir })
      assert.equal(result.code, 2)
      assert.equal(result.stdout, '')
      const lines = result.stderr.trim().split('\n')
      assert.equal(
        lines[0],
        'error: imo init needs a terminal; without one, pass settings as flags or IMO_* variables, e.g. IMO_RPC_URL=URL IMO_KEYSTORE=FILE imo deploy --model models/cppn --name "Pattern Model" --symbol PAT --supply 1000000',
      )
      assert.match(
        lines[1]!,
        /^hint: every setting imo init saves is also a flag: --rpc-url, .*--mint-fee, --request-fee, --request-timeout, --attester; serve's own key: IMO_SERVE_KEYSTORE and the other IMO_SERVE_\* signer variables$/,
      )
      assert.equal(lines.length, 2)
      assert.deepEqual(readdirSync(dir), [])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('drives the wizard in a real terminal: tests the RPC URL, creates a keystore, merges .env (0600), writes imo.config.json that deploy then uses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imo-init-'))
    const anvil = await startAnvil()
    try {
      const oldEnv = `# my own settings\nOTHER_SETTING=keep-me\nIMO_PRIVATE_KEY=${OLD_KEY}\n`
      writeFileSync(join(dir, '.env'), oldEnv, { mode: 0o644 })
      const result = driveInit(dir, [
        { expect: '\\? Chain', send: DOWN },
        { expect: '❯ an RPC URL', send: ENTER },
        { expect: 'RPC URL \\(saved', send: `${anvil.rpcUrl}${ENTER}` },
        { expect: 'connected: Anvil \\(local\\) \\(chain id 31337\\)[\\s\\S]*❯ create a new encrypted keystore', send: ENTER },
        { expect: '❯ generate a new key', send: ENTER },
        { expect: '❯ in this project', send: ENTER },
        { expect: 'Keystore name', send: ENTER },
        { expect: 'Password for the new keystore', send: `short${ENTER}` },
        { expect: 'at least 8 characters', send: '\x7f'.repeat(5) + PASSWORD + ENTER },
        { expect: 'Repeat the password', send: `${PASSWORD}x${ENTER}` },
        { expect: 'the passwords differ', send: `\x7f${ENTER}` },
        // serve's own key: a second new keystore
        { expect: 'Key for imo serve[\\s\\S]*❯ create a new encrypted keystore', send: ENTER },
        { expect: '❯ generate a new key', send: ENTER },
        { expect: '❯ in this project', send: ENTER },
        { expect: 'Keystore name', send: ENTER },
        { expect: 'Password for the new keystore', send: `${SERVE_PASSWORD}${ENTER}` },
        { expect: 'Repeat the password', send: `${SERVE_PASSWORD}${ENTER}` },
        { expect: 'Model \\(a .onnx file', send: ENTER },
        { expect: 'Token name', send: `Test Pattern${ENTER}` },
        { expect: 'Token symbol', send: ENTER },
        { expect: 'Initial supply', send: ENTER },
        { expect: 'Percent of revenue', send: ENTER },
        { expect: 'Minimum seconds between snapshots', send: ENTER },
        { expect: 'Claim window', send: ENTER },
        { expect: 'Royalty', send: ENTER },
        { expect: 'Mint fee', send: `0.01${ENTER}` },
        { expect: 'Fee of a paid request', send: `0.002${ENTER}` },
        { expect: 'Seconds a paid request stays fulfillable', send: `7200${ENTER}` },
        { expect: '\\.env exists: merge', send: ENTER },
        { expect: 'Write these settings now\\?', send: ENTER },
      ])
      assert.equal(result.error, undefined, result.terminal)
      assert.equal(result.code, 0, result.terminal)
      assert.match(result.terminal, /model hash 0x[0-9a-f]{64} \(3 files\)/)
      assert.match(result.terminal, /removed \(kept in the backup\): IMO_PRIVATE_KEY/)
      assert.ok(!result.terminal.includes(PASSWORD), 'the password is never echoed')
      assert.ok(!result.terminal.includes(SERVE_PASSWORD), "serve's password is never echoed")
      assert.match(result.terminal, /the bundled model will be copied to models\/cppn/)
      const report = JSON.parse(result.stdout)
      assert.equal(report.status, 'written')
      assert.deepEqual(report.rpc, { kind: 'url', url: anvil.rpcUrl, chainId: 31337, chainName: 'Anvil (local)', local: true })
      const address = report.keystore.address as string
      assert.match(address, /^0x[0-9a-fA-F]{40}$/)
      const serveAddress = report.serveKeystore.address as string
      assert.match(serveAddress, /^0x[0-9a-fA-F]{40}$/)
      assert.notEqual(serveAddress, address)
      assert.ok(report.next.some((line: string) => line.includes(`fund ${serveAddress}`)))

      const envPath = join(dir, '.env')
      assert.equal(mode(envPath), '600')
      const env = readFileSync(envPath, 'utf8')
      assert.equal(
        env,
        `# my own settings\nOTHER_SETTING=keep-me\nIMO_RPC_URL=${anvil.rpcUrl}\nIMO_KEYSTORE=.imo/keystores/deployer.json\nIMO_SERVE_KEYSTORE=.imo/keystores/serve.json\n`,
      )
      assert.equal(readFileSync(join(dir, '.env.bak'), 'utf8'), oldEnv)
      assert.equal(mode(join(dir, '.env.bak')), '600')

      const keystorePath = join(dir, '.imo', 'keystores', 'deployer.json')
      assert.equal(mode(keystorePath), '600')
      const { privateKeyToAddress } = await import('viem/accounts')
      const key = await decryptKeystore(readFileSync(keystorePath, 'utf8'), PASSWORD, keystorePath)
      assert.equal(privateKeyToAddress(key), address)
      const serveKeystorePath = join(dir, '.imo', 'keystores', 'serve.json')
      assert.equal(mode(serveKeystorePath), '600')
      const serveKey = await decryptKeystore(readFileSync(serveKeystorePath, 'utf8'), SERVE_PASSWORD, serveKeystorePath)
      assert.equal(privateKeyToAddress(serveKey), serveAddress)
      // The bundled model was copied beside the settings, which name it there (not an absolute node_modules path).
      assert.ok(existsSync(join(dir, 'models', 'cppn', 'model.onnx')))

      const configPath = join(dir, 'imo.config.json')
      assert.equal(mode(configPath), '644')
      assert.deepEqual(JSON.parse(readFileSync(configPath, 'utf8')), {
        chainId: 31337,
        deploy: {
          model: 'models/cppn',
          name: 'Test Pattern',
          symbol: 'TEST',
          supply: '1000000',
          percentClaimable: 50,
          snapshotInterval: 60,
          claimWindow: 12,
          royaltyBps: 500,
          mintFee: '0.01',
          requestFee: '0.002',
          requestTimeout: 7200,
          attester: [address, serveAddress],
        },
        infer: { model: 'models/cppn' },
      })
      for (const file of ['.env', 'imo.config.json', '.env.bak', '.imo/keystores/deployer.json', '.imo/keystores/serve.json']) {
        const text = readFileSync(join(dir, file), 'utf8')
        for (const secret of [PASSWORD, SERVE_PASSWORD, key.slice(2), serveKey.slice(2)])
          assert.ok(!text.includes(secret), `no secret in ${file}`)
      }

      // The settings are what the other commands read: a bare `imo deploy` deploys with them.
      const { createWalletClient, http, parseEther } = await import('viem')
      const { privateKeyToAccount } = await import('viem/accounts')
      const funder = createWalletClient({
        account: privateKeyToAccount(anvil.accounts[0].privateKey),
        transport: http(anvil.rpcUrl),
      })
      await funder.sendTransaction({ to: address as `0x${string}`, value: parseEther('1'), chain: null })
      const deploy = await runCli(['deploy', '--json'], { cwd: dir, env: { IMO_KEYSTORE_PASSWORD: PASSWORD } })
      assert.equal(deploy.code, 0, deploy.stderr)
      const deployed = JSON.parse(deploy.stdout)
      assert.equal(deployed.parameters.name, 'Test Pattern')
      assert.equal(deployed.parameters.owner, address)
      assert.equal(deployed.parameters.mintFeeWei, '10000000000000000')
      assert.equal(deployed.parameters.snapshotInterval, 60)
      assert.equal(deployed.parameters.requestFeeWei, '2000000000000000')
      assert.equal(deployed.parameters.requestTimeout, 7200)
      assert.deepEqual(deployed.parameters.attesters, [address, serveAddress])
    } finally {
      await anvil.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('Ctrl-C in the middle exits 130 and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'imo-init-'))
    try {
      const result = driveInit(dir, [
        { expect: '\\? Chain', send: ENTER },
        { expect: 'Signer', send: ENTER },
        { expect: 'Key for imo serve', send: ENTER },
        { expect: 'Model \\(a .onnx file', send: '\x03' },
      ])
      assert.equal(result.error, undefined, result.terminal)
      assert.equal(result.code, 130, result.terminal)
      assert.match(result.terminal, /imo init interrupted; nothing was written/)
      assert.deepEqual(readdirSync(dir), [])
      assert.equal(existsSync(join(dir, '.env')), false)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
