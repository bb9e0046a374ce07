import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generatePrivateKey, privateKeyToAddress } from 'viem/accounts'
import { foundryBinary } from '../src/devnet/foundryBinary.js'
import { type Anvil, startAnvil } from '../src/devnet/startAnvil.js'
import { encryptKeystore } from '../src/signer/keystore.js'
import { allFileText, client, deployArgs, tempWorkdir } from './helpers/deployFixture.js'
import { type CliResult, runCli } from './helpers/runCli.js'

const MNEMONIC = 'legal winner thank year wave sausage worth useful legal winner thank yellow'

describe('chain errors and signers', () => {
  let anvil: Anvil
  let work: ReturnType<typeof tempWorkdir>
  before(async () => {
    anvil = await startAnvil()
    work = tempWorkdir()
  })
  after(async () => {
    await anvil.stop()
    work.cleanup()
  })

  /** Asserts that no secret appears in the output or in any file the run left under its folder. */
  function assertNoLeak(result: CliResult, secrets: string[]): void {
    const files = allFileText(work.dir)
    for (const secret of secrets) {
      for (const form of [secret, secret.replace(/^0x/, '')]) {
        assert.ok(!result.stdout.toLowerCase().includes(form.toLowerCase()), `secret on stdout: ${result.stdout}`)
        assert.ok(!result.stderr.toLowerCase().includes(form.toLowerCase()), `secret on stderr: ${result.stderr}`)
        assert.ok(!files.toLowerCase().includes(form.toLowerCase()), 'secret in a written file')
      }
    }
  }

  it('wrong --chain-id: exit 6', async () => {
    const r = await runCli(deployArgs(anvil.rpcUrl, ['--chain-id', '1']), {
      cwd: work.dir,
      env: { IMO_PRIVATE_KEY: anvil.accounts[0].privateKey },
    })
    assert.equal(r.code, 6)
    assert.equal(r.stderr.trim(), `error: wrong chain: the node at ${anvil.rpcUrl} serves chain 31337, not 1 (--chain-id)`)
  })

  it('unreachable RPC: exit 6 naming the URL, no stack trace', async () => {
    const r = await runCli(deployArgs('http://127.0.0.1:9/', ['--dry-run']), {
      cwd: work.dir,
      env: { IMO_PRIVATE_KEY: anvil.accounts[0].privateKey },
    })
    assert.equal(r.code, 6)
    assert.match(r.stderr, /^error: cannot reach the RPC at http:\/\/127\.0\.0\.1:9\n/)
    assert.doesNotMatch(r.stderr, /\n\s+at /)
    assertNoLeak(r, [anvil.accounts[0].privateKey])
  })

  it('comma-separated --rpc-url: reads fall back past a dead node; sending needs the first', async () => {
    const fallback = tempWorkdir('imo-fallback-') // its own folder: other tests read every file of work.dir
    try {
      const env = { IMO_PRIVATE_KEY: anvil.accounts[0].privateKey }
      const deployed = await runCli(deployArgs(anvil.rpcUrl), { cwd: fallback.dir, env })
      assert.equal(deployed.code, 0, deployed.stderr)
      const holder = anvil.accounts[1].address
      const urls = `http://127.0.0.1:9,${anvil.rpcUrl}`
      const read = await runCli(['claimable', holder, '--rpc-url', urls, '--json'], { cwd: fallback.dir })
      assert.equal(read.code, 0, read.stderr)
      assert.equal(JSON.parse(read.stdout).holder, holder)
      const send = await runCli(deployArgs(urls), { cwd: fallback.dir, env })
      assert.equal(send.code, 6)
      assert.match(
        send.stderr,
        /^error: cannot reach the RPC at http:\/\/127\.0\.0\.1:9\nhint: transactions and nonces use the first --rpc-url only/,
      )
    } finally {
      fallback.cleanup()
    }
  })

  it('no RPC URL at all: exit 2 with the three ways to get one', async () => {
    const r = await runCli(['deploy', '--model-hash', `0x${'11'.repeat(32)}`, '--name', 'A', '--symbol', 'A', '--supply', '1'], {
      cwd: work.dir,
    })
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^error: no RPC URL: pass --rpc-url, set IMO_RPC_URL, or start `imo devnet`\n/)
  })

  it('insufficient funds: exit 8, nothing signed or journalled', async () => {
    const key = generatePrivateKey()
    const r = await runCli(deployArgs(anvil.rpcUrl), { cwd: work.dir, env: { IMO_PRIVATE_KEY: key } })
    assert.equal(r.code, 8, r.stderr)
    assert.match(
      r.stderr,
      /error: insufficient funds: 0x[0-9a-fA-F]{40} holds 0 ETH but the deployment needs up to .* ETH \(deploy ImoToken up to .*\); nothing was sent/,
    )
    assert.equal(await client(anvil.rpcUrl).getTransactionCount({ address: privateKeyToAddress(key) }), 0)
    assert.ok(!allFileText(work.dir).includes('"signed"'))
    assertNoLeak(r, [key])
  })

  it('no signer without a terminal: exit 2 naming the flags', async () => {
    const r = await runCli(deployArgs(anvil.rpcUrl, ['--dry-run']), { cwd: work.dir })
    assert.equal(r.code, 2)
    assert.equal(
      r.stderr.trim(),
      'error: missing signer: pass --private-key-file, --keystore, --account or --mnemonic-file or set IMO_PRIVATE_KEY (no terminal to ask on)',
    )
  })

  it('two signers of the same precedence: exit 2', async () => {
    const file = join(work.dir, 'secrets', 'k1.txt')
    writeFileSync(file, anvil.accounts[2].privateKey)
    const r = await runCli(deployArgs(anvil.rpcUrl, ['--dry-run', '--private-key-file', file, '--keystore', file]), {
      cwd: work.dir,
    })
    assert.equal(r.code, 2)
    assert.match(r.stderr, /several signers given \(--private-key-file, --keystore\): pass only one/)
  })

  describe('every signer source works and never leaks its secret', () => {
    const run = (args: string[], env: Record<string, string> = {}, home?: string) =>
      runCli(deployArgs(anvil.rpcUrl, ['--dry-run', '--json', ...args]), {
        cwd: work.dir,
        env: { ...env, ...(home ? { HOME: home } : {}) },
      })
    const deployerOf = (r: CliResult) => JSON.parse(r.stdout).parameters.owner as string

    it('IMO_PRIVATE_KEY, and a malformed one (exit 2, not echoed)', async () => {
      const ok = await run([], { IMO_PRIVATE_KEY: anvil.accounts[3].privateKey })
      assert.equal(ok.code, 0, ok.stderr)
      assert.equal(deployerOf(ok), anvil.accounts[3].address)
      assertNoLeak(ok, [anvil.accounts[3].privateKey])
      const bad = `0x${'zz'.repeat(16)}${anvil.accounts[3].privateKey.slice(34)}`
      const r = await run([], { IMO_PRIVATE_KEY: bad })
      assert.equal(r.code, 2)
      assert.equal(
        r.stderr.trim(),
        'error: the private key from IMO_PRIVATE_KEY is malformed: expected 32 bytes as 64 hex digits',
      )
      assertNoLeak(r, [bad, anvil.accounts[3].privateKey.slice(34)])
    })

    it('--private-key on the command line works with a warning; a malformed one is not echoed', async () => {
      const ok = await run(['--private-key', anvil.accounts[4].privateKey])
      assert.equal(ok.code, 0, ok.stderr)
      assert.match(ok.stderr, /warning: a private key on the command line is visible to other users/)
      assertNoLeak(ok, [anvil.accounts[4].privateKey])
      const bad = `${anvil.accounts[4].privateKey}ff`
      const r = await run(['--private-key', bad])
      assert.equal(r.code, 2)
      assert.match(r.stderr, /error: the private key from --private-key is malformed/)
      assertNoLeak(r, [bad])
    })

    it('--private-key-file', async () => {
      const file = join(work.dir, 'secrets', 'key.txt')
      writeFileSync(file, `${anvil.accounts[5].privateKey.slice(2)}\n`)
      const ok = await run(['--private-key-file', file])
      assert.equal(ok.code, 0, ok.stderr)
      assert.equal(deployerOf(ok), anvil.accounts[5].address)
      assertNoLeak(ok, [anvil.accounts[5].privateKey])
      writeFileSync(file, 'not a key but secret-ish text 12345')
      const r = await run(['--private-key-file', file])
      assert.equal(r.code, 2)
      assert.match(r.stderr, /is malformed: expected 32 bytes as 64 hex digits/)
      assertNoLeak(r, ['not a key but secret-ish text 12345'])
    })

    it('--keystore with --password-file or IMO_KEYSTORE_PASSWORD; a wrong password is exit 2', async () => {
      const keystore = join(work.dir, 'secrets', 'keystore.json')
      writeFileSync(
        keystore,
        JSON.stringify(await encryptKeystore(anvil.accounts[6].privateKey, 'correct horse 1', { n: 2 ** 12 })),
      )
      const passwordFile = join(work.dir, 'secrets', 'pw.txt')
      writeFileSync(passwordFile, 'correct horse 1\n')
      const ok = await run(['--keystore', keystore, '--password-file', passwordFile])
      assert.equal(ok.code, 0, ok.stderr)
      assert.equal(deployerOf(ok), anvil.accounts[6].address)
      assertNoLeak(ok, [anvil.accounts[6].privateKey])
      const env = await run(['--keystore', keystore], { IMO_KEYSTORE_PASSWORD: 'correct horse 1' })
      assert.equal(env.code, 0, env.stderr)
      const wrong = await run(['--keystore', keystore], { IMO_KEYSTORE_PASSWORD: 'wrong battery 2' })
      assert.equal(wrong.code, 2)
      assert.equal(wrong.stderr.trim(), `error: wrong password for keystore ${keystore} (MAC mismatch)`)
      assertNoLeak(wrong, [anvil.accounts[6].privateKey, 'wrong battery 2'])
      const missing = await run(['--keystore', keystore])
      assert.equal(missing.code, 2)
      assert.match(missing.stderr, /pass --password-file or set IMO_KEYSTORE_PASSWORD \(no terminal to ask on\)/)
    })

    it('--account NAME reads a Foundry keystore made by cast', async () => {
      const home = join(work.dir, 'home')
      mkdirSync(home)
      const cast = spawnSync(
        foundryBinary('cast'),
        ['wallet', 'import', 'deployer', '--private-key', anvil.accounts[7].privateKey, '--unsafe-password', 'foundry pw 7'],
        { env: { ...process.env, HOME: home }, encoding: 'utf8' },
      )
      assert.equal(cast.status, 0, cast.stderr)
      const passwordFile = join(work.dir, 'secrets', 'pw7.txt')
      writeFileSync(passwordFile, 'foundry pw 7')
      const ok = await run(['--account', 'deployer', '--password-file', passwordFile], {}, home)
      assert.equal(ok.code, 0, ok.stderr)
      assert.equal(deployerOf(ok), anvil.accounts[7].address)
      assertNoLeak(ok, [anvil.accounts[7].privateKey, 'foundry pw 7'])
      const wrong = await run(['--account', 'deployer'], { IMO_KEYSTORE_PASSWORD: 'not the pw 7' }, home)
      assert.equal(wrong.code, 2)
      assert.match(wrong.stderr, /wrong password for keystore .*\.foundry\/keystores\/deployer/)
      assertNoLeak(wrong, [anvil.accounts[7].privateKey, 'not the pw 7'])
      const none = await run(['--account', 'nobody', '--password-file', passwordFile], {}, home)
      assert.equal(none.code, 2)
      assert.match(none.stderr, /no Foundry keystore named "nobody"/)
    })

    it('--mnemonic-file with --mnemonic-index; a bad checksum is exit 2, not echoed', async () => {
      const file = join(work.dir, 'secrets', 'mnemonic.txt')
      writeFileSync(file, `${MNEMONIC}\n`)
      const { mnemonicToAccount } = await import('viem/accounts')
      const expected = mnemonicToAccount(MNEMONIC, { addressIndex: 2 }).address
      const ok = await run(['--mnemonic-file', file, '--mnemonic-index', '2'])
      assert.equal(ok.code, 0, ok.stderr)
      assert.equal(deployerOf(ok), expected)
      assertNoLeak(ok, [MNEMONIC])
      const broken = MNEMONIC.replace(/yellow$/, 'wrong')
      writeFileSync(file, broken)
      const r = await run(['--mnemonic-file', file])
      assert.equal(r.code, 2)
      assert.equal(r.stderr.trim(), `error: the mnemonic in ${file} has a bad checksum`)
      assertNoLeak(r, [broken])
    })

    it('a real deployment leaves no key in the journal or deployment file', async () => {
      const key = anvil.accounts[8].privateKey
      const r = await runCli(deployArgs(anvil.rpcUrl, ['--deployment', join(work.dir, 'leak.json')]), {
        cwd: work.dir,
        env: { IMO_PRIVATE_KEY: key },
      })
      assert.equal(r.code, 0, r.stderr)
      assert.ok(allFileText(work.dir).includes('"signed"'))
      assertNoLeak(r, [key])
    })
  })
})
